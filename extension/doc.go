// Package extension is the lifecycle SDK for PostgreSQL extensions shipped
// as OCI images: it packs an installed extension tree into images and
// pushes them to any OCI registry or image layout directory.
//
// # How do I use this package?
//
// Build the extension as usual, install it into a staging directory
// (`make install DESTDIR=/tmp/stage`), then pack that tree once per
// platform and PostgreSQL major and group the images in one index:
//
//	store, _ := oci.New("/tmp/oci")            // or remote.NewRepository("ghcr.io/acme/postgis")
//	img, err := extension.Pack(ctx, store, "/tmp/stage", extension.Build{
//		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
//		Metadata: labels.Metadata{PG: labels.PG{Major: 18}, Libc: labels.Libc{Family: "glibc", Version: "2.36"}},
//	}, extension.PackOptions{})
//	idx, err := extension.PushIndex(ctx, store, []extension.Image{img /*, the arm64 one ... */}, "3.5.2")
//
// [Pack] reads the tree with [layout.Discover] (a DESTDIR tree or an image
// root layout), maps it onto the CloudNativePG-compatible image root
// (share/extension, lib, system, licenses), rewrites '$libdir/' module
// references so the image works under dynamic_library_path, and derives the
// labels (extensions, default versions, requires, preload hints) from the
// control files. What the tree cannot say (platform, libc, distro, exact
// PostgreSQL version, base image, compiler) comes from [Build], or from this
// machine with [PackOptions.DetectHost]. The labels are validated with
// [labels.Metadata.Validate] before anything is written.
//
// # Reproducible images
//
// A layer is a tar with entries sorted by path, every mtime set to
// SOURCE_DATE_EPOCH (or the Unix epoch, or [PackOptions.ModTime]), uid and
// gid 0 with no user or group names, and permissions normalised to 0755 or
// 0644. Compression uses fixed settings (zstd by default, gzip on request),
// so packing the same tree twice gives the same digests, and [PushIndex]
// orders its entries by PostgreSQL major, platform and digest whatever
// order the images came in.
//
// # Where labels go
//
// Every label is written to the manifest annotations and to the config's
// labels; the index entry of each manifest carries its platform and the
// selection subset ([labels.Metadata.SelectionAnnotations]) so that a
// resolver picks a manifest from the index alone. See labels/SPEC.md.
//
// # Streaming
//
// The layer streams tar -> diff ID hash -> compressor -> blob hash into a
// temporary file (never into memory), because a registry push needs the
// digest and size before the first byte. The file is removed when the
// push ends, whether it succeeded or not.
//
// # Inspecting
//
// [Inspect] reads what a reference names: the index, every manifest under
// it (platform, size, digest, layers) with its labels parsed by
// [labels.Parse], and the referrers of the index and of each manifest
// (signatures, SBOMs, attestations) as the OCI referrers API lists them;
// for an OCI layout, the index.json manifests whose subject they are.
// Everything is verified as resolve verifies it (digest and size, 4 MiB
// for manifests and configs, media type against content). Labels that do
// not parse are kept per manifest ([InspectedManifest].LabelsErr) rather
// than failing the inspection. An [Inspection] marshals to the JSON that
// `pgoci inspect --json` prints.
//
// # Copying for air-gapped sites
//
// [Copy] copies an index or manifest, with everything under it, between
// registries and OCI image layout directories ("oci:DIR[:tag]"). Every
// blob is hashed against its descriptor as it is read, a layout
// destination verifies again as it writes, and the tag is written last:
// a failed copy leaves the destination's tags unchanged. Layouts are
// written through pgoci's own store, safe under concurrent writers in
// several processes (index.json updated under flock and replaced by
// rename). Without [CopyOptions].Platforms an index is copied byte for
// byte and digests round-trip (registry -> layout -> registry); with it,
// the destination gets a new index of the selected entries, with a new
// digest. [CopyOptions].Referrers copies signatures and SBOMs too.
//
// [CopyAll] fills a mirror with several repositories. Each keeps its last
// path element as its name, so the installer finds a dependency next to
// the package requiring it, as it does in the source registry:
//
//	ghcr.io/acme/cube:1.5       -> oci:/mirror/cube:1.5  (the layout /mirror/cube)
//	ghcr.io/acme/earthdistance  -> oci:/mirror/earthdistance, every tag
//	ghcr.io/acme/cube:1.5       -> registry.local/pg/cube:1.5
//
// A mirror directory is thus a directory of OCI layouts, one per
// repository, whose tags are the source's tags: skopeo, oras and resolve
// read each of them unchanged.
package extension
