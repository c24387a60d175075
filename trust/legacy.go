package trust

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// maxLegacyPayload bounds a simple signing payload.
const maxLegacyPayload = 1 << 20

// simpleSigning is the payload the older cosign layout signs.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// legacy checks the sha256-<hex>.sig and .att manifests of d.
func (ex *examiner) legacy(ctx context.Context, d ocispec.Descriptor) error {
	for _, suffix := range []string{".sig", ".att"} {
		tag := fallbackTag(d.Digest, suffix)
		if tag == "" {
			return nil
		}
		md, err := ex.src.Resolve(ctx, tag)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return fmt.Errorf("trust: resolve %s: %w", tag, err)
		}
		kind := KindSignature
		if suffix == ".att" {
			kind = KindAttestation
		}
		m, err := fetchLegacyManifest(ctx, ex.src, md)
		if err != nil {
			ex.add(Check{Subject: d.Digest, Artifact: md, Format: FormatLegacy, Kind: kind, Err: err})
			continue
		}
		if len(m.Layers) > ex.opts.maxReferrers() {
			ex.add(Check{Subject: d.Digest, Artifact: md, Format: FormatLegacy, Kind: kind,
				Err: fmt.Errorf("%w: %s lists %d signatures, over %d", ErrTooManyReferrers, tag, len(m.Layers), ex.opts.maxReferrers())})
			continue
		}
		for _, l := range m.Layers {
			c := Check{Subject: d.Digest, Artifact: md, Format: FormatLegacy, Kind: kind}
			if suffix == ".sig" {
				c.Err = ex.legacySignature(ctx, d.Digest, l, &c)
			} else {
				c.Err = ex.legacyAttestation(ctx, d.Digest, l, &c)
			}
			ex.add(c)
		}
	}
	return nil
}

// fetchLegacyManifest reads a .sig or .att manifest (OCI or Docker v2).
func fetchLegacyManifest(ctx context.Context, src Source, d ocispec.Descriptor) (ocispec.Manifest, error) {
	if d.MediaType == "application/vnd.docker.distribution.manifest.v2+json" {
		var m ocispec.Manifest
		body, err := fetchBlob(ctx, src, d, MaxManifestSize)
		if err != nil {
			return m, err
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return m, fmt.Errorf("%w: manifest %s: %v", ErrInvalidSignature, d.Digest, err)
		}
		return m, nil
	}
	return fetchManifest(ctx, src, d)
}

// legacySignature checks one simple signing layer l of a .sig manifest.
func (ex *examiner) legacySignature(ctx context.Context, subject digest.Digest, l ocispec.Descriptor, c *Check) error {
	if l.MediaType != mediaTypeSimpleSigning {
		return fmt.Errorf("%w: layer %s has media type %q, want %s", ErrInvalidSignature, l.Digest, shorten(l.MediaType), mediaTypeSimpleSigning)
	}
	sig, err := base64.StdEncoding.DecodeString(l.Annotations[annotationCosignSignature])
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: layer %s has no %s annotation", ErrInvalidSignature, l.Digest, annotationCosignSignature)
	}
	payload, err := fetchBlob(ctx, ex.src, l, maxLegacyPayload)
	if err != nil {
		return err
	}
	if !ex.scope.trustsSigner() {
		return fmt.Errorf("%w: the policy trusts no key or identity here", ErrUntrustedSigner)
	}
	e, err := legacyEntity(l, sig, payload)
	if err != nil {
		return err
	}
	v, err := verifyEntity(signed{entity: e, policy: sgverify.WithArtifact(bytes.NewReader(payload))}, ex.scope)
	if err != nil {
		return err
	}
	var ss simpleSigning
	if err := json.Unmarshal(payload, &ss); err != nil {
		return fmt.Errorf("%w: simple signing payload: %v", ErrInvalidSignature, err)
	}
	if got := ss.Critical.Image.DockerManifestDigest; got != subject.String() {
		return fmt.Errorf("%w: the payload's docker-manifest-digest is %q, not %s", ErrDigestMismatch, shorten(got), subject)
	}
	c.setVerified(v)
	return nil
}

// legacyAttestation checks one DSSE layer l of an .att manifest. Only keys
// verify these.
func (ex *examiner) legacyAttestation(ctx context.Context, subject digest.Digest, l ocispec.Descriptor, c *Check) error {
	c.PredicateType = l.Annotations["predicateType"]
	if l.MediaType != mediaTypeDSSE {
		return fmt.Errorf("%w: layer %s has media type %q, want %s", ErrInvalidSignature, l.Digest, shorten(l.MediaType), mediaTypeDSSE)
	}
	env, err := fetchBlob(ctx, ex.src, l, MaxBlobSize)
	if err != nil {
		return err
	}
	v, payload, err := verifyDSSEWithKeys(env, ex.scope)
	if err != nil {
		return err
	}
	st, err := parseStatement(payload)
	if err != nil {
		return err
	}
	c.PredicateType = st.PredicateType
	if !st.names(subject) {
		return fmt.Errorf("%w: the signed statement is about %s, not %s", ErrDigestMismatch, shorten(st.subjectDigests()), subject)
	}
	v.rawStmt = payload
	c.setVerified(v)
	return nil
}

