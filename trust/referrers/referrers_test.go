package referrers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
)

type store interface {
	Source
	content.Pusher
	Tag(ctx context.Context, d ocispec.Descriptor, ref string) error
}

// plainSource hides every optional method: only Resolve and Fetch.
type plainSource struct{ s Source }

func (p plainSource) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	return p.s.Resolve(ctx, ref)
}
func (p plainSource) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	return p.s.Fetch(ctx, d)
}

func pushSubject(t *testing.T, dst content.Pusher) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	cfg := content.NewDescriptorFromBytes(MediaTypeEmpty, emptyJSON)
	if err := PushBlob(ctx, dst, cfg, emptyJSON); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{}})
	d := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, b)
	if err := PushBlob(ctx, dst, d, b); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestList(t *testing.T) {
	ctx := context.Background()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	repo, err := remote.NewRepository(srv.Host() + "/list/img")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	layout, err := oci.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		st   store
		src  func(store) Source
	}{
		{"registry referrers API", repo, func(s store) Source { return s }},
		{"layout predecessors", layout, func(s store) Source { return s }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			subj := pushSubject(t, tc.st)
			for i := range 3 {
				if _, err := Push(ctx, tc.st, subj, ArtifactTypeSPDX, ArtifactTypeSPDX, []byte{'{', '}', byte('0' + i)}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := Push(ctx, tc.st, subj, ArtifactTypeBundle, ArtifactTypeBundle, []byte("{}"), nil); err != nil {
				t.Fatal(err)
			}
			src := tc.src(tc.st)
			got, err := List(ctx, src, subj, ArtifactTypeSPDX, 0)
			if err != nil || len(got) != 3 {
				t.Fatalf("List = %v, %v; want the 3 SBOMs", got, err)
			}
			all, err := List(ctx, src, subj, "", 0)
			if err != nil || len(all) != 4 {
				t.Fatalf("List all = %v, %v", all, err)
			}
			if _, err := List(ctx, src, subj, "", 3); !errors.Is(err, ErrTooMany) {
				t.Errorf("bounded: err = %v, want ErrTooMany", err)
			}
			arts, err := Artifacts(ctx, src, subj, 0)
			if err != nil || len(arts) != 4 {
				t.Fatalf("Artifacts = %v, %v", arts, err)
			}
		})
	}
}

// TestListTagSchema reads the sha256-<hex> index through Resolve only.
func TestListTagSchema(t *testing.T) {
	ctx := context.Background()
	st, err := oci.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	subj := pushSubject(t, st)
	ref := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, []byte("{}"))
	ref.ArtifactType = ArtifactTypeBundle
	idx, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{ref}})
	id := content.NewDescriptorFromBytes(ocispec.MediaTypeImageIndex, idx)
	if err := PushBlob(ctx, st, id, idx); err != nil {
		t.Fatal(err)
	}
	if err := st.Tag(ctx, id, FallbackTag(subj.Digest, "")); err != nil {
		t.Fatal(err)
	}
	got, err := List(ctx, plainSource{st}, subj, ArtifactTypeBundle, 0)
	if err != nil || len(got) != 1 || got[0].Digest != ref.Digest {
		t.Fatalf("List = %v, %v", got, err)
	}
}

func TestFetchBounds(t *testing.T) {
	ctx := context.Background()
	st, err := oci.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	subj := pushSubject(t, st)
	big := subj
	big.Size = MaxManifestSize + 1
	if _, err := FetchManifest(ctx, st, big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: err = %v, want ErrTooLarge", err)
	}
	asIndex := subj
	asIndex.MediaType = ocispec.MediaTypeImageIndex
	if _, err := FetchManifest(ctx, st, asIndex); !errors.Is(err, ErrInvalid) {
		t.Errorf("an index descriptor: err = %v, want ErrInvalid", err)
	}
	short := subj
	short.Size--
	if _, err := FetchBlob(ctx, st, short, MaxBlobSize); !errors.Is(err, ErrSize) && !errors.Is(err, ErrDigest) {
		t.Errorf("size lie: err = %v, want ErrSize", err)
	}
}
