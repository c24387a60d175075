package trust

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// statement is the part of an in-toto statement (v0.1 or v1) that
// verification reads. The predicate stays raw until a requirement needs it.
type statement struct {
	Type          string             `json:"_type"`
	Subject       []statementSubject `json:"subject"`
	PredicateType string             `json:"predicateType"`
	Predicate     json.RawMessage    `json:"predicate"`
}

type statementSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

const (
	inTotoPayloadType = "application/vnd.in-toto+json"
	inTotoV01         = "https://in-toto.io/Statement/v0.1"
	inTotoV1          = "https://in-toto.io/Statement/v1"
)

func parseStatement(payload []byte) (statement, error) {
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return st, fmt.Errorf("%w: in-toto statement: %v", ErrInvalidSignature, err)
	}
	if st.Type != inTotoV01 && st.Type != inTotoV1 {
		return st, fmt.Errorf("%w: in-toto statement type %q", ErrInvalidSignature, shorten(st.Type))
	}
	if st.PredicateType == "" {
		return st, fmt.Errorf("%w: in-toto statement without predicateType", ErrInvalidSignature)
	}
	return st, nil
}

// names reports whether one of the statement's subjects is d.
func (st statement) names(d digest.Digest) bool {
	for _, s := range st.Subject {
		if v, ok := s.Digest[d.Algorithm().String()]; ok && strings.EqualFold(v, d.Encoded()) {
			return true
		}
	}
	return false
}

func (st statement) subjectDigests() string {
	var out []string
	for _, s := range st.Subject {
		for alg, v := range s.Digest {
			out = append(out, alg+":"+v)
		}
	}
	if len(out) == 0 {
		return "no subject"
	}
	return strings.Join(out, ", ")
}

// verified is what one signature artifact proved: who signed (Signer,
// KeyID or Identity), whether a transparency log entry was verified, and
// for a DSSE envelope the in-toto statement it carries.
type verified struct {
	signer   string
	keyID    string
	identity *CertIdentity
	tlog     bool
	// stmt and rawStmt are set for a DSSE envelope; nil rawStmt is a
	// message signature (or a legacy simple-signing payload).
	stmt    statement
	rawStmt []byte
}

