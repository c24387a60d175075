package trust

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
)

// newRegistry starts an in-process registry for the test.
func newRegistry(t *testing.T) *testregistry.Server {
	t.Helper()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// newRepo opens repository name of srv.
func newRepo(t *testing.T, srv *testregistry.Server, name string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(srv.Host() + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	return repo
}

// pushBlob pushes body as mediaType and returns its descriptor.
func pushBlob(t *testing.T, dst content.Pusher, mediaType string, body []byte) ocispec.Descriptor {
	t.Helper()
	d := content.NewDescriptorFromBytes(mediaType, body)
	if err := push(context.Background(), dst, d, body); err != nil {
		t.Fatal(err)
	}
	return d
}

// pushImage pushes a small image manifest whose layer holds text, and tags
// it when tag is set.
func pushImage(t *testing.T, dst Store, text, tag string) ocispec.Descriptor {
	t.Helper()
	cfg := pushBlob(t, dst, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux"}`))
	layer := pushBlob(t, dst, ocispec.MediaTypeImageLayer, []byte(text))
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer}}
	d := pushJSON(t, dst, ocispec.MediaTypeImageManifest, m)
	if tag != "" {
		tagIt(t, dst, d, tag)
	}
	return d
}

func tagIt(t *testing.T, dst any, d ocispec.Descriptor, tag string) {
	t.Helper()
	tg, ok := dst.(interface {
		Tag(context.Context, ocispec.Descriptor, string) error
	})
	if !ok {
		t.Fatalf("%T cannot tag", dst)
	}
	if err := tg.Tag(context.Background(), d, tag); err != nil {
		t.Fatal(err)
	}
}

// pushIndex pushes an index of entries.
func pushIndex(t *testing.T, dst Store, entries ...ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: entries}
	return pushJSON(t, dst, ocispec.MediaTypeImageIndex, idx)
}

func pushJSON(t *testing.T, dst content.Pusher, mediaType string, v any) ocispec.Descriptor {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return pushBlob(t, dst, mediaType, b)
}

