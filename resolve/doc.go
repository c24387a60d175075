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
// Debian's "2.4.2-3", [ParseVersion]) and tags may also name a PostgreSQL
// major, a distribution and a build (see "How tags are read" below).
// Tags for another major or distribution are skipped; the highest version
// is tried first, then up to [Options.MaxVersions] lower ones if it has no
// build for the target. An exact "latest" tag is used only when no tag
// names a version. When no tag fits, [ErrNoVersion] says why each was left
// out (not a version, outside the constraint, a pre-release, another
// major or distribution), naming up to 5 tags per reason.
//
// # How tags are read
//
// [ParseTag] reads each tag as a version, and the PostgreSQL major,
// distribution codename and build timestamp it may name:
//
//	form                                          example                         version
//	<version>                                     3.5.2, 1.0-beta1, v0.8.1        as written
//	<version>-<revision>                          2.4.2-3, 2.4.2-1ubuntu2         Debian revision
//	<version>_<repack>-<revision>[_<binNMU>]      3.3.2_dfsg-1_b1                 3.3.2+dfsg-1+b1
//	<version>-<release>                           1.2.3-1.el9                     RPM release
//	<version>-pg<major>                           3.5.2-pg17                      3.5.2, for PostgreSQL 17
//	<version>-<pg>-<distro>                       0.8.1-18-trixie                 0.8.1 (CloudNativePG)
//	<version>-<build>-<pg>-<distro>               0.8.1-202509101200-18-trixie    0.8.1, one build
//	<epoch>-<version>[-<build>]-<pg>-<distro>     1-6.1.0-18-trixie               1:6.1.0
//	<pg>-<version>-<distro>                       18-0.8.1-trixie                 0.8.1
//
// The rules behind the table:
//
//   - Tags cannot hold "+" or ":". A "_" is read as "+" (the tag
//     3.3.2_dfsg-1_b1 is the Debian version 3.3.2+dfsg-1+b1), and
//     CloudNativePG writes a Debian epoch's ":" as "-".
//   - A "-" followed by a digit starts a revision, which is a release,
//     not a pre-release as in semver: "2.4.2-3", "1.2.3-1.el9". So do
//     "+", "_", and "-" or "~" before a repack word (dfsg, ds, repack):
//     "3.3.2-dfsg-1-b1" is a repacked release too. A pre-release is a
//     word after "-", "~", "." or the last number: "1.0-beta1",
//     "1.0-rc.2", "1.0~rc1", "1.0beta1". Pre-releases are left out unless
//     the constraint names one (see [ParseConstraint]).
//   - In "<version>-<pg>-<distro>" the number before the distribution
//     codename is the PostgreSQL major: 0.8.1-18-trixie is 0.8.1 for
//     PostgreSQL 18, not Debian revision 18 of 0.8.1. A revision may come
//     before the major: 0.8.1-2-18-trixie.
//   - CloudNativePG tags each build twice, 0.8.1-18-trixie (moved to the
//     newest build) and 0.8.1-202509101200-18-trixie (one build, UTC
//     YYYYMMDDhhmm, or YYYYMMDDhhmmss). The timestamp, 12 or 14 digits
//     that are a valid date and time, is the tag's [Tag.Build], not part
//     of the version and never a pre-release.
//   - CloudNativePG drops the Debian revision from its tags, so in its
//     form a bare number before the version is an epoch: 2-1-18-trixie
//     is 2:1; 0.8.1-2-18-trixie, whose first part has a dot, is 0.8.1-2.
//
// Tags are tried best first ([SelectTags], [Version.Compare]):
//
//  1. the highest epoch (Debian: 1:0.5 is newer than 2.0);
//  2. the highest release numbers ("1.4" equals "1.4.0");
//  3. a release before its pre-releases;
//  4. the highest revision, in dpkg's order: none < -3 < -10 <
//     -10ubuntu1 < +dfsg-1 < +dfsg-1+b1;
//  5. among tags of one version: the one naming the target's major and
//     distribution, then one naming the major, then a bare one, then one
//     of an older Debian release the target can load (bookworm on trixie);
//  6. then the newest build, then the tag name.
//
// Only the first tag of each version is tried. A constraint compares only
// the parts of a version it names: "0.8.1" matches 0.8.1-3,
// 0.8.1-202509101200-18-trixie and 1-0.8.1-18-trixie, the Debian builds
// of upstream 0.8.1; "=0.8.1-3" and "=1:0.8.1" name one revision or epoch.
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
// by oras-go's retry client and count again. Through a mirror (see
// "Mirrors"), a tag costs one more request: a HEAD to the upstream.
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
// # Mirrors
//
// [RemoteOptions.Mirrors] lists, per registry host, mirrors read before
// it, in order: pull-through caches or copies, at "host[:port]" or
// "host[:port]/namespace" (repository ext/vector is then read from
// namespace/ext/vector), as containerd's hosts.toml hosts and
// containers-registries.conf's mirrors are. [Open] and
// [ResolveReference] use them; [Remote], which pushes go through, never
// does, so a push always reaches the registry named. Credentials are
// looked up for each mirror's own host.
//
// What a mirror is trusted with:
//
//   - Content by digest, and nothing it says is believed. Every
//     manifest, index and config, and every blob up to
//     [MaxManifestSize], is read whole from the mirror and hashed before
//     it is returned: content that does not hash to the digest asked for
//     is a *[MirrorError] wrapping [ErrDigest] (naming the mirror, the
//     digest and what was expected), and the next mirror, then the
//     upstream, is asked. A digest-pinned reference therefore always
//     yields the pinned content or an error, whatever a mirror holds.
//   - A larger blob (a layer over 4 MiB) is streamed from the first
//     mirror that answers, hashed as it is read, so that it never sits in
//     memory. If it fails its digest at the end the read ends in a
//     *[MirrorError] and the operation fails, since its bytes have
//     already been consumed; that Source asks the mirror nothing more,
//     so trying the operation again with the same Source reads the
//     upstream. Nothing of bad content is installed: the unpacker
//     discards a layer that fails its digest.
//   - Tags only when [Mirror.Tags] says so. By default a tag is
//     resolved by the upstream (one HEAD request, which Docker Hub does
//     not count against its pull limit) and only the content is read
//     from the mirrors: a mirror that answered tags could answer one with
//     any image it holds, an older vulnerable build or one never pushed
//     upstream, and the digest check could not tell. This is
//     containers-registries.conf's pull-from-mirror = "digest-only", and
//     containerd's "pull" capability without "resolve". The price: a tag
//     does not resolve while the upstream is unreachable (the error says
//     so, and is temporary). Set [Mirror.Tags] for a mirror you trust
//     as much as the upstream, or for an upstream you cannot reach, and
//     guard what is installed with digest-pinned references, a lock file
//     or [Options.Verifier]. Tag listings ([Options.Version]) and
//     referrer listings follow the same rule.
//
// A mirror that cannot be reached, answers 404, 429 or 5xx, or whose
// answer fails verification, is passed over for the next one and
// reported to [RemoteOptions.OnMirrorError]; a mirror that is down or
// served bad content is not asked again by the same Source. Mirrors are
// asked without the retry client's retries unless [RemoteOptions.Client]
// is set: the next host is the retry. A cancelled context stops at
// once, without falling through. When every mirror and the upstream
// fail, the error is the upstream's, followed by the mirrors' failures.
//
//	opts := resolve.RemoteOptions{Mirrors: map[string][]resolve.Mirror{
//		"ghcr.io": {{Location: "mirror.internal:5000/ghcr"}},
//	}}
//	res, err := resolve.ResolveReference(ctx, "ghcr.io/pgoci/vector:0.8.1", t, resolve.Options{Remote: opts})
//
// Requests through a mirror that has everything, counted by
// ExampleMirror: the upstream gets one HEAD per tag, the mirror the GETs
// the table under "Requests" lists; a digest reference makes no request
// to the upstream.
//
// # Errors and retries
//
// Errors are sentinels and types to test with [errors.Is] and
// [errors.As], and their messages name the registry, the reference, the
// digest and what was expected. [ErrNotFound] is a missing tag,
// manifest, blob or repository (oras-go's errdef.ErrNotFound, and a
// registry's 404 NAME_UNKNOWN or MANIFEST_UNKNOWN answer); [ErrUnauthorized]
// is missing or refused credentials; [ErrDigest] and [ErrSize] are
// content that does not match its descriptor; *[IncompatibleError]
// ([ErrIncompatible]) and [ErrNoVersion] say why nothing fits;
// *[MirrorError] is a mirror's failure.
//
// [IsTemporary] tells a reconcile loop whether to try again later:
// network errors, timeouts, 408, 429 and 5xx are temporary (after
// oras-go's retry client has retried them a few times); a missing
// image, refused credentials, content that fails verification, a
// policy's or trust policy's refusal, invalid input and a cancelled
// context are not, and neither is an error it does not know.
//
//	res, err := resolve.ResolveReference(ctx, ref, t, opts)
//	switch {
//	case err == nil:
//	case resolve.IsTemporary(err):
//		return requeueAfter(backoff) // the registry or network will be back
//	default:
//		return reportFailure(err) // someone must change something
//	}
//
// Specifications: OCI image spec v1.1.1
// (https://github.com/opencontainers/image-spec/blob/v1.1.1/image-index.md)
// and distribution spec v1.1.1
// (https://github.com/opencontainers/distribution-spec/blob/v1.1.1/spec.md).
package resolve
