// Package catalog says which extension images exist under a registry
// prefix and which of their versions fit a PostgreSQL server, and renders
// that as a CloudNativePG ImageCatalog.
//
// # How do I use this package?
//
// List the repositories under a prefix with the versions that fit a
// server, newest first:
//
//	target := resolve.Target{PG: labels.PG{Major: 18}, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}}
//	l, err := catalog.List(ctx, "registry.example.com/extensions", target, catalog.Options{})
//	for _, r := range l.Repositories {
//		if v, ok := r.Newest(); ok {
//			fmt.Println(r.Name, v.Version, v.Reference)
//		}
//	}
//
// Each version is an [extension.Version]: the tag, the index digest, the
// manifest chosen for the target and its labels, and with
// [extension.ListVersionsOptions].Rejected the versions that do not fit,
// each with why. To list one repository, use [extension.ListVersions].
//
// # Where the list of repositories comes from
//
// [Open] asks the registry's /v2/_catalog for the repositories under the
// prefix. The CNCF distribution registry answers it; many hosted
// registries do not, or not to every client: for them, [Publish] writes
// a catalog artifact at PREFIX/catalog:latest, and Open reads it
// whenever /v2/_catalog answers 401, 403, 404, 405 or 501, or lists
// nothing under the prefix.
// [Options].From forces one source.
//
// From the registry, [Catalog.List] lists each repository's versions with
// [extension.ListVersions] (the tags, then one resolve per version, 2 GETs
// for an annotated index). From the artifact it makes no request at all:
// the document holds, per repository, the version tags, what each names,
// and per image its platform and the labels the compatibility check reads,
// and [resolve.Check] decides from them.
//
// # The catalog artifact
//
// An OCI 1.1 artifact: a manifest of artifactType [ArtifactType] with the
// empty config and one layer of [DocumentMediaType], the [Document] as
// JSON. [Build] makes the document, [Publish] pushes it; the tag is
// written with the manifest, last. Copying PREFIX/catalog with the
// repositories (extension.CopyAll, skopeo, oras) mirrors it: repository
// names in the document are relative to the prefix.
//
// # Bounds and verification
//
// Every number a registry controls is bounded, and nothing it sends is
// trusted:
//
//   - /v2/_catalog: at most [Options].MaxPages pages of PageSize names
//     (10 of 1000), [Options].MaxRepositories repositories under the
//     prefix (1000); the listing starts at the prefix and stops past it,
//     registries listing names in lexical order.
//   - Per repository: as [extension.ListVersions] bounds it (10 pages of
//     1000 tags, the 10 newest versions resolved).
//   - The artifact: its manifest is digest- and size-verified and at
//     most 4 MiB; its document is refused from its descriptor when over
//     [Options].MaxDocumentSize (16 MiB), then read through a verifying
//     reader and parsed by [ParseDocument], which decodes token by token,
//     checks each element as it is read (an unknown or duplicate member,
//     a value of the wrong type or out of bounds is an error naming its
//     path) and bounds every list ([MaxRepositories], [MaxTags],
//     [MaxManifests], [MaxLabels]), so memory follows the bytes read.
//
// A repository that cannot be listed carries its error in the listing;
// a cancelled context ends the whole listing.
//
// # CloudNativePG image catalogs
//
// CloudNativePG 1.29 image catalogs (ImageCatalog, ClusterImageCatalog,
// apiVersion postgresql.cnpg.io/v1) list, per PostgreSQL major, the
// PostgreSQL image and the extension images a Cluster may mount by name.
// [NewImageCatalog] renders one listing per major as such a catalog, with
// digest-pinned references and the directories each image needs
// (extension_control_path, dynamic_library_path, ld_library_path,
// bin_path), taken from its labels ([extension.ImageDirs]); the PostgreSQL
// image of each major is the caller's ([ImageCatalogOptions].PostgresImages).
// [ImageCatalog.YAML] writes it for kubectl apply.
package catalog