// keyVerifiers returns the signature verifiers to try for key: the hash
// its owner most likely signed with first (cosign and sigstore-go use
// SHA-256 for P-256 and RSA, the curve's hash for P-384 and P-521).
func keyVerifiers(key crypto.PublicKey) []signature.Verifier {
	var hashes []crypto.Hash
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			hashes = []crypto.Hash{crypto.SHA384, crypto.SHA256}
		case elliptic.P521():
			hashes = []crypto.Hash{crypto.SHA512, crypto.SHA256}
		default:
			hashes = []crypto.Hash{crypto.SHA256}
		}
	case *rsa.PublicKey:
		hashes = []crypto.Hash{crypto.SHA256}
	default:
		hashes = []crypto.Hash{crypto.SHA256} // ignored by Ed25519
	}
	var out []signature.Verifier
	for _, h := range hashes {
		if v, err := signature.LoadVerifier(key, h); err == nil {
			out = append(out, v)
		}
	}
	if k, ok := key.(*rsa.PublicKey); ok {
		if v, err := signature.LoadVerifierWithOpts(k, options.WithHash(crypto.SHA256), options.WithRSAPSS(&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// bundleContent is a parsed sigstore bundle with its DSSE statement, if
// any, decoded.
type bundleContent struct {
	b       *bundle.Bundle
	dsse    bool
	stmt    statement
	rawStmt []byte
	msgAlg  string
	msgDig  []byte
}

func parseBundle(body []byte) (bc bundleContent, err error) {
	defer func() {
		if r := recover(); r != nil { // hostile input must not crash the caller
			err = fmt.Errorf("%w: bundle: %v", ErrInvalidSignature, r)
		}
	}()
	b := bundle.Bundle{Bundle: new(protobundle.Bundle)}
	if err := b.UnmarshalJSON(body); err != nil {
		return bc, fmt.Errorf("%w: bundle: %v", ErrInvalidSignature, err)
	}
	bc.b = &b
	sc, err := b.SignatureContent()
	if err != nil {
		return bc, fmt.Errorf("%w: bundle: %v", ErrInvalidSignature, err)
	}
	if env := sc.EnvelopeContent(); env != nil {
		raw := env.RawEnvelope()
		if raw.PayloadType != inTotoPayloadType {
			return bc, fmt.Errorf("%w: DSSE payload type %q, want %s", ErrInvalidSignature, shorten(raw.PayloadType), inTotoPayloadType)
		}
		payload, err := base64.StdEncoding.DecodeString(raw.Payload)
		if err != nil {
			return bc, fmt.Errorf("%w: DSSE payload: %v", ErrInvalidSignature, err)
		}
		if bc.stmt, err = parseStatement(payload); err != nil {
			return bc, err
		}
		bc.dsse, bc.rawStmt = true, payload
		return bc, nil
	}
	ms := sc.MessageSignatureContent()
	if ms == nil {
		return bc, fmt.Errorf("%w: bundle holds neither a DSSE envelope nor a message signature", ErrInvalidSignature)
	}
	bc.msgAlg, bc.msgDig = ms.DigestAlgorithm(), ms.Digest()
	return bc, nil
}

// checkSubject refuses content that signs another digest than subject.
func (bc bundleContent) checkSubject(subject digest.Digest) error {
	if bc.dsse {
		if !bc.stmt.names(subject) {
			return fmt.Errorf("%w: the signed statement is about %s, not %s", ErrDigestMismatch, shorten(bc.stmt.subjectDigests()), subject)
		}
		return nil
	}
	want := map[string]string{"SHA2_256": "sha256", "SHA2_384": "sha384", "SHA2_512": "sha512"}[bc.msgAlg]
	if want != subject.Algorithm().String() || hex.EncodeToString(bc.msgDig) != subject.Encoded() {
		return fmt.Errorf("%w: the message signature is over %s:%s, not %s", ErrDigestMismatch, strings.ToLower(bc.msgAlg), hex.EncodeToString(bc.msgDig), subject)
	}
	return nil
}

// artifactPolicy is what sigstore-go checks the signature against: the
// subject digest for a message signature; for a DSSE envelope the
// envelope's own signature, the subject being checked by checkSubject.
func (bc bundleContent) artifactPolicy(subject digest.Digest) sgverify.ArtifactPolicyOption {
	if bc.dsse {
		return sgverify.WithoutArtifactUnsafe()
	}
	raw, _ := hex.DecodeString(subject.Encoded())
	return sgverify.WithArtifactDigest(subject.Algorithm().String(), raw)
}

// tlogRequired reports whether a transparency log entry is required: the
// trusted root lists logs and the scope does not ignore them.
func (s *Scope) tlogRequired() bool { return !s.IgnoreTlog && s.TrustedRoot.hasLogs() }

// signed is a signature to verify with sigstore-go: a bundle, or a
// legacy signature made into a signed entity.
type signed struct {
	entity sgverify.SignedEntity
	policy sgverify.ArtifactPolicyOption
	// hint is the bundle's public key hint ("" if none).
	hint string
}

// verifyBundle verifies a bundle attached to subject with the scope's
// keys or identities.
func verifyBundle(bc bundleContent, subject digest.Digest, s *Scope) (verified, error) {
	sd := signed{entity: bc.b, policy: bc.artifactPolicy(subject)}
	v, err := verifyEntity(sd, s)
	if err != nil {
		return verified{}, err
	}
	if err := bc.checkSubject(subject); err != nil {
		return verified{}, err
	}
	v.stmt, v.rawStmt = bc.stmt, bc.rawStmt
	return v, nil
}

// verifyEntity verifies sd with the scope's keys (when signed with a key)
// or trusted root and identities (when signed with a certificate).
func verifyEntity(sd signed, s *Scope) (verified, error) {
	vc, err := sd.entity.VerificationContent()
	if err != nil {
		return verified{}, fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	if s.tlogRequired() {
		if entries, _ := sd.entity.TlogEntries(); len(entries) == 0 {
			return verified{}, fmt.Errorf("%w: no transparency log entry, and the trusted root %s lists logs (set insecureIgnoreTlog for offline keys)", ErrTlog, s.TrustedRoot.Name)
		}
	}
	if vc.Certificate() != nil {
		return verifyKeyless(sd, s)
	}
	if pk := vc.PublicKey(); pk != nil {
		if sd.hint == "" {
			sd.hint = pk.Hint()
		}
		return verifyKeyed(sd, s)
	}
	return verified{}, fmt.Errorf("%w: no verification material", ErrInvalidSignature)
}

func verifyKeyed(sd signed, s *Scope) (verified, error) {
	if len(s.Keys) == 0 {
		return verified{}, fmt.Errorf("%w: signed with a key, and the scope trusts identities only", ErrUntrustedSigner)
	}
	var firstErr error
	for _, k := range s.Keys {
		for _, kv := range keyVerifiers(k.Key) {
			key := root.NewExpiringKey(kv, time.Time{}, time.Time{})
			var tm root.TrustedMaterial = root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
			opts := []sgverify.VerifierOption{sgverify.WithNoObserverTimestamps()}
			if s.tlogRequired() {
				tm = root.TrustedMaterialCollection{tm, s.TrustedRoot.tr}
				opts = append(opts, sgverify.WithTransparencyLog(1))
			}
			res, err := runVerify(sd.entity, tm, opts, sgverify.NewPolicy(sd.policy, sgverify.WithKey()))
			if err == nil && res != nil {
				return verified{signer: k.Name, keyID: k.ID(), tlog: s.tlogRequired()}, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if isTlogError(firstErr) {
		return verified{}, fmt.Errorf("%w: %v", ErrTlog, firstErr)
	}
	for _, k := range s.Keys {
		if sd.hint != "" && sd.hint == hint(k.Key) {
			// Signed by a trusted key, yet the signature does not verify:
			// the content was changed.
			return verified{}, fmt.Errorf("%w: names trusted key %s but does not verify with it: %v", ErrInvalidSignature, k.Name, firstErr)
		}
	}
	h := ""
	if sd.hint != "" {
		h = fmt.Sprintf(" (its key hint is %s)", shorten(sd.hint))
	}
	return verified{}, fmt.Errorf("%w: signed by another key%s: it verifies with none of %s", ErrUntrustedSigner, h, keyNames(s.Keys))
}

func verifyKeyless(sd signed, s *Scope) (verified, error) {
	if len(s.Identities) == 0 || s.TrustedRoot == nil {
		return verified{}, fmt.Errorf("%w: signed keylessly (certificate), and the scope trusts keys only", ErrUntrustedSigner)
	}
	tr := s.TrustedRoot.tr
	var opts []sgverify.VerifierOption
	if s.tlogRequired() {
		opts = append(opts, sgverify.WithTransparencyLog(1), sgverify.WithObserverTimestamps(1))
	} else {
		// A short-lived certificate needs a trusted time: without a log,
		// a timestamp authority's.
		if len(tr.TimestampingAuthorities()) == 0 {
			return verified{}, fmt.Errorf("%w: keyless verification without a transparency log needs a timestamp authority in the trusted root %s", ErrTlog, s.TrustedRoot.Name)
		}
		opts = append(opts, sgverify.WithSignedTimestamps(1))
	}
	if len(tr.CTLogs()) > 0 {
		opts = append(opts, sgverify.WithSignedCertificateTimestamps(1))
	}
	res, err := runVerify(sd.entity, tr, opts, sgverify.NewPolicy(sd.policy, sgverify.WithoutIdentitiesUnsafe()))
	if err != nil {
		switch {
		case isTlogError(err):
			return verified{}, fmt.Errorf("%w: %v", ErrTlog, err)
		case strings.Contains(err.Error(), "certificate"):
			return verified{}, fmt.Errorf("%w: the certificate does not chain to the trusted root %s: %v", ErrUntrustedSigner, s.TrustedRoot.Name, err)
		}
		return verified{}, fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	if res.Signature == nil || res.Signature.Certificate == nil {
		return verified{}, fmt.Errorf("%w: no certificate in the verification result", ErrInvalidSignature)
	}
	sum := *res.Signature.Certificate
	got := CertIdentity{Issuer: sum.Issuer, Subject: sum.SubjectAlternativeName}
	for _, id := range s.Identities {
		if matchIdentity(id, sum) {
			return verified{signer: id.String(), identity: &got, tlog: s.tlogRequired()}, nil
		}
	}
	return verified{}, fmt.Errorf("%w: signed by %s from %s, trusted: %s", ErrIdentity, shorten(got.Subject), shorten(got.Issuer), identityNames(s.Identities))
}

// runVerify runs sigstore-go's verifier; a panic on hostile input is an
// error.
func runVerify(e sgverify.SignedEntity, tm root.TrustedMaterial, opts []sgverify.VerifierOption, pb sgverify.PolicyBuilder) (res *sgverify.VerificationResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("verifier: %v", r)
		}
	}()
	v, err := sgverify.NewVerifier(tm, opts...)
	if err != nil {
		return nil, err
	}
	return v.Verify(e, pb)
}

func matchIdentity(id Identity, sum certificate.Summary) bool {
	ci, err := sgverify.NewShortCertificateIdentity(id.Issuer, id.IssuerRegExp, id.Subject, id.SubjectRegExp)
	if err != nil {
		return false
	}
	return ci.Verify(sum) == nil
}

func isTlogError(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "log inclusion") || strings.Contains(m, "transparency log") || strings.Contains(m, "timestamp") || strings.Contains(m, "tlog")
}

func keyNames(keys []PublicKey) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return strings.Join(names, ", ")
}

func identityNames(ids []Identity) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id.String()
	}
	return strings.Join(names, "; ")
}

// CertIdentity is the identity a Fulcio certificate states.
type CertIdentity struct {
	// Issuer is the OIDC issuer (certificate extension 1.3.6.1.4.1.57264.1.8
	// or .1.1).
	Issuer string `json:"issuer"`
	// Subject is the certificate's subject alternative name: an email, a
	// URI (a CI workflow).
	Subject string `json:"subject"`
}

// verifyDSSEWithKeys verifies a bare DSSE envelope (a legacy .att layer)
// with the scope's keys: the signature is over the envelope's
// pre-authentication encoding.
func verifyDSSEWithKeys(env []byte, s *Scope) (verified, []byte, error) {
	var e struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(env, &e); err != nil {
		return verified{}, nil, fmt.Errorf("%w: DSSE envelope: %v", ErrInvalidSignature, err)
	}
	if e.PayloadType != inTotoPayloadType {
		return verified{}, nil, fmt.Errorf("%w: DSSE payload type %q", ErrInvalidSignature, shorten(e.PayloadType))
	}
	payload, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		return verified{}, nil, fmt.Errorf("%w: DSSE payload: %v", ErrInvalidSignature, err)
	}
	pae := dssePAE(e.PayloadType, payload)
	if len(e.Signatures) > 16 {
		return verified{}, nil, fmt.Errorf("%w: DSSE envelope with %d signatures", ErrInvalidSignature, len(e.Signatures))
	}
	for _, sig := range e.Signatures {
		raw, err := base64.StdEncoding.DecodeString(sig.Sig)
		if err != nil {
			continue
		}
		if k, ok := verifyRaw(raw, pae, s.Keys); ok {
			return verified{signer: k.Name, keyID: k.ID()}, payload, nil
		}
	}
	if len(s.Keys) == 0 {
		return verified{}, nil, fmt.Errorf("%w: legacy attestations are verified with keys only", ErrUntrustedSigner)
	}
	return verified{}, nil, fmt.Errorf("%w: signed by another key: it verifies with none of %s", ErrUntrustedSigner, keyNames(s.Keys))
}

// verifyRaw verifies sig over message with any of keys.
func verifyRaw(sig, message []byte, keys []PublicKey) (PublicKey, bool) {
	for _, k := range keys {
		for _, v := range keyVerifiers(k.Key) {
			if v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(message)) == nil {
				return k, true
			}
		}
	}
	return PublicKey{}, false
}

// dssePAE is the DSSE v1 pre-authentication encoding, what a DSSE
// signature signs.
func dssePAE(payloadType string, payload []byte) []byte {
	return fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload)
}
