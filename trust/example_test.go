package trust_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
	"pgoci/trust"
)

// Sign an image and verify it before installing: a signed image passes,
// an unsigned one is refused with an error that says why.
func ExampleVerify() {
	ctx := context.Background()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	repo, err := remote.NewRepository(srv.Host() + "/ext/demo")
	if err != nil {
		log.Fatal(err)
	}
	repo.PlainHTTP = true
	signed := pushArtifact(ctx, repo, "signed")
	unsigned := pushArtifact(ctx, repo, "unsigned")

	// The publisher signs with its private key (trust.LoadPrivateKey
	// reads a cosign.key).
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	if _, err := trust.Sign(ctx, repo, signed, priv, trust.SignOptions{Created: time.Unix(0, 0)}); err != nil {
		log.Fatal(err)
	}

	// The installer trusts the public key (trust.LoadPublicKey reads a
	// cosign.pub).
	pem, err := trust.MarshalPublicKey(priv.Public())
	if err != nil {
		log.Fatal(err)
	}
	key, err := trust.ParsePublicKey("acme.pub", pem)
	if err != nil {
		log.Fatal(err)
	}
	policy := trust.KeysPolicy(key)

	res, err := trust.Verify(ctx, repo, trust.Target{Repository: srv.Host() + "/ext/demo", Manifest: signed}, policy, trust.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed by", res.Signatures[0].Signer, "in the", res.Signatures[0].Format, "format")

	_, err = trust.Verify(ctx, repo, trust.Target{Repository: srv.Host() + "/ext/demo", Manifest: unsigned}, policy, trust.Options{})
	fmt.Println("unsigned refused:", errors.Is(err, trust.ErrNoSignature))
	// Output:
	// signed by acme.pub in the bundle format
	// unsigned refused: true
}

// pushArtifact pushes a small manifest and returns its descriptor.
func pushArtifact(ctx context.Context, repo *remote.Repository, text string) ocispec.Descriptor {
	layer, err := oras.PushBytes(ctx, repo, "application/octet-stream", []byte(text))
	if err != nil {
		log.Fatal(err)
	}
	d, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.example", oras.PackManifestOptions{
		Layers:              []ocispec.Descriptor{layer},
		ManifestAnnotations: map[string]string{"org.opencontainers.image.created": "1970-01-01T00:00:00Z"},
	})
	if err != nil {
		log.Fatal(err)
	}
	return d
}

// A policy file: the longest matching registry prefix applies.
func ExampleParsePolicy() {
	doc := `{"version": 1,
	  "scopes": [
	    {"registry": "registry.example.com/extensions",
	     "require": [{"predicateType": "https://slsa.dev/provenance/v1",
	                  "match": {"runDetails.builder.id": "^https://github.com/acme/"}}],
	     "keys": ["acme.pub"]},
	    {"registry": "registry.example.com/extensions/experimental"}]}`
	dir := exampleKeyDir()
	defer os.RemoveAll(dir)
	p, err := trust.ParsePolicy([]byte(doc), dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, repo := range []string{"registry.example.com/extensions/hstore", "registry.example.com/extensions/experimental/x", "docker.io/library/postgres"} {
		s := p.Scope(repo)
		switch {
		case s == nil:
			fmt.Printf("%s: nothing required\n", repo)
		case len(s.Keys) == 0:
			fmt.Printf("%s: exempted by %s\n", repo, s.Registry)
		default:
			fmt.Printf("%s: %d key, %d requirement\n", repo, len(s.Keys), len(s.Require))
		}
	}
	_, err = trust.ParsePolicy([]byte(`{"version": 1, "scope": []}`), dir)
	fmt.Println(strings.TrimPrefix(err.Error(), "trust: "))
	// Output:
	// registry.example.com/extensions/hstore: 1 key, 1 requirement
	// registry.example.com/extensions/experimental/x: exempted by registry.example.com/extensions/experimental
	// docker.io/library/postgres: nothing required
	// invalid policy: json: unknown field "scope"
}

// exampleKeyDir writes acme.pub into a new directory.
func exampleKeyDir() string {
	dir, err := os.MkdirTemp("", "trust-example-")
	if err != nil {
		log.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	pem, err := trust.MarshalPublicKey(priv.Public())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme.pub"), pem, 0o644); err != nil {
		log.Fatal(err)
	}
	return dir
}