// pushBundleReferrer attaches bundle body to subject as cosign does.
func pushBundleReferrer(t *testing.T, dst Store, subject ocispec.Descriptor, body []byte, predicateType string) ocispec.Descriptor {
	t.Helper()
	d, err := pushReferrer(context.Background(), dst, subject, ArtifactTypeBundle, ArtifactTypeBundle, body, map[string]string{
		annotationBundleContent: "dsse-envelope", annotationBundlePredicate: predicateType,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var (
	keysOnce sync.Once
	testKeys map[string]crypto.Signer
)

// keys returns one signer of each supported type, made once.
func keys(t *testing.T) map[string]crypto.Signer {
	t.Helper()
	keysOnce.Do(func() {
		testKeys = map[string]crypto.Signer{}
		p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p256b, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		rs, _ := rsa.GenerateKey(rand.Reader, 2048)
		testKeys["ecdsa-p256"], testKeys["other"], testKeys["ecdsa-p384"], testKeys["ed25519"], testKeys["rsa-2048"] = p256, p256b, p384, ed, rs
	})
	return testKeys
}

func pub(t *testing.T, name string, s crypto.Signer) PublicKey {
	t.Helper()
	b, err := MarshalPublicKey(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublicKey(name, b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sign(t *testing.T, dst Store, d ocispec.Descriptor, s crypto.Signer) ocispec.Descriptor {
	t.Helper()
	out, err := Sign(context.Background(), dst, d, s, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// statementJSON is an in-toto v1 statement about d.
func statementJSON(d digest.Digest, predicateType string, predicate any) []byte {
	b, _ := json.Marshal(map[string]any{
		"_type":         inTotoV1,
		"subject":       []any{map[string]any{"name": "image", "digest": map[string]string{"sha256": d.Encoded()}}},
		"predicateType": predicateType,
		"predicate":     predicate,
	})
	return b
}

// virtualSigstore is a Sigstore made in the test: a Fulcio CA, a Rekor
// log, a timestamp authority; keyless bundles and a trusted root file.
type virtualSigstore struct {
	vs *ca.VirtualSigstore
}

func newVirtualSigstore(t *testing.T) *virtualSigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return &virtualSigstore{vs: vs}
}

// trustedRoot writes the trusted root JSON (no CT logs: the virtual
// certificates carry no SCT) and loads it.
func (v *virtualSigstore) trustedRoot(t *testing.T, withLogs bool) *TrustedRoot {
	t.Helper()
	var logs map[string]*root.TransparencyLog
	if withLogs {
		// The virtual log's ID is its hex key ID as text; a trusted root
		// file holds the raw key ID.
		logs = map[string]*root.TransparencyLog{}
		for id, l := range v.vs.RekorLogs() {
			raw, err := hex.DecodeString(id)
			if err != nil {
				t.Fatal(err)
			}
			cp := *l
			cp.ID = raw
			logs[id] = &cp
		}
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, v.vs.FulcioCertificateAuthorities(), nil, v.vs.TimestampingAuthorities(), logs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := LoadTrustedRoot(path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// bundle signs stmt keylessly as identity/issuer and returns a v0.3
// bundle with the certificate, the Rekor entry (with inclusion proof)
// when tlog is set, and the RFC 3161 timestamp when tsa is set.
func (v *virtualSigstore) bundle(t *testing.T, identity, issuer string, stmt []byte, withTlog, withTSA bool) []byte {
	t.Helper()
	ent, err := v.vs.AttestAtTime(identity, issuer, stmt, time.Now().Add(5*time.Minute), true)
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := ent.VerificationContent()
	sc, _ := ent.SignatureContent()
	env := sc.EnvelopeContent().RawEnvelope()
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	vm := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
	}
	if withTlog {
		entries, _ := ent.TlogEntries()
		tle := entries[0].TransparencyLogEntry()
		// The virtual log's entry lacks its kind and promise: add them,
		// as Rekor would.
		logID, _ := v.vs.RekorLogID()
		set, err := v.vs.RekorSignPayload(tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(tle.CanonicalizedBody), IntegratedTime: tle.IntegratedTime, LogIndex: tle.LogIndex, LogID: logID})
		if err != nil {
			t.Fatal(err)
		}
		tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
		tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
		vm.TlogEntries = append(vm.TlogEntries, tle)
	}
	if withTSA {
		tss, _ := ent.Timestamps()
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tss[0]}}}
	}
	pb := &protobundle.Bundle{
		MediaType:            ArtifactTypeBundle,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: env.PayloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
	b, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editBundle decodes a bundle JSON, lets fn change it, and encodes it.
func editBundle(t *testing.T, body []byte, fn func(pb *protobundle.Bundle)) []byte {
	t.Helper()
	pb := &protobundle.Bundle{}
	if err := protojson.Unmarshal(body, pb); err != nil {
		t.Fatal(err)
	}
	fn(pb)
	b, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// flip returns b with one bit of byte i changed.
func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i%len(out)] ^= 1
	return out
}

var specVersion = specs.Versioned{SchemaVersion: 2}

// legacyAnnotations signs payload keylessly and returns the annotations
// of a legacy .sig layer: signature, certificate, Rekor bundle.
func (v *virtualSigstore) legacyAnnotations(t *testing.T, identity, issuer string, payload []byte) map[string]string {
	t.Helper()
	ent, err := v.vs.SignAtTime(identity, issuer, payload, time.Now().Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := ent.VerificationContent()
	sc, _ := ent.SignatureContent()
	entries, _ := ent.TlogEntries()
	tle := entries[0].TransparencyLogEntry()
	logID, _ := v.vs.RekorLogID()
	rp := tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(tle.CanonicalizedBody), IntegratedTime: tle.IntegratedTime, LogIndex: tle.LogIndex, LogID: logID}
	set, err := v.vs.RekorSignPayload(rp)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := json.Marshal(map[string]any{"SignedEntryTimestamp": set, "Payload": rp})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vc.Certificate().Raw})
	return map[string]string{
		annotationCosignSignature:   base64.StdEncoding.EncodeToString(sc.Signature()),
		annotationCosignCertificate: string(certPEM),
		annotationCosignBundle:      string(rb),
	}
}
