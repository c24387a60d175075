// Package referrers lists, reads and writes the artifacts attached to an
// image: OCI 1.1 referrers (signatures, attestations, SBOMs) and the older
// cosign layout's sha256-<hex>.sig, .att and .sbom tags. Everything it
// reads is verified against its descriptor and size-capped, and every
// list is bounded: the registry is not trusted.
//
// It is the part of pgoci/trust that needs no Sigstore code, so that
// copying ([Artifacts]) and attaching ([Push]; pgoci/trust/sbom) do not
// bring sigstore-go into a program.
//
// # Listing
//
// [List] returns the referrers of a subject of one artifact type through
// whatever the [Source] offers: the referrers API (oras-go falls back to
// the sha256-<hex> tag index on registries without it, such as CNCF
// distribution 2.8), an OCI layout's own index, or the tag index read
// directly. [Artifacts] adds the older cosign tags, so that a copy takes
// everything attached; [LegacyTags] lists a repository's tags once when
// many subjects are copied.
//
// # Reading and writing
//
// [FetchManifest], [FetchIndex] and [FetchBlob] read with the size caps
// [MaxManifestSize] and [MaxBlobSize] ([ErrTooLarge] before a byte is
// read) and check digest and size ([ErrDigest], [ErrSize]). [Push]
// attaches a one-layer artifact to a subject as an OCI 1.1 referrer with
// the empty config.
package referrers
