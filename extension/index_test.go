package extension

import (
	"context"
	"errors"
	"testing"
	"time"

	"oras.land/oras-go/v2"
)

// TestMergeIndex: separate jobs merging one platform each end with the
// index that packing both at once gives; a rebuild replaces its slot.
func TestMergeIndex(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	amd, err := Pack(ctx, store, demoTree, demoBuild(amd64), PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	arm, err := Pack(ctx, store, demoTree, demoBuild(arm64), PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := PushIndex(ctx, store, []Image{amd, arm}, "together")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MergeIndex(ctx, store, "merged", []Image{arm}); err != nil {
		t.Fatal(err)
	}
	got, err := MergeIndex(ctx, store, "merged", []Image{amd})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != want.Digest {
		t.Errorf("merged index %s, want %s (the index of both)", got.Digest, want.Digest)
	}

	rebuilt, err := Pack(ctx, store, demoTree, demoBuild(amd64), PackOptions{ModTime: time.Unix(99, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MergeIndex(ctx, store, "merged", []Image{rebuilt}); err != nil {
		t.Fatal(err)
	}
	idx, err := readIndex(ctx, store, "merged")
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 2 || idx.Manifests[0].Digest != rebuilt.Manifest.Digest {
		t.Errorf("after a rebuild the index holds %d entries, first %s; want 2 with the rebuild %s first",
			len(idx.Manifests), idx.Manifests[0].Digest, rebuilt.Manifest.Digest)
	}
}

func TestMergeIndexRefuses(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	img, err := Pack(ctx, store, demoTree, demoBuild(amd64), PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PushIndex(ctx, store, []Image{img}, "v1"); err != nil {
		t.Fatal(err)
	}
	other := img
	other.Metadata.Package.Version = "9.9"
	if _, err := MergeIndex(ctx, store, "v1", []Image{other}); !errors.Is(err, ErrInvalidBuild) {
		t.Errorf("merging another version: err = %v, want ErrInvalidBuild", err)
	}
	if _, err := oras.Tag(ctx, store, img.Manifest.Digest.String(), "manifest"); err != nil {
		t.Fatal(err)
	}
	if _, err := MergeIndex(ctx, store, "manifest", []Image{img}); !errors.Is(err, ErrInvalidBuild) {
		t.Errorf("merging into a manifest tag: err = %v, want ErrInvalidBuild", err)
	}
}
