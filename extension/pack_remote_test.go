package extension

import (
	"context"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
)

// TestPackToRegistry pushes to a registry and checks that what arrives is
// what an OCI layout gets: the same index digest, fetchable by tag.
func TestPackToRegistry(t *testing.T) {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	repo, err := remote.NewRepository(srv.Host() + "/ext/pgoci_demo")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	ctx := context.Background()
	var images []Image
	for _, p := range []ocispec.Platform{amd64, arm64} {
		img, err := Pack(ctx, repo, demoTree, demoBuild(p), PackOptions{})
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, img)
	}
	remoteIdx, err := PushIndex(ctx, repo, images, "1.1.0", "latest")
	if err != nil {
		t.Fatal(err)
	}
	localIdx, _ := packDemo(t, newStore(t), PackOptions{})
	if remoteIdx.Digest != localIdx.Digest {
		t.Errorf("registry index %s differs from layout index %s", remoteIdx.Digest, localIdx.Digest)
	}
	// A peer (oras-go's copy) pulls the whole graph by tag.
	dst := newStore(t)
	got, err := oras.Copy(ctx, repo, "latest", dst, "latest", oras.DefaultCopyOptions)
	if err != nil {
		t.Fatalf("copy from registry: %v", err)
	}
	if got.Digest != localIdx.Digest {
		t.Errorf("pulled %s, want %s", got.Digest, localIdx.Digest)
	}
}
