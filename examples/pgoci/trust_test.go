package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
	"pgoci/trust"
)

// keyPair writes a P-256 key pair (PKCS#8 private key, PEM public key)
// and returns their paths.
func keyPair(t *testing.T, name string) (priv, pub string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := trust.MarshalPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	priv, pub = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// TestSignAndVerify: pgoci sign signs an index; install and resolve with
// --verify-key accept it and record the signature; another key, or an
// unsigned image, is refused with the location left as it was; inspect
// shows each signature with its status.
func TestSignAndVerify(t *testing.T) {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	signed := srv.Host() + "/ext/signed:" + demo.Version
	unsigned := srv.Host() + "/ext/unsigned:" + demo.Version
	for _, ref := range []string{signed, unsigned} {
		mustRun(t, append([]string{"pack", demoDir(t, "amd64"), ref}, packFlags("amd64")...)...)
	}
	key, pub := keyPair(t, "acme")
	_, otherPub := keyPair(t, "other")
	if out := mustRun(t, "sign", signed, "--key", key); !strings.Contains(out, "signature sha256:") {
		t.Fatalf("pgoci sign: %s", out)
	}
	target := []string{"--pg-major", "18", "--platform", "linux/amd64", "--libc", "glibc-2.36"}
	if out := mustRun(t, append([]string{"resolve", signed, "--verify-key", pub}, target...)...); !strings.Contains(out, "@sha256:") {
		t.Errorf("resolve --verify-key: %q", out)
	}
	root := t.TempDir()
	if out := mustRun(t, append([]string{"install", signed, "--root", root, "--verify-key", otherPub, "--verify-key", pub, "--cache", "-"}, target...)...); !strings.Contains(out, "verified") {
		t.Errorf("install --verify-key: %s", out)
	}
	for name, args := range map[string][]string{
		"another key": {"install", signed, "--verify-key", otherPub},
		"unsigned":    {"install", unsigned, "--verify-key", pub},
	} {
		fresh := t.TempDir()
		code, _, errOut := pgoci(t, append(append(args, "--root", fresh, "--cache", "-"), target...)...)
		if code != 1 || !strings.Contains(errOut, "trust:") {
			t.Errorf("%s: exit %d, stderr %s", name, code, errOut)
		}
		if entries, _ := os.ReadDir(fresh); len(entries) > 1 { // .pgoci at most
			t.Errorf("%s: a refused install left %d entries in the root", name, len(entries))
		}
	}
	out := mustRun(t, "inspect", signed, "--verify-key", pub)
	if !strings.Contains(out, "signature (bundle, on sha256:") || !strings.Contains(out, "verified") {
		t.Errorf("inspect --verify-key:\n%s", out)
	}
}
