package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Target is what to verify: the manifest resolve chose, and the index it
// was chosen from, in the repository they were read from.
type Target struct {
	// Repository is "host[:port]/path" (resolve.Reference.Name); it
	// selects the policy scope and names the image in errors. "" for an
	// OCI layout: only Policy.Default applies.
	Repository string
	// Index is the image index the manifest was chosen from; nil when
	// the reference named a manifest.
	Index *ocispec.Descriptor
	// Manifest is the chosen image manifest.
	Manifest ocispec.Descriptor
}

func (t Target) reference() string {
	r := t.Repository
	if r == "" {
		r = "oci-layout"
	}
	return r + "@" + t.Manifest.Digest.String()
}

// subjects are the digests a signature may be attached to: the index,
// then the manifest.
func (t Target) subjects() []ocispec.Descriptor {
	var out []ocispec.Descriptor
	if t.Index != nil {
		out = append(out, *t.Index)
	}
	return append(out, t.Manifest)
}

// Formats of signature and attestation artifacts.
const (
	// FormatBundle: a cosign v3 sigstore bundle referrer.
	FormatBundle = "bundle"
	// FormatLegacy: the older cosign layout, a manifest tagged
	// sha256-<hex>.sig (simple signing payloads) or .att (DSSE envelopes).
	FormatLegacy = "legacy"
	// FormatBuildKit: a BuildKit attestation manifest listed in the image
	// index (vnd.docker.reference.type: attestation-manifest).
	FormatBuildKit = "buildkit"
)

// Result is what verification proved.
type Result struct {
	// Scope is the policy scope applied; nil when none applies and
	// nothing was required (the image was not checked).
	Scope *Scope
	// Signatures are the signatures that verified, on the index first.
	Signatures []Signature
	// Attestations are the in-toto statements that verified, with whom
	// they are trusted through.
	Attestations []Attestation
	// Met pairs each requirement of the scope with the attestation that
	// met it.
	Met []Met
}

// Digest is the digest of the first verified signature artifact, the
// one the lock file records; "" when nothing was required.
func (r *Result) Digest() digest.Digest {
	if r == nil || len(r.Signatures) == 0 {
		return ""
	}
	return r.Signatures[0].Artifact.Digest
}

// Signature is one verified signature.
type Signature struct {
	// Subject is what it signs: the index or the manifest.
	Subject ocispec.Descriptor `json:"subject"`
	// Artifact is the signature's manifest: the bundle referrer or the
	// legacy .sig manifest.
	Artifact ocispec.Descriptor `json:"artifact"`
	// Format is FormatBundle or FormatLegacy.
	Format string `json:"format"`
	// Signer is the trusted key's Name, or the matched Identity.
	Signer string `json:"signer"`
	// KeyID is the key's fingerprint (PublicKey.ID); "" for keyless.
	KeyID string `json:"keyID,omitempty"`
	// Identity is the certificate's identity; nil for a key.
	Identity *CertIdentity `json:"identity,omitempty"`
	// Tlog says a transparency log entry was verified.
	Tlog bool `json:"tlog"`
}

// Attestation is one verified in-toto statement about the manifest (or
// the index).
type Attestation struct {
	// Subject is the index or manifest the statement is about.
	Subject ocispec.Descriptor `json:"subject"`
	// Artifact is the bundle referrer, the legacy .att manifest, or the
	// BuildKit attestation manifest.
	Artifact ocispec.Descriptor `json:"artifact"`
	// Format is FormatBundle, FormatLegacy or FormatBuildKit.
	Format string `json:"format"`
	// PredicateType is the statement's predicate type.
	PredicateType string `json:"predicateType"`
	// Signer is who vouches for it: the key or identity that signed it,
	// or for a BuildKit attestation "signature <digest> of <index>" when
	// it is trusted through a verified signature of the index listing it.
	Signer string `json:"signer"`
	// Statement is the in-toto statement, as signed.
	Statement json.RawMessage `json:"statement"`
}

