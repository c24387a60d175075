package ocilayout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
)

func blob(mt string, b []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(b), Size: int64(len(b))}
}

func newTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// leftovers lists files under dir other than the layout's own.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			out = append(out, d.Name())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPush(t *testing.T) {
	data := []byte("hello, layout")
	good := blob("application/octet-stream", data)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		desc    ocispec.Descriptor
		body    []byte
		wantErr error
	}{
		{"good", context.Background(), good, data, nil},
		{"short", context.Background(), good, data[:5], ErrSize},
		{"long", context.Background(), good, append(bytes.Clone(data), '!'), ErrSize},
		{"corrupt", context.Background(), good, bytes.ToUpper(data), ErrDigest},
		{"bad digest", context.Background(), ocispec.Descriptor{Digest: "sha256:../../etc", Size: 1}, data, ErrDigest},
		{"unknown algorithm", context.Background(), ocispec.Descriptor{Digest: "md5:abcd", Size: 1}, data, ErrDigest},
		{"negative size", context.Background(), ocispec.Descriptor{Digest: good.Digest, Size: -1}, data, ErrSize},
		{"cancelled", cancelled, good, data, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			err := s.Push(tt.ctx, tt.desc, bytes.NewReader(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Push: %v, want %v", err, tt.wantErr)
			}
			if got := leftovers(t, s.Dir()); len(got) != 0 {
				t.Errorf("left behind %v", got)
			}
			ok, _ := s.Exists(context.Background(), good)
			if ok != (tt.wantErr == nil) {
				t.Errorf("Exists = %v after Push error %v", ok, err)
			}
			if tt.wantErr != nil {
				return
			}
			rc, err := s.Fetch(context.Background(), good)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("Fetch = %q, %v", got, err)
			}
			// Pushing again is a success that reads nothing.
			if err := s.Push(context.Background(), good, iotestErrReader{}); err != nil {
				t.Errorf("second Push: %v", err)
			}
		})
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("must not be read") }

// TestFetchVerifies changes a blob on disk: Fetch must not pass it off.
func TestFetchVerifies(t *testing.T) {
	s := newTestStore(t)
	data := []byte("original content")
	d := blob("application/octet-stream", data)
	if err := s.Push(context.Background(), d, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.blobPath(d.Digest), bytes.ToUpper(data), 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Fetch(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, ErrDigest) {
		t.Errorf("reading a changed blob: %v, want ErrDigest", err)
	}
	if _, err := s.Fetch(context.Background(), blob("", []byte("absent"))); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("Fetch of a missing blob: %v, want errdef.ErrNotFound", err)
	}
}

