//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/internal/demo"
	"pgoci/labels"
)

func packDemo(t *testing.T, dst oras.Target, c extension.Compression) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	var images []extension.Image
	for _, arch := range []string{"amd64", "arm64"} {
		platform, meta := demo.Build(demo.Major, arch)
		tree, err := demo.Tree(t.TempDir(), demo.Major, arch)
		if err != nil {
			t.Fatal(err)
		}
		img, err := extension.Pack(ctx, dst, tree, extension.Build{Platform: platform, Metadata: meta},
			extension.PackOptions{Compression: c})
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, img)
	}
	idx, err := extension.PushIndex(ctx, dst, images, demo.Version)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// TestPeersAcceptPackedImages: images pgoci packs are valid for crane,
// skopeo and oras, both in a real registry and in an OCI layout directory.
func TestPeersAcceptPackedImages(t *testing.T) {
	host := registry(t)
	repo, err := remote.NewRepository(host + "/peers/pgoci_demo")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	idx := packDemo(t, repo, extension.Zstd)
	ref := host + "/peers/pgoci_demo:1.1.0"

	layoutDir := filepath.Join(t.TempDir(), "oci")
	store, err := oci.New(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	if local := packDemo(t, store, extension.Zstd); local.Digest != idx.Digest {
		t.Errorf("layout index %s differs from registry index %s", local.Digest, idx.Digest)
	}

	// crane validate decompresses every layer as gzip (go-containerregistry
	// issue 1826): zstd images get the structural check (--fast), a gzip
	// build of the same tree the full one.
	t.Run("crane validate", func(t *testing.T) {
		gzipRepo, err := remote.NewRepository(host + "/peers/pgoci_demo_gzip")
		if err != nil {
			t.Fatal(err)
		}
		gzipRepo.PlainHTTP = true
		packDemo(t, gzipRepo, extension.Gzip)
		for _, arch := range []string{"amd64", "arm64"} {
			run(t, "crane", "validate", "--insecure", "--platform", "linux/"+arch, "--fast", "--remote", ref)
			run(t, "crane", "validate", "--insecure", "--platform", "linux/"+arch, "--remote", host+"/peers/pgoci_demo_gzip:1.1.0")
		}
	})
	t.Run("crane digest", func(t *testing.T) {
		if got := strings.TrimSpace(run(t, "crane", "digest", "--insecure", ref)); got != idx.Digest.String() {
			t.Errorf("crane digest = %s, want %s", got, idx.Digest)
		}
	})
	t.Run("skopeo inspect registry", func(t *testing.T) {
		out := run(t, "skopeo", "inspect", "--tls-verify=false", "--override-arch", "arm64", "docker://"+ref)
		var got struct {
			Labels       map[string]string
			Architecture string
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("skopeo output: %v\n%s", err, out)
		}
		if got.Architecture != "arm64" || got.Labels[labels.KeyPackageName] != "pgoci_demo" {
			t.Errorf("skopeo sees arch %q, labels %v", got.Architecture, got.Labels)
		}
	})
	t.Run("skopeo inspect layout", func(t *testing.T) {
		run(t, "skopeo", "inspect", "--override-arch", "amd64", "oci:"+layoutDir+":1.1.0")
	})
	t.Run("oras manifest fetch", func(t *testing.T) {
		out := run(t, "oras", "manifest", "fetch", "--plain-http", ref)
		var index ocispec.Index
		if err := json.Unmarshal([]byte(out), &index); err != nil || len(index.Manifests) != 2 {
			t.Errorf("oras fetched %d manifests (err %v), want 2", len(index.Manifests), err)
		}
		run(t, "oras", "manifest", "fetch", "--oci-layout", layoutDir+":1.1.0")
	})
}