// Met is a requirement and the attestation that met it.
type Met struct {
	Requirement Requirement   `json:"requirement"`
	Attestation digest.Digest `json:"attestation"`
}

// Verify checks that t satisfies the policy scope of t.Repository: at
// least one signature, on the index or on the manifest, by a trusted key
// or identity, and every required attestation. Call it after resolve
// chose the manifest and before the first layer is fetched; call it for
// each dependency too.
//
// When no scope applies, or the scope trusts no signer, Verify reads
// nothing and returns a Result with nothing verified. A refusal is an
// *[Error] wrapping [ErrNoSignature], [ErrUntrustedSigner],
// [ErrDigestMismatch], [ErrIdentity], [ErrTlog], [ErrInvalidSignature],
// [ErrTooManyReferrers] or [ErrRequirement]; a source failure is returned
// as it is (wrapped).
//
// What is read: the sigstore bundle referrers of the index and the
// manifest (through the referrers API or its tag fallback), their legacy
// sha256-<hex>.sig and .att tags, and the BuildKit attestation manifests
// the index lists for the manifest. Every body is verified against its
// descriptor and capped ([MaxManifestSize], [MaxBlobSize]); the referrers
// of each subject are bounded by opts.MaxReferrers.
func Verify(ctx context.Context, src Source, t Target, p Policy, opts Options) (*Result, error) {
	s := p.Scope(t.Repository)
	if s == nil || (!s.trustsSigner() && len(s.Require) == 0) {
		return &Result{Scope: s}, nil
	}
	if err := s.validate("scope " + s.Registry); err != nil {
		return nil, err
	}
	if err := checkTarget(t); err != nil {
		return nil, err
	}
	ex := examiner{src: src, scope: s, opts: opts, target: t}
	if err := ex.run(ctx); err != nil {
		return nil, err
	}
	res := &Result{Scope: s}
	var failed []Check
	for _, c := range ex.checks {
		switch {
		case c.Err != nil && c.Kind == KindSignature:
			failed = append(failed, c)
		case c.Err == nil && c.Kind == KindSignature:
			res.Signatures = append(res.Signatures, c.signature())
		case c.Err == nil && c.Kind == KindAttestation:
			res.Attestations = append(res.Attestations, c.attestation())
		}
	}
	e := &Error{Reference: t.reference(), Scope: s.Registry, Expected: s.expected()}
	for _, d := range t.subjects() {
		e.Subjects = append(e.Subjects, d.Digest)
	}
	if len(res.Signatures) == 0 {
		e.Checks, e.Err = failed, mainReason(failed)
		return nil, e
	}
	for _, r := range s.Require {
		m, field := meet(r, res.Attestations)
		if m == "" {
			req := r
			e.Err, e.Requirement, e.Field = ErrRequirement, &req, field
			e.Checks = attestationFailures(ex.checks, r.PredicateType)
			return nil, e
		}
		res.Met = append(res.Met, Met{Requirement: r, Attestation: m})
	}
	fixSubjects(res, t)
	return res, nil
}

// checkTarget checks the target's descriptors before anything is fetched.
func checkTarget(t Target) error {
	if err := t.Manifest.Digest.Validate(); err != nil {
		return fmt.Errorf("%w: manifest digest %q: %v", ErrDigest, shorten(string(t.Manifest.Digest)), err)
	}
	if t.Index != nil {
		if err := t.Index.Digest.Validate(); err != nil {
			return fmt.Errorf("%w: index digest %q: %v", ErrDigest, shorten(string(t.Index.Digest)), err)
		}
	}
	return nil
}

func (s *Scope) expected() []string {
	var out []string
	for _, k := range s.Keys {
		out = append(out, "key "+k.Name)
	}
	for _, id := range s.Identities {
		out = append(out, id.String())
	}
	return out
}

