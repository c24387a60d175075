package trust

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/trust/referrers"
)

func TestLoadPrivateKey(t *testing.T) {
	dir := t.TempDir()
	key := keys(t)["ecdsa-p256"]
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	enc, err := MarshalEncryptedPrivateKey(key, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	ecDER, _ := x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
	block, _ := pem.Decode(enc)
	oldStyle := pem.EncodeToMemory(&pem.Block{Type: pemEncryptedCosign, Bytes: block.Bytes})
	small, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	smallDER, _ := x509.MarshalPKCS8PrivateKey(small)
	pass := func(p string) func() ([]byte, error) { return func() ([]byte, error) { return []byte(p), nil } }
	tests := []struct {
		name     string
		file     []byte
		password func() ([]byte, error)
		want     error
	}{
		{"encrypted sigstore key", enc, pass("s3cret"), nil},
		{"encrypted cosign key (older PEM type)", oldStyle, pass("s3cret"), nil},
		{"wrong password", enc, pass("guess"), ErrKey},
		{"no password given", enc, nil, ErrKey},
		{"password prompt fails", enc, func() ([]byte, error) { return nil, errors.New("no terminal") }, ErrKey},
		{"plain PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil, nil},
		{"SEC 1", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), nil, nil},
		{"public key", mustPEM(t, key), nil, ErrKey},
		{"not PEM", []byte("hello"), nil, ErrKey},
		{"unsupported curve", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: smallDER}), nil, ErrKey},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadPrivateKey(write(string(rune('a'+i))+".key", tc.file), tc.password)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !s.Public().(*ecdsa.PublicKey).Equal(key.Public()) {
				t.Error("another key was loaded")
			}
		})
	}
	if _, err := LoadPrivateKey(filepath.Join(dir, "missing.key"), nil); !errors.Is(err, ErrKey) {
		t.Errorf("missing file: err = %v", err)
	}
	if _, err := LoadPublicKey(write("small.pub", mustPEM(t, small))); !errors.Is(err, ErrKey) {
		t.Errorf("P-224 public key: err = %v, want ErrKey", err)
	}
}

func mustPEM(t *testing.T, s crypto.Signer) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: b})
}

// TestSignManifests signs an index and every manifest under it.
func TestSignManifests(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	repo := newRepo(t, srv, "sign/all")
	a, b := pushImage(t, repo, "amd64", ""), pushImage(t, repo, "arm64", "")
	idx := pushIndex(t, repo, a, b)
	key := keys(t)["ecdsa-p384"]
	sigs, err := Sign(ctx, repo, idx, key, SignOptions{Manifests: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 3 {
		t.Fatalf("%d signatures, want 3", len(sigs))
	}
	p := KeysPolicy(pub(t, "k.pub", key))
	for _, m := range []ocispec.Descriptor{a, b} {
		res, err := Verify(ctx, repo, Target{Manifest: m}, p, Options{})
		if err != nil || res.Signatures[0].Subject.Digest != m.Digest {
			t.Errorf("%s: Verify = %+v, %v", m.Digest, res, err)
		}
	}
}

// TestArtifacts lists what Copy carries: referrers of any type and the
// legacy tags.
func TestArtifacts(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	repo := newRepo(t, srv, "artifacts/img")
	img := pushImage(t, repo, "artifacts", "")
	sig := sign(t, repo, img, keys(t)["ecdsa-p256"])
	att := attest(t, repo, img, slsaV1, provenance("b"))
	sbom, err := referrers.Push(ctx, repo, img, referrers.ArtifactTypeSPDX, referrers.ArtifactTypeSPDX, []byte(`{"spdxVersion":"SPDX-2.3"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	legacy := pushImage(t, repo, "a legacy signature", fallbackTag(img.Digest, ".sig"))
	got, err := referrers.Artifacts(ctx, repo, img, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{sig.Digest.String(): KindSignature, att.Digest.String(): KindAttestation, sbom.Digest.String(): referrers.KindSBOM, legacy.Digest.String(): KindSignature}
	if len(got) != len(want) {
		t.Fatalf("artifacts = %+v, want %d", got, len(want))
	}
	for _, a := range got {
		if want[a.Descriptor.Digest.String()] != a.Kind {
			t.Errorf("%s: kind %s, want %s", a.Descriptor.Digest, a.Kind, want[a.Descriptor.Digest.String()])
		}
		if (a.Descriptor.Digest == legacy.Digest) != (a.Tag == fallbackTag(img.Digest, ".sig")) {
			t.Errorf("%s: tag %q", a.Descriptor.Digest, a.Tag)
		}
	}
	if _, err := referrers.Artifacts(ctx, repo, img, 2); !errors.Is(err, ErrTooManyReferrers) {
		t.Errorf("bounded: err = %v, want ErrTooManyReferrers", err)
	}
}
