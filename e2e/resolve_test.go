//go:build e2e

package e2e

import (
	"context"
	"errors"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/labels"
	"pgoci/resolve"
)

// TestResolveAgainstRealRegistry: resolve runs unchanged against the CNCF
// distribution registry: it picks the manifest of the target's platform
// and refuses a target of another PostgreSQL major or libc family with the
// property named.
func TestResolveAgainstRealRegistry(t *testing.T) {
	host := registry(t)
	repo, err := remote.NewRepository(host + "/resolve/pgoci_demo")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	idx := packDemo(t, repo, extension.Zstd)
	ref := host + "/resolve/pgoci_demo:1.1.0"

	target := resolve.Target{
		PG:       labels.PG{Major: 18, VersionNum: 180004},
		Platform: ocispec.Platform{OS: "linux", Architecture: "arm64"},
		Libc:     labels.Libc{Family: "glibc", Version: "2.41"},
	}
	ctx := context.Background()
	got, err := resolve.ResolveReference(ctx, ref, target, resolve.Options{})
	if err != nil {
		t.Fatalf("resolve %s: %v", ref, err)
	}
	if got.Index.Digest != idx.Digest || got.Platform.Architecture != "arm64" {
		t.Errorf("resolved index %s platform %s, want index %s arm64", got.Index.Digest, resolve.PlatformString(got.Platform), idx.Digest)
	}
	if got.Metadata.Package.Name != "pgoci_demo" {
		t.Errorf("metadata package = %q, want pgoci_demo", got.Metadata.Package.Name)
	}

	// By version constraint over the repository's tags.
	byVersion, err := resolve.ResolveReference(ctx, host+"/resolve/pgoci_demo", target, resolve.Options{Version: ">=1.0,<2"})
	if err != nil || byVersion.Manifest.Digest != got.Manifest.Digest {
		t.Errorf("resolve by version: %v, manifest %s want %s", err, byVersion.Manifest.Digest, got.Manifest.Digest)
	}

	for _, bad := range []struct {
		name   string
		mutate func(*resolve.Target)
	}{
		{"other major", func(t *resolve.Target) { t.PG = labels.PG{Major: 17} }},
		{"musl", func(t *resolve.Target) { t.Libc = labels.Libc{Family: "musl", Version: "1.2.5"} }},
		{"libc too old", func(t *resolve.Target) { t.Libc.Version = "2.31" }},
	} {
		t.Run(bad.name, func(t *testing.T) {
			tg := target
			bad.mutate(&tg)
			_, err := resolve.ResolveReference(ctx, ref, tg, resolve.Options{})
			var inc *resolve.IncompatibleError
			if !errors.As(err, &inc) || len(inc.Candidates) == 0 {
				t.Fatalf("err = %v, want *resolve.IncompatibleError with candidates", err)
			}
		})
	}
}