// attestationFailures are the attestation checks of predicate type pt
// that failed, to explain an unmet requirement.
func attestationFailures(checks []Check, pt string) []Check {
	var out []Check
	for _, c := range checks {
		if c.Kind == KindAttestation && c.Err != nil && (c.PredicateType == pt || c.PredicateType == "") {
			out = append(out, c)
		}
	}
	return out
}

// Examine lists the signatures and attestations of t's index and manifest
// and checks each against the policy scope of t.Repository (for
// `pgoci inspect`): a Check with a nil Err verified. With no scope, or one
// that trusts no signer, each is listed with an Err saying nothing is
// trusted. Source failures end the listing with an error; a malformed
// artifact is a Check with its error.
func Examine(ctx context.Context, src Source, t Target, p Policy, opts Options) ([]Check, error) {
	if err := checkTarget(t); err != nil {
		return nil, err
	}
	s := p.Scope(t.Repository)
	if s == nil {
		s = &Scope{}
	}
	ex := examiner{src: src, scope: s, opts: opts, target: t}
	if err := ex.run(ctx); err != nil {
		return nil, err
	}
	return ex.checks, nil
}

// examiner collects the checks of one target.
type examiner struct {
	src    Source
	scope  *Scope
	opts   Options
	target Target
	checks []Check
	// indexSigned is the first verified signature of the index, which
	// vouches for the BuildKit attestations the index lists.
	indexSigned *Check
}

func (ex *examiner) run(ctx context.Context) error {
	for _, d := range ex.target.subjects() {
		if err := ex.bundles(ctx, d); err != nil {
			return err
		}
		if err := ex.legacy(ctx, d); err != nil {
			return err
		}
	}
	if ex.target.Index != nil {
		return ex.buildkit(ctx)
	}
	return nil
}

func (ex *examiner) add(c Check) {
	if c.Err == nil && ex.target.Index != nil && c.Kind == KindSignature && c.Subject == ex.target.Index.Digest && ex.indexSigned == nil {
		cc := c
		ex.indexSigned = &cc
	}
	ex.checks = append(ex.checks, c)
}

// bundles checks the sigstore bundle referrers of d.
func (ex *examiner) bundles(ctx context.Context, d ocispec.Descriptor) error {
	refs, err := listReferrers(ctx, ex.src, d, ArtifactTypeBundle, ex.opts.maxReferrers())
	if err != nil {
		if errors.Is(err, ErrTooManyReferrers) {
			ex.add(Check{Subject: d.Digest, Format: FormatBundle, Kind: KindSignature, Err: err})
			return nil
		}
		return err
	}
	for _, r := range refs {
		ex.add(ex.bundle(ctx, d, r))
	}
	return nil
}

// bundle reads and checks one bundle referrer r of subject d.
func (ex *examiner) bundle(ctx context.Context, d, r ocispec.Descriptor) Check {
	c := Check{Subject: d.Digest, Artifact: r, Format: FormatBundle, Kind: KindSignature}
	if pt := r.Annotations[annotationBundlePredicate]; pt != "" && pt != PredicateCosignSign {
		c.Kind, c.PredicateType = KindAttestation, pt
	}
	body, err := ex.readBundle(ctx, d, r)
	if err != nil {
		c.Err = err
		return c
	}
	bc, err := parseBundle(body)
	if err != nil {
		c.Err = err
		return c
	}
	if bc.dsse {
		c.PredicateType = bc.stmt.PredicateType
		c.Kind = KindSignature
		if bc.stmt.PredicateType != PredicateCosignSign {
			c.Kind = KindAttestation
		}
	} else {
		c.Kind, c.PredicateType = KindSignature, ""
	}
	if !ex.scope.trustsSigner() {
		c.Err = fmt.Errorf("%w: the policy trusts no key or identity here", ErrUntrustedSigner)
		return c
	}
	v, err := verifyBundle(bc, d.Digest, ex.scope)
	if err != nil {
		c.Err = err
		return c
	}
	c.setVerified(v)
	return c
}