// legacyEntity makes a cosign legacy signature a sigstore-go signed
// entity: a message signature over the payload, verified with a key or
// with the layer's certificate, with the Rekor entry of its bundle
// annotation (an inclusion promise) when present.
func legacyEntity(l ocispec.Descriptor, sig, payload []byte) (sgverify.SignedEntity, error) {
	sum := sha256.Sum256(payload)
	e := &legacySigned{sig: bundle.NewMessageSignature(sum[:], "SHA2_256", sig), vc: keyMaterial{}}
	if pemCert := l.Annotations[annotationCosignCertificate]; pemCert != "" {
		block, _ := pem.Decode([]byte(pemCert))
		if block == nil {
			return nil, fmt.Errorf("%w: layer %s: certificate annotation is not PEM", ErrInvalidSignature, l.Digest)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: layer %s: certificate: %v", ErrInvalidSignature, l.Digest, err)
		}
		e.vc = bundle.NewCertificate(cert)
	}
	if rb := l.Annotations[annotationCosignBundle]; rb != "" {
		var b struct {
			SignedEntryTimestamp string `json:"SignedEntryTimestamp"`
			Payload              struct {
				Body           string `json:"body"`
				IntegratedTime int64  `json:"integratedTime"`
				LogIndex       int64  `json:"logIndex"`
				LogID          string `json:"logID"`
			} `json:"Payload"`
		}
		if err := json.Unmarshal([]byte(rb), &b); err != nil {
			return nil, fmt.Errorf("%w: layer %s: rekor bundle: %v", ErrInvalidSignature, l.Digest, err)
		}
		body, err1 := base64.StdEncoding.DecodeString(b.Payload.Body)
		set, err2 := base64.StdEncoding.DecodeString(b.SignedEntryTimestamp)
		logID, err3 := hex.DecodeString(b.Payload.LogID)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%w: layer %s: rekor bundle encoding", ErrInvalidSignature, l.Digest)
		}
		entry, err := newTlogEntry(body, b.Payload.IntegratedTime, b.Payload.LogIndex, logID, set)
		if err != nil {
			return nil, fmt.Errorf("%w: layer %s: rekor bundle: %v", ErrInvalidSignature, l.Digest, err)
		}
		e.entries = []*tlog.Entry{entry}
	}
	return e, nil
}

func newTlogEntry(body []byte, integrated, index int64, logID, set []byte) (e *tlog.Entry, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("%v", r)
		}
	}()
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil {
		return nil, err
	}
	return tlog.NewTlogEntry(&protorekor.TransparencyLogEntry{
		LogIndex:          index,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    integrated,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		CanonicalizedBody: body,
	})
}

// legacySigned is a legacy signature as a sigstore-go SignedEntity.
type legacySigned struct {
	sgverify.BaseSignedEntity
	sig     *bundle.MessageSignature
	vc      sgverify.VerificationContent
	entries []*tlog.Entry
}

func (e *legacySigned) VerificationContent() (sgverify.VerificationContent, error) {
	return e.vc, nil
}
func (e *legacySigned) SignatureContent() (sgverify.SignatureContent, error) { return e.sig, nil }
func (e *legacySigned) TlogEntries() ([]*tlog.Entry, error)                  { return e.entries, nil }
func (e *legacySigned) HasInclusionPromise() bool                            { return len(e.entries) > 0 }
func (e *legacySigned) Version() (string, error)                             { return "v0.1", nil }
func (e *legacySigned) Timestamps() ([][]byte, error)                        { return nil, nil }

// keyMaterial is the verification content of a key-signed legacy
// signature: it names no key (no hint), so every trusted key is tried.
type keyMaterial struct{}

func (keyMaterial) CompareKey(any, root.TrustedMaterial) bool        { return false }
func (keyMaterial) ValidAtTime(time.Time, root.TrustedMaterial) bool { return true }
func (keyMaterial) Certificate() *x509.Certificate                   { return nil }
func (keyMaterial) Intermediates() []*x509.Certificate               { return nil }
func (keyMaterial) PublicKey() sgverify.PublicKeyProvider            { return noHint{} }

type noHint struct{}

func (noHint) Hint() string { return "" }
