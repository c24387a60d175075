// Package sbom builds SPDX 2.3 JSON SBOMs of extension packages and
// attaches them to images as OCI 1.1 referrers of artifact type
// application/spdx+json, the type Trivy's --sbom-sources oci looks for.
//
// Its output is reproducible: the same package gives the same bytes (no
// wall-clock time; the document namespace is derived from the input).
// It needs no Sigstore code: pgoci/trust signs and verifies.
//
// # Use
//
// [HashFile] records one file of the package with its checksums, [Build]
// writes the document for a [Package] (its files, the PostgreSQL it is
// built for, the shared libraries its modules need), and [Attach] pushes
// it as a referrer of an image manifest. extension.Pack does all three
// unless told not to.
package sbom
