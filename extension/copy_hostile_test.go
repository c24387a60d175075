package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/ocilayout"
	"pgoci/resolve"
)

// TestCopyOverCorruptSameSizeBlob: a destination layout that holds a
// same-size corrupt blob at the source index's digest is not believed
// (copy tools skip the whole graph under an existing root): the copy
// replaces it and copies the graph, and the tag resolves.
func TestCopyOverCorruptSameSizeBlob(t *testing.T) {
	srv := startRegistry(t)
	d := pushDemoRepo(t, srv, "pgoci_demo")
	ctx := context.Background()
	dir := t.TempDir() + "/pgoci_demo"
	if _, err := ocilayout.New(dir); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "blobs", "sha256", d.index.Digest.Encoded())
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, bytes.Repeat([]byte(" "), int(d.index.Size)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(ctx, d.ref+":1.1.0", "oci:"+dir, CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	ok, _ := (&layoutProbe{dir}).has(d.images[0].Layers[0].Digest.Encoded())
	_, rerr := resolve.ResolveReference(ctx, "oci:"+dir+":1.1.0", resolve.Target{PG: d.images[0].Metadata.PG, Platform: amd64}, resolve.Options{})
	if !ok || rerr != nil {
		t.Errorf("after the copy: layer copied=%v, resolving the tag: %v", ok, rerr)
	}
}

// TestCopyAllDotLayout: CopyAll of the layouts "oci:." and "oci:.." names
// the mirror copy after the directory they mean, never "." or "..", so
// nothing is written into the mirror directory itself or above it.
func TestCopyAllDotLayout(t *testing.T) {
	srv := startRegistry(t)
	d := pushDemoRepo(t, srv, "pgoci_demo")
	ctx := context.Background()
	base := t.TempDir()
	src := filepath.Join(base, "work", "src", "cube")
	if _, err := Copy(ctx, d.ref+":1.1.0", "oci:"+src, CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	mirror := filepath.Join(base, "mirror", "m")
	os.MkdirAll(mirror, 0o755)

	t.Run("dot", func(t *testing.T) {
		t.Chdir(src)
		done, err := CopyAll(ctx, []string{"oci:."}, "oci:"+mirror, CopyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := "oci:" + filepath.Join(mirror, "cube"); len(done) != 1 || !strings.HasPrefix(done[0].Destination, want) {
			t.Errorf("copied %+v, want into %s", done, want)
		}
		if _, err := os.Stat(filepath.Join(mirror, "index.json")); err == nil {
			t.Errorf("CopyAll(oci:.) turned the mirror directory %s itself into a layout", mirror)
		}
	})
	t.Run("dotdot", func(t *testing.T) {
		t.Chdir(filepath.Join(src, "blobs"))
		// "oci:.." is the layout src itself, seen from its blobs dir.
		done, err := CopyAll(ctx, []string{"oci:.."}, "oci:"+mirror, CopyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := "oci:" + filepath.Join(mirror, "cube"); len(done) != 1 || !strings.HasPrefix(done[0].Destination, want) {
			t.Errorf("copied %+v, want into %s", done, want)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(mirror), "index.json")); err == nil {
			t.Errorf("CopyAll(oci:..) wrote a layout into %s, outside the mirror %s", filepath.Dir(mirror), mirror)
		}
	})
}

// writeLayoutGraph pushes into a layout an index of n distinct manifests
// (sharing one config), or, nested > 0, a chain of nested indexes.
func writeLayoutGraph(t *testing.T, dir string, n, nested int) {
	t.Helper()
	ctx := context.Background()
	st, err := ocilayout.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	push := func(mt string, v any) ocispec.Descriptor {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		d := ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b))}
		if err := st.Push(ctx, d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	cfg := push(ocispec.MediaTypeImageConfig, map[string]any{"architecture": "amd64", "os": "linux"})
	var entries []ocispec.Descriptor
	for i := range n {
		m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{}, Annotations: map[string]string{"i": fmt.Sprint(i)}}
		m.SchemaVersion = 2
		d := push(m.MediaType, m)
		d.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
		entries = append(entries, d)
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: entries}
	idx.SchemaVersion = 2
	top := push(idx.MediaType, idx)
	for range nested {
		idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{top}}
		idx.SchemaVersion = 2
		top = push(idx.MediaType, idx)
	}
	if err := st.Tag(ctx, top, "1.0"); err != nil {
		t.Fatal(err)
	}
}

// TestCopyBoundsManifests: a source index listing more manifests than
// Inspect's default MaxManifests (256) is refused by Copy too; nesting is
// bounded by the same count.
func TestCopyBoundsManifests(t *testing.T) {
	ctx := context.Background()
	t.Run("many manifests", func(t *testing.T) {
		src := t.TempDir() + "/wide"
		writeLayoutGraph(t, src, 400, 0)
		if _, err := Inspect(ctx, "oci:"+src+":1.0", InspectOptions{}); !errors.Is(err, ErrTooManyManifests) {
			t.Fatalf("Inspect: %v, want ErrTooManyManifests", err)
		}
		if _, err := Copy(ctx, "oci:"+src+":1.0", "oci:"+t.TempDir()+"/dst", CopyOptions{}); !errors.Is(err, ErrTooManyManifests) {
			t.Errorf("Copy of an index of 400 manifests: %v, want ErrTooManyManifests", err)
		}
	})
}
