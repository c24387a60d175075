package trust

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"oras.land/oras-go/v2/content"
)

// Store is where [Sign] writes: a repository or an OCI
// layout that can also be read. oras-go's *remote.Repository and
// *oci.Store satisfy it.
type Store interface {
	content.Fetcher
	content.Pusher
}

// SignOptions tunes [Sign]. The zero value signs the one descriptor given.
type SignOptions struct {
	// Manifests also signs every image manifest the index lists (its
	// BuildKit attestation manifests excepted), each with its own
	// referrer. Ignored when the descriptor is a manifest.
	Manifests bool
	// Created is the org.opencontainers.image.created annotation of the
	// referrer manifest. Default: the current time (a signature is not
	// reproducible anyway: ECDSA signatures are randomised).
	Created time.Time
}

// Sign signs desc (an index or a manifest in dst) with signer and pushes
// the signature as cosign v3 does: an OCI 1.1 referrer of desc with
// artifact type [ArtifactTypeBundle], whose one layer is a sigstore
// bundle v0.3 holding a DSSE envelope of an in-toto statement
// (predicate type [PredicateCosignSign]) whose subject is desc's digest,
// with the public key's hint as verification material and no
// transparency log entry or timestamp (offline signing). A registry
// without the referrers API gets the sha256-<hex> tag index instead
// (oras-go maintains it).
//
// `cosign verify --key cosign.pub --insecure-ignore-tlog=true REF@DIGEST`
// accepts it (cosign v3.1.3; offline, without a trusted root), and so
// does [Verify] with the public key.
//
// signer is an *ecdsa.PrivateKey (P-256, P-384, P-521), an
// ed25519.PrivateKey, an *rsa.PrivateKey, or any crypto.Signer with such
// a public key (a KMS, an HSM); [LoadPrivateKey] reads cosign.key. It
// returns the referrer manifests pushed: desc's first, then each
// manifest's with opts.Manifests.
func Sign(ctx context.Context, dst Store, desc ocispec.Descriptor, signer crypto.Signer, opts SignOptions) ([]ocispec.Descriptor, error) {
	if err := checkKey(signer.Public()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	targets := []ocispec.Descriptor{desc}
	if opts.Manifests && (desc.MediaType == ocispec.MediaTypeImageIndex || desc.MediaType == "application/vnd.docker.distribution.manifest.list.v2+json") {
		idx, err := fetchIndex(ctx, dst, desc)
		if err != nil {
			return nil, err
		}
		if len(idx.Manifests) > 256 {
			return nil, fmt.Errorf("%w: index %s lists %d manifests", ErrTooManyReferrers, desc.Digest, len(idx.Manifests))
		}
		for _, m := range idx.Manifests {
			if m.Annotations[annotationDockerRefType] == "attestation-manifest" {
				continue
			}
			targets = append(targets, ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size})
		}
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}
	var out []ocispec.Descriptor
	for _, t := range targets {
		d, err := signOne(ctx, dst, t, signer, created)
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

func signOne(ctx context.Context, dst Store, desc ocispec.Descriptor, signer crypto.Signer, created time.Time) (ocispec.Descriptor, error) {
	if err := desc.Digest.Validate(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%w: %v", ErrDigest, err)
	}
	body, err := SignBundle(desc.Digest, PredicateCosignSign, nil, signer)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	annots := map[string]string{
		ocispec.AnnotationCreated: created.UTC().Format(time.RFC3339),
		annotationBundleContent:   "dsse-envelope",
		annotationBundlePredicate: PredicateCosignSign,
	}
	return pushReferrer(ctx, dst, desc, ArtifactTypeBundle, ArtifactTypeBundle, body, annots)
}

// SignBundle signs an in-toto statement about d (predicate type
// predicateType, predicate the JSON object predicate, nil for {}) and
// returns the sigstore bundle v0.3 JSON, keyed and offline: what [Sign]
// and `pgoci attest`-like tools push as a referrer.
func SignBundle(d digest.Digest, predicateType string, predicate json.RawMessage, signer crypto.Signer) ([]byte, error) {
	if len(predicate) == 0 {
		predicate = json.RawMessage(`{}`)
	}
	stmt, err := json.Marshal(struct {
		Type          string             `json:"_type"`
		Subject       []statementSubject `json:"subject"`
		PredicateType string             `json:"predicateType"`
		Predicate     json.RawMessage    `json:"predicate"`
	}{inTotoV1, []statementSubject{{Digest: map[string]string{d.Algorithm().String(): d.Encoded()}}}, predicateType, predicate})
	if err != nil {
		return nil, fmt.Errorf("trust: statement: %w", err)
	}
	sig, err := signMessage(signer, dssePAE(inTotoPayloadType, stmt))
	if err != nil {
		return nil, err
	}
	pb := &protobundle.Bundle{
		MediaType: ArtifactTypeBundle,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint(signer.Public())}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     stmt,
			PayloadType: inTotoPayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	}
	return protojson.Marshal(pb)
}

// signMessage signs msg as sigstore verifies it: ECDSA over the curve's
// hash (SHA-256 for P-256), RSA PKCS#1 v1.5 over SHA-256, Ed25519 over
// the message itself.
func signMessage(signer crypto.Signer, msg []byte) ([]byte, error) {
	var h crypto.Hash
	switch k := signer.Public().(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			h = crypto.SHA384
		case elliptic.P521():
			h = crypto.SHA512
		default:
			h = crypto.SHA256
		}
	case *rsa.PublicKey:
		h = crypto.SHA256
	case ed25519.PublicKey:
		sig, err := signer.Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil {
			return nil, fmt.Errorf("trust: sign: %w", err)
		}
		return sig, nil
	}
	hh := h.New()
	hh.Write(msg)
	sig, err := signer.Sign(rand.Reader, hh.Sum(nil), h)
	if err != nil {
		return nil, fmt.Errorf("trust: sign: %w", err)
	}
	return sig, nil
}
