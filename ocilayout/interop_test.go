package ocilayout

import (
	"context"
	"os"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry"
)

// buildGraph packs a small image and a referrer to it into src.
func buildGraph(t *testing.T, ctx context.Context, dst oras.Target) (image, sig ocispec.Descriptor) {
	t.Helper()
	layer, err := oras.PushBytes(ctx, dst, ocispec.MediaTypeImageLayer, []byte("layer bytes"))
	if err != nil {
		t.Fatal(err)
	}
	image, err = oras.PackManifest(ctx, dst, oras.PackManifestVersion1_1, "application/example", oras.PackManifestOptions{Layers: []ocispec.Descriptor{layer}})
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.Tag(ctx, image, "v1"); err != nil {
		t.Fatal(err)
	}
	sig, err = oras.PackManifest(ctx, dst, oras.PackManifestVersion1_1, "application/example.sig", oras.PackManifestOptions{Subject: &image})
	if err != nil {
		t.Fatal(err)
	}
	return image, sig
}

// TestOrasReadsStore: oras-go's read-only OCI store opens a layout that
// Store wrote, resolves its tag, and lists the referrer.
func TestOrasReadsStore(t *testing.T) {
	ctx := context.Background()
	mem := memory.New()
	image, sig := buildGraph(t, ctx, mem)
	s := newTestStore(t)
	if _, err := oras.Copy(ctx, mem, "v1", s, "v1", oras.DefaultCopyOptions); err != nil {
		t.Fatal(err)
	}
	if err := oras.CopyGraph(ctx, mem, s, sig, oras.DefaultCopyGraphOptions); err != nil {
		t.Fatal(err)
	}
	ro, err := oci.NewFromFS(ctx, os.DirFS(s.Dir()))
	if err != nil {
		t.Fatalf("oras-go cannot open the layout: %v", err)
	}
	got, err := ro.Resolve(ctx, "v1")
	if err != nil || got.Digest != image.Digest {
		t.Fatalf("oras-go resolves v1 to %v, %v; want %s", got.Digest, err, image.Digest)
	}
	if _, err := content.FetchAll(ctx, ro, got); err != nil {
		t.Error(err)
	}
	refs, err := registry.Referrers(ctx, ro, image, "")
	if err != nil || len(refs) != 1 || refs[0].Digest != sig.Digest {
		t.Errorf("oras-go lists referrers %v, %v; want [%s]", refs, err, sig.Digest)
	}
}

// TestStoreReadsOras: Store opens what oras-go's OCI store writes.
func TestStoreReadsOras(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w, err := oci.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	image, _ := buildGraph(t, ctx, w)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Resolve(ctx, "v1")
	if err != nil || got.Digest != image.Digest {
		t.Fatalf("Resolve(v1) = %v, %v; want %s", got.Digest, err, image.Digest)
	}
	dst := memory.New()
	if _, err := oras.Copy(ctx, s, "v1", dst, "v1", oras.DefaultCopyOptions); err != nil {
		t.Errorf("copy out of an oras-written layout: %v", err)
	}
	// Store tags it too; oras-go still reads the result.
	if err := s.Tag(ctx, got, "v1-copy"); err != nil {
		t.Fatal(err)
	}
	ro, err := oci.NewFromFS(ctx, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := ro.Resolve(ctx, "v1-copy"); err != nil || d.Digest != image.Digest {
		t.Errorf("oras-go resolves v1-copy to %v, %v", d.Digest, err)
	}
}

// TestOrasLosesTags is why this package exists: two oras-go OCI stores on
// one directory (two processes, each with its own handle) lose each
// other's tags, while two Stores keep both.
func TestOrasLosesTags(t *testing.T) {
	ctx := context.Background()
	tagTwice := func(t *testing.T, open func(dir string) (oras.Target, error)) []string {
		t.Helper()
		dir := t.TempDir()
		a, err := open(dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := open(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []struct {
			st  oras.Target
			tag string
		}{{a, "from-a"}, {b, "from-b"}} {
			d, err := oras.PackManifest(ctx, w.st, oras.PackManifestVersion1_1, "application/example",
				oras.PackManifestOptions{ManifestAnnotations: map[string]string{"writer": w.tag}})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.st.Tag(ctx, d, w.tag); err != nil {
				t.Fatal(err)
			}
		}
		ro, err := oci.NewFromFS(ctx, os.DirFS(dir))
		if err != nil {
			t.Fatal(err)
		}
		var tags []string
		if err := ro.Tags(ctx, "", func(ts []string) error { tags = append(tags, ts...); return nil }); err != nil {
			t.Fatal(err)
		}
		return tags
	}
	orasTags := tagTwice(t, func(dir string) (oras.Target, error) { return oci.New(dir) })
	// The package documentation says so: a new oras-go that keeps both
	// tags should make this fail, and the documentation change.
	if len(orasTags) != 1 {
		t.Errorf("oras-go's OCI store, two handles on one layout: tags %v, want one of the two lost (see doc.go, \"Why not oras-go's oci.New\")", orasTags)
	}
	if got := tagTwice(t, func(dir string) (oras.Target, error) { return New(dir) }); len(got) != 2 {
		t.Errorf("two Stores on one layout: tags %v, want from-a and from-b", got)
	}
}