// readBundle reads the referrer manifest r of d and its one bundle layer.
func (ex *examiner) readBundle(ctx context.Context, d, r ocispec.Descriptor) ([]byte, error) {
	m, err := fetchManifest(ctx, ex.src, r)
	if err != nil {
		return nil, err
	}
	if m.Subject == nil || m.Subject.Digest != d.Digest {
		return nil, fmt.Errorf("%w: referrer %s does not name %s as its subject", ErrInvalidSignature, r.Digest, d.Digest)
	}
	if at := manifestArtifactType(m); at != ArtifactTypeBundle {
		return nil, fmt.Errorf("%w: referrer %s has artifact type %q, want %s", ErrInvalidSignature, r.Digest, shorten(at), ArtifactTypeBundle)
	}
	if len(m.Layers) != 1 || !hasPrefix(m.Layers[0].MediaType, mediaTypeBundlePrefix) {
		return nil, fmt.Errorf("%w: referrer %s: want one sigstore bundle layer, got %d layers", ErrInvalidSignature, r.Digest, len(m.Layers))
	}
	return fetchBlob(ctx, ex.src, m.Layers[0], MaxBlobSize)
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// Check is one signature or attestation artifact examined; a nil
// Err means it verified.
type Check struct {
	// Subject is the digest it is attached to (index or manifest).
	Subject digest.Digest `json:"subject"`
	// Artifact is the referrer manifest, the legacy .sig/.att manifest,
	// or the BuildKit attestation manifest.
	Artifact ocispec.Descriptor `json:"artifact"`
	// Format is FormatBundle, FormatLegacy or FormatBuildKit.
	Format string `json:"format"`
	// Kind is KindSignature or KindAttestation.
	Kind string `json:"kind"`
	// PredicateType is the in-toto predicate type of an attestation.
	PredicateType string `json:"predicateType,omitempty"`
	// Signer, KeyID, Identity and Tlog are set when it verified; see
	// [Signature].
	Signer   string        `json:"signer,omitempty"`
	KeyID    string        `json:"keyID,omitempty"`
	Identity *CertIdentity `json:"identity,omitempty"`
	Tlog     bool          `json:"tlog,omitempty"`
	// Statement is a verified attestation's in-toto statement.
	Statement json.RawMessage `json:"-"`
	// Err says why it was not accepted; it wraps one of the sentinels.
	Err error `json:"-"`
}

func (c *Check) setVerified(v verified) {
	c.Signer, c.KeyID, c.Identity, c.Tlog = v.signer, v.keyID, v.identity, v.tlog
	if v.rawStmt != nil {
		c.Statement = v.rawStmt
	}
}

func (c Check) signature() Signature {
	return Signature{Subject: ocispec.Descriptor{Digest: c.Subject}, Artifact: c.Artifact, Format: c.Format, Signer: c.Signer, KeyID: c.KeyID, Identity: c.Identity, Tlog: c.Tlog}
}

func (c Check) attestation() Attestation {
	return Attestation{Subject: ocispec.Descriptor{Digest: c.Subject}, Artifact: c.Artifact, Format: c.Format, PredicateType: c.PredicateType, Signer: c.Signer, Statement: c.Statement}
}

// fixSubjects fills the Subject descriptors of r from t (the checks only
// carry digests).
func fixSubjects(r *Result, t Target) {
	full := func(d digest.Digest) ocispec.Descriptor {
		for _, s := range t.subjects() {
			if s.Digest == d {
				return s
			}
		}
		return ocispec.Descriptor{Digest: d}
	}
	for i := range r.Signatures {
		r.Signatures[i].Subject = full(r.Signatures[i].Subject.Digest)
	}
	for i := range r.Attestations {
		r.Attestations[i].Subject = full(r.Attestations[i].Subject.Digest)
	}
}
