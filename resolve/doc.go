// Package resolve finds the one extension image a PostgreSQL server can
// load: from a reference, a version constraint and a [Target] describing
// the server, it returns one manifest, verified, or an error that says
// exactly why nothing fits.
//
// An extension must be built in the same environment as the server that
// loads it: same PostgreSQL major, same CPU architecture, same C library
// family and a C library no newer than the server's. resolve checks that
// before a byte of a layer is fetched, from the labels pgoci images carry
// (see pgoci/labels and its SPEC.md; CloudNativePG and PGXN trunk labels
// are read too).
//
// # How do I use this package?
//
// Describe the server, then resolve a reference for it:
//
//	t, err := resolve.Detect(ctx, resolve.DetectOptions{}) // pg_config, os-release, libc, runtime
//	// or, for a pod you do not run in:
//	t, err = resolve.TargetFromLabels(serverImageLabels, platform, serverImageDigest)
//
//	res, err := resolve.ResolveReference(ctx, "ghcr.io/pgoci/vector:0.8.1", t, resolve.Options{})
//	var ie *resolve.IncompatibleError
//	if errors.As(err, &ie) {
//		// ie.Candidates: per manifest, each property wanted vs found
//	}
//	// res.ManifestBody.Layers are what to fetch and unpack next;
//	// res.Metadata holds the parsed labels, res.Report what was unknown.
//
// References are "host[:port]/repo[:tag][@digest]" or
// "oci:DIR[:tag|@digest]" for an OCI image layout directory
// ([ParseReference]). Without a tag or digest, [Options.Version] is a
// constraint over the repository's tags: "latest" (the default), an exact
// version, a range such as ">=1.2,<2", "~1.4" or "^2" ([ParseConstraint]).
// Extension versions are read loosely ("1.4", "3.5.2", "1.0-beta1",
// [ParseVersion]) and tags may also name a PostgreSQL major and a
// distribution: "<version>-pg<major>", CloudNativePG's
// "<version>-<pg>-<distro>" and "<pg>-<version>-<distro>" ([ParseTag]).
// Tags for another major or distribution are skipped; the highest version
// is tried first, then up to [Options.MaxVersions] lower ones if it has no
// build for the target. An exact "latest" tag is used only when no tag
// names a version.
//
// To resolve from something else than a registry or a layout, implement
// [Source] (oras-go's stores already do) and call [Resolve].
//
// # Compatibility policies
//
// [Default] requires the same PostgreSQL major, a platform the server runs,
// the same libc family and an image libc version no newer than the
// server's; anything unknown on either side passes and is listed in
// [Resolved.Report]. [Strict] also requires every property to be known
// and the same build environment (same base image digest, or same
// distribution and version). [Permissive] checks only the major and the
// platform. [Check] runs a policy on one image.
//
// Platforms are matched by pgoci, not oras-go (whose matcher is exact):
// [NormalizePlatform] makes arm64 equal arm64/v8, amd64 equal amd64/v1 and
// arm equal arm/v7, resolves aliases (aarch64, x86_64, armhf); an amd64/v3
// server takes v3, v2 then v1 images, an arm/v7 server v7, v6 then v5
// ([MatchPlatform]). Attestation entries (platform unknown/unknown, or a
// vnd.docker.reference.type annotation) are never candidates.
//
// # The walk
//
//  1. The reference is fetched with one GET (a registry's manifest
//     endpoint answers a tag with the content and its digest); a digest
//     reference must come back with that digest.
//  2. An index is decoded and its entries are preselected on their
//     platform field and selection annotations alone: an entry whose
//     known values mismatch is rejected without being fetched. Nested
//     indexes are followed (up to 4 levels) when their platform suits.
//  3. The remaining entries are ordered, best first: the most complete
//     annotations, the closest platform variant, the newest libc, index
//     order. Each is fetched in turn, its labels merged (index descriptor,
//     then config, then manifest annotations: the manifest wins, as SPEC.md
//     says) and checked in full; the first that passes is the answer.
//  4. The config is fetched only when the index gave no platform, when
//     index and manifest leave the PostgreSQL major or the C library
//     (family and version) unknown, or when [Options.FetchConfig] asks for
//     it: the hard rule depends on all three. An image's major is also read
//     from its version_num or version labels when it has no major label.
//     An index entry with more than 512 annotations is refused.
//
// # Requests
//
// Counted against the in-process registry (internal/testregistry) by
// TestResolveRegistry and TestResolveVersion, without authentication
// (a token flow adds one challenge and one token request per scope):
//
//	tag or digest -> annotated index -> manifest    2 GETs (index, manifest)
//	tag -> a single manifest                        2 GETs (manifest, config)
//	no fit, decided from the index annotations      1 GET  (index)
//	index without annotations, n entries tried      1 + n manifest GETs + n config GETs
//	nested index (annotated)                        3 GETs (index, inner index, manifest)
//	version constraint                              + 1 GET per page of the tags list
//
// Failed requests (429, 5xx, connection resets) are retried with backoff
// by oras-go's retry client and count again.
//
// # Verification
//
// Nothing a source returns is trusted. Every manifest, index and config is
// read through a size limit of its descriptor's size plus one byte and
// hashed while read: a size or digest that does not match is [ErrSize] or
// [ErrDigest] (oras-go's blob Fetch does not hash). Content over
// [MaxManifestSize] (4 MiB) is refused from its descriptor before it is
// read ([ErrTooLarge]). A manifest whose mediaType field, or shape
// (config and layers vs manifests), disagrees with its descriptor is
// [ErrMediaType] (CVE-2021-41190). One resolve fetches at most 64
// manifests and configs. Layers are not fetched here: the caller verifies
// them as it streams them (pgoci/unpack does).
//
// # Credentials
//
// [Remote] and [ResolveReference] read credentials like docker and oras:
// the Docker configuration file ($DOCKER_CONFIG/config.json or
// ~/.docker/config.json) with its credential helpers and credsStore, or a
// [RemoteOptions.Credential] function. Loopback registries (localhost,
// 127.0.0.0/8, ::1) are reached over plain HTTP.
//
// Specifications: OCI image spec v1.1.1
// (https://github.com/opencontainers/image-spec/blob/v1.1.1/image-index.md)
// and distribution spec v1.1.1
// (https://github.com/opencontainers/distribution-spec/blob/v1.1.1/spec.md).
package resolve
