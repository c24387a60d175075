package extension

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
	"pgoci/resolve"
	"pgoci/trust"
)

// signIndex signs the index tagged repo:tag with key, as cosign does.
func signIndex(t *testing.T, srv *testregistry.Server, repo, tag string, idx digest.Digest, key *ecdsa.PrivateKey) {
	t.Helper()
	r, err := remote.NewRepository(srv.Host() + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	desc, err := r.Resolve(context.Background(), tag)
	if err != nil || desc.Digest != idx {
		t.Fatalf("resolve %s:%s: %v %s", repo, tag, err, desc.Digest)
	}
	if _, err := trust.Sign(context.Background(), r, ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, key, trust.SignOptions{}); err != nil {
		t.Fatal(err)
	}
}

// layersOf lists the layer digests of the image ref resolves to.
func layersOf(t *testing.T, ref string) []digest.Digest {
	t.Helper()
	res, err := resolve.ResolveReference(context.Background(), ref, instTarget(18), resolve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []digest.Digest
	for _, l := range res.ManifestBody.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// TestInstallVerifiesSignatures: with a Verifier, an image signed by the
// trusted key installs and its signature is recorded (record and lock
// file); an unsigned one, one signed by another key, and a dependency
// that is not signed are refused before any layer is fetched, leaving the
// root as it was.
func TestInstallVerifiesSignatures(t *testing.T) {
	srv := instRegistry(t)
	trusted, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signIndex(t, srv, "ext/cube", "1.5", instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"})), trusted)
	instPush(t, srv, "ext/plain", "1.0", "plain", 18, instFiles(instExt{name: "plain", version: "1.0"}))
	signIndex(t, srv, "ext/forged", "1.0", instPush(t, srv, "ext/forged", "1.0", "forged", 18, instFiles(instExt{name: "forged", version: "1.0"})), other)
	signIndex(t, srv, "ext/usesplain", "1.0", instPush(t, srv, "ext/usesplain", "1.0", "usesplain", 18,
		instFiles(instExt{name: "usesplain", version: "1.0", requires: []string{"plain"}, sqlOnly: true})), trusted)
	v, err := trust.NewVerifier(trust.KeysPolicy(trust.PublicKey{Name: "trusted.pub", Key: &trusted.PublicKey}), trust.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		ref  string
		want error
	}{
		{"ext/plain:1.0", trust.ErrNoSignature},
		{"ext/forged:1.0", trust.ErrUntrustedSigner},
		{"ext/usesplain:1.0", trust.ErrNoSignature}, // its dependency is unsigned
	} {
		t.Run(tc.ref, func(t *testing.T) {
			root := t.TempDir()
			opts := instOptions(t, root)
			opts.Verifier = v
			srv.ResetRequests()
			_, err := installAt(ctx, srv.Host()+"/"+tc.ref, instTarget(18), opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("install %s: %v, want %v", tc.ref, err, tc.want)
			}
			requests := instRequests(srv)
			for _, l := range layersOf(t, srv.Host()+"/"+tc.ref) {
				for _, r := range requests {
					if strings.HasSuffix(r, "/blobs/"+l.String()) {
						t.Errorf("layer %s was fetched before the refusal", l)
					}
				}
			}
			if diff := cmp.Diff(map[string]string{".": "dir -rwxr-xr-x"}, instSnapshot(t, root, ".pgoci")); diff != "" {
				t.Errorf("a refused install changed the root:\n%s", diff)
			}
		})
	}
	root := t.TempDir()
	opts := instOptions(t, root)
	opts.Verifier = v
	res, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), opts)
	if err != nil {
		t.Fatal(err)
	}
	sig := res.Packages[0].Signature
	lf, err := readLockFile(filepath.Join(root, ".pgoci", "lock.json"))
	if err != nil || sig == "" || lf.Packages["cube"].Signature != sig {
		t.Errorf("signature %q recorded; lock file %+v, %v", sig, lf.Packages["cube"], err)
	}
}
