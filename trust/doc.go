// Package trust verifies the signatures and attestations of an extension
// image before it is installed, signs images, and builds and attaches
// SBOMs (in its sub-packages, which need no Sigstore code). It reads and
// writes what cosign does, offline: nothing but the registry (or OCI
// layout) holding the image is contacted.
//
// An extension runs inside the database server's address space. Shipping
// extensions as OCI images brings the supply-chain tooling of that
// ecosystem along: cosign signatures, in-toto attestations (SLSA
// provenance), SBOMs. This package is the part of pgoci that refuses an
// image nobody trusted vouched for.
//
// # What it reads
//
//   - Signatures in the cosign v3 layout: an OCI 1.1 referrer of artifact
//     type [ArtifactTypeBundle] whose one layer is a sigstore bundle v0.3
//     holding a DSSE envelope of an in-toto statement of predicate type
//     [PredicateCosignSign] about the signed digest (or, from other
//     signers, a message signature over the digest). Referrers are found
//     through the OCI referrers API or, on registries without it (CNCF
//     distribution 2.8), the sha256-<hex> tag index; see [Source].
//   - Signatures in the older cosign layout: the manifest tagged
//     sha256-<hex>.sig, one simple signing payload per layer, whose
//     docker-manifest-digest must be the signed digest, with a key or a
//     certificate and Rekor bundle in the layer's annotations.
//   - Attestations: cosign v3 attestation bundles (the same referrers, any
//     other predicate type), the older sha256-<hex>.att manifests (DSSE
//     layers, keys only), and BuildKit attestation manifests listed in an
//     image index (vnd.docker.reference.type: attestation-manifest, with
//     vnd.docker.reference.digest naming the manifest), as CloudNativePG's
//     extension images carry them.
//
// Keys may be ECDSA (P-256, P-384, P-521), Ed25519 or RSA (2048 bits or
// more) in PEM ([LoadPublicKey]); keyless signatures are checked against a
// Sigstore trusted root the user provides ([LoadTrustedRoot]) and an
// identity (issuer and subject, exact or regular expression). Signature
// verification is sigstore-go's.
//
// # How do I use this package?
//
// Installing: after resolve chose the manifest and before the first layer
// byte is fetched, call [Verify] with the repository the image came from.
// A refusal leaves everything as it was; the lock file records
// [Result.Digest]. Verify each dependency the same way.
//
//	policy := trust.KeysPolicy(key)          // --verify-key FILE (LoadPublicKey)
//	policy, err := trust.LoadPolicy(path)    // --trust-policy FILE
//	res, err := trust.Verify(ctx, src, trust.Target{
//		Repository: ref.Name(),             // "host/repo"; "" for a layout
//		Index:      &indexDesc,             // nil when the reference named a manifest
//		Manifest:   chosen,
//	}, policy, trust.Options{})
//	if err != nil { return err }            // a *trust.Error: errors.Is(err, trust.ErrNoSignature) ...
//	lock.Signature = res.Digest()
//
// src is the resolve.Source the image was read from: oras-go's
// *remote.Repository or an OCI layout's *oci.ReadOnlyStore, as they are.
//
// Inspecting: [Examine] lists every signature and attestation of a
// manifest (and its index) with its verification status under a policy.
//
// Signing: [Sign] pushes a cosign v3 signature of an index (and, with
// SignOptions.Manifests, of every manifest under it) made with any
// crypto.Signer; [LoadPrivateKey] reads cosign.key (COSIGN_PASSWORD or a
// prompt supplies the password). `cosign verify --key cosign.pub
// --insecure-ignore-tlog=true` accepts the result.
//
// Packing: pgoci/trust/sbom's Build writes a reproducible SPDX 2.3 JSON
// document of the package and its Attach pushes it as a referrer of the
// image manifest (artifact type application/spdx+json, what Trivy's
// --sbom-sources oci reads).
//
// Copying: pgoci/trust/referrers' Artifacts lists what is attached to a
// digest (referrers of every type and the legacy .sig, .att and .sbom
// tags) so that a copy can carry signatures, SBOMs and attestations
// along.
//
// Only this package imports sigstore-go (about 70 modules and 11 MB of
// stripped binary): pack and copy can use the sub-packages without it.
//
// # Policy
//
// A [Policy] is a list of scopes, each for a registry prefix, and an
// optional default scope. The scope whose Registry is the longest prefix
// of the image's repository on path-segment boundaries applies
// ("registry.example.com/ext" does not cover
// "registry.example.com/extensions/x"); without one, the default; without
// a default, nothing is required. A scope that trusts no key and no
// identity requires nothing: it exempts its prefix. Otherwise an image
// must have at least one signature, on its index or on the chosen
// manifest, that verifies with one of the scope's keys or with a
// certificate chaining to its trusted root whose identity matches one of
// its identities; any one suffices. Each require entry must then be met
// by a verified in-toto statement of that predicate type whose predicate
// has, at each dotted path of match, a value matching the regular
// expression (Go syntax, unanchored; a path through an array matches
// when any element does).
//
// The file form ([LoadPolicy]), strict (an unknown field is an error):
//
//	{
//	  "version": 1,
//	  "default": {"keys": ["/etc/pgoci/acme.pub"]},
//	  "scopes": [
//	    {"registry": "registry.example.com/extensions",
//	     "keys": ["acme.pub"],
//	     "identities": [{"issuer": "https://token.actions.githubusercontent.com",
//	                     "subjectRegExp": "^https://github.com/acme/"}],
//	     "trustedRoot": "/etc/pgoci/trusted_root.json",
//	     "insecureIgnoreTlog": false,
//	     "require": [{"predicateType": "https://slsa.dev/provenance/v1",
//	                  "match": {"runDetails.builder.id": "^https://github.com/acme/"}}]},
//	    {"registry": "registry.example.com/extensions/experimental"}
//	  ]
//	}
//
// version must be 1. Relative paths are resolved against the policy
// file's directory. An identity gives issuer or issuerRegExp, and subject
// or subjectRegExp. trustedRoot is a Sigstore trusted root JSON file
// (`cosign trusted-root create`, or the public-good instance's
// trusted_root.json fetched by other means): pgoci never fetches one. When
// it lists Rekor logs, a transparency log entry is required, for keys
// too; insecureIgnoreTlog turns that off (keyless signatures then need an
// RFC 3161 timestamp from the root's timestamp authorities). --verify-key
// is [KeysPolicy], or [Policy.WithKeys] with a policy file.
//
// # Threat model
//
// A verified signature proves that a holder of the trusted key, or the
// trusted identity as certified by the trusted Fulcio CA, signed that
// digest: the index or manifest, and through content addressing every
// byte under it (layers, configs, the manifests an index lists). Every
// body read is verified against its descriptor, so a registry cannot swap
// content under a signed digest.
//
// It does not prove that the content is safe, free of bugs or
// vulnerabilities, or built from the source it claims: that is the
// signer's word (and what attestations such as SLSA provenance state, to
// be trusted as much as their signer). It does not prove that a tag is
// current: a registry may serve an older signed image under a tag
// (rollback) or omit newer ones (freeze); pin digests (the lock file) for
// that. It does not prove freshness: a keyed signature has no time, and
// revoking a key is the key owner's business (remove it from the policy).
// Without a transparency log, a signature made with a stolen key is as
// good as any, and nobody can audit what a key signed. A signature on the
// index covers every manifest under it; a signature on one manifest
// covers that manifest only.
//
// Attestations are trusted only as far as a verified signature reaches
// them: a cosign attestation is itself signed (and verified like a
// signature, by the same keys or identities); a BuildKit attestation
// manifest is unsigned, and counts only when the index listing it has a
// verified signature (the index names the attestation manifest, which
// names the statements, by digest) or when the attestation manifest has
// one itself. An attestation alone is not a signature: the image still
// needs one.
//
// The registry is treated as hostile: referrer lists are bounded
// ([Options.MaxReferrers], [ErrTooManyReferrers]), manifests and blobs
// capped ([MaxManifestSize], [MaxBlobSize]) before they are read, and
// descriptors from a referrers list are re-checked against the manifest
// they name (subject, artifact type, layer media type).
//
// # Errors
//
// A refusal is an *[Error] that wraps the reason ([ErrNoSignature],
// [ErrUntrustedSigner], [ErrDigestMismatch], [ErrIdentity], [ErrTlog],
// [ErrInvalidSignature], [ErrTooManyReferrers], [ErrRequirement]) and each
// artifact's own error, and names the reference, the policy scope, what
// was trusted and each artifact checked: test with [errors.Is] and
// [errors.As]. Policy and key problems wrap [ErrPolicy] and [ErrKey].
package trust