func pushManifest(t *testing.T, s *Store, m ocispec.Manifest) ocispec.Descriptor {
	t.Helper()
	m.SchemaVersion = 2
	m.MediaType = ocispec.MediaTypeImageManifest
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d := blob(m.MediaType, b)
	if err := s.Push(context.Background(), d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return d
}

func refNames(t *testing.T, s *Store) []string {
	t.Helper()
	idx, err := s.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range idx.Manifests {
		n, ok := e.Annotations[ocispec.AnnotationRefName]
		if !ok {
			n = "untagged " + e.Digest.Encoded()[:8]
		}
		out = append(out, n)
	}
	return out
}

func TestTagResolve(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	cfg := []byte("{}")
	cd := blob(ocispec.MediaTypeEmptyJSON, cfg)
	if err := s.Push(ctx, cd, bytes.NewReader(cfg)); err != nil {
		t.Fatal(err)
	}
	m1 := pushManifest(t, s, ocispec.Manifest{Config: cd, Layers: []ocispec.Descriptor{}})
	m2 := pushManifest(t, s, ocispec.Manifest{Config: cd, Layers: []ocispec.Descriptor{}, Annotations: map[string]string{"n": "2"}})

	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"tag", func() error { return s.Tag(ctx, m1, "1.0") }, []string{"1.0"}},
		{"second tag", func() error { return s.Tag(ctx, m1, "latest") }, []string{"1.0", "latest"}},
		{"re-tag replaces", func() error { return s.Tag(ctx, m2, "latest") }, []string{"1.0", "latest"}},
		{"untagged entry", func() error { return s.Tag(ctx, cd, cd.Digest.String()) }, []string{"1.0", "latest", "untagged " + cd.Digest.Encoded()[:8]}},
		{"untagged again is a no-op", func() error { return s.Tag(ctx, cd, cd.Digest.String()) }, []string{"1.0", "latest", "untagged " + cd.Digest.Encoded()[:8]}},
		{"tagging the untagged replaces it", func() error { return s.Tag(ctx, cd, "cfg") }, []string{"1.0", "latest", "cfg"}},
		{"untag", func() error { return s.Untag(ctx, "cfg") }, []string{"1.0", "latest"}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if diff := cmp.Diff(st.want, refNames(t, s)); diff != "" {
			t.Errorf("%s: index.json tags (-want +got):\n%s", st.name, diff)
		}
	}
	got, err := s.Resolve(ctx, "latest")
	if err != nil || got.Digest != m2.Digest || got.Annotations[ocispec.AnnotationRefName] != "" {
		t.Errorf("Resolve(latest) = %+v, %v; want %s without ref.name", got, err, m2.Digest)
	}
	// A blob not in index.json resolves by digest, its media type read
	// from its content.
	m3 := pushManifest(t, s, ocispec.Manifest{Config: cd, Layers: []ocispec.Descriptor{}, Annotations: map[string]string{"n": "3"}})
	if got, err := s.Resolve(ctx, m3.Digest.String()); err != nil || got.MediaType != ocispec.MediaTypeImageManifest || got.Size != m3.Size {
		t.Errorf("Resolve(digest) = %+v, %v", got, err)
	}
	for _, ref := range []string{"nope", digest.FromString("nope").String()} {
		if _, err := s.Resolve(ctx, ref); !errors.Is(err, errdef.ErrNotFound) {
			t.Errorf("Resolve(%s): %v, want errdef.ErrNotFound", ref, err)
		}
	}
	if err := s.Tag(ctx, blob("", []byte("absent")), "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("tagging a missing blob: %v", err)
	}
	for _, bad := range []string{"", "a\nb", strings.Repeat("x", 257)} {
		if err := s.Tag(ctx, m1, bad); !errors.Is(err, ErrInvalidTag) {
			t.Errorf("Tag(%q): %v, want ErrInvalidTag", bad, err)
		}
	}
	if err := s.Untag(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Untag(nope): %v", err)
	}
	var tags []string
	if err := s.Tags(ctx, "", func(ts []string) error { tags = ts; return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.0", "latest"}, tags); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}
}

// TestSubjectEntry: a referrer pushed into the layout is recorded untagged.
func TestSubjectEntry(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	cfg := []byte("{}")
	cd := blob(ocispec.MediaTypeEmptyJSON, cfg)
	if err := s.Push(ctx, cd, bytes.NewReader(cfg)); err != nil {
		t.Fatal(err)
	}
	subject := pushManifest(t, s, ocispec.Manifest{Config: cd, Layers: []ocispec.Descriptor{}})
	if err := s.Tag(ctx, subject, "v1"); err != nil {
		t.Fatal(err)
	}
	ref := pushManifest(t, s, ocispec.Manifest{Config: cd, Layers: []ocispec.Descriptor{}, Subject: &subject, ArtifactType: "application/example.sig"})
	want := []string{"v1", "untagged " + ref.Digest.Encoded()[:8]}
	if diff := cmp.Diff(want, refNames(t, s)); diff != "" {
		t.Errorf("index.json (-want +got):\n%s", diff)
	}
}

func TestOpen(t *testing.T) {
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrNotLayout) {
		t.Errorf("Open(empty dir): %v, want ErrNotLayout", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"2.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); !errors.Is(err, ErrNotLayout) {
		t.Errorf("New(layout version 2): %v, want ErrNotLayout", err)
	}
	s := newTestStore(t)
	if _, err := Open(s.Dir()); err != nil {
		t.Errorf("Open(new layout): %v", err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "index.json"), []byte(`{"schemaVersion":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(s.Dir()); !errors.Is(err, ErrNotLayout) {
		t.Errorf("Open(broken index.json): %v, want ErrNotLayout", err)
	}
}
