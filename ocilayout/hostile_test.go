//go:build unix

package ocilayout

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestDigestConfusionRefused: a tag spelling another manifest's digest is
// refused, and Resolve of a digest answers that digest only.
func TestDigestConfusionRefused(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	cfg := []byte("{}")
	cd := blob(ocispec.MediaTypeEmptyJSON, cfg)
	if err := s.Push(ctx, cd, bytes.NewReader(cfg)); err != nil {
		t.Fatal(err)
	}
	m1 := pushManifest(t, s, ocispec.Manifest{Config: cd, Layers: []ocispec.Descriptor{}, Annotations: map[string]string{"n": "1"}})
	m2 := pushManifest(t, s, ocispec.Manifest{Config: cd, Layers: []ocispec.Descriptor{}, Annotations: map[string]string{"n": "2"}})
	if err := s.Tag(ctx, m1, m2.Digest.String()); !errors.Is(err, ErrInvalidTag) {
		t.Fatalf("Tag(m1, <m2 digest>) = %v, want ErrInvalidTag", err)
	}
	if err := s.Tag(ctx, m2, "v2"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Resolve(ctx, m2.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != m2.Digest {
		t.Errorf("Resolve(%s) = %s: a digest reference answered with another digest's content", m2.Digest, got.Digest)
	}
}

// TestSymlinkedBlobsDirRefused: a layout whose blobs/sha256 is a symlink
// does not make Push write outside the layout directory.
func TestSymlinkedBlobsDirRefused(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	outside := t.TempDir()
	alg := filepath.Join(s.Dir(), "blobs", "sha256")
	os.RemoveAll(alg)
	if err := os.Symlink(outside, alg); err != nil {
		t.Fatal(err)
	}
	data := []byte("escapes the layout")
	d := blob("application/octet-stream", data)
	err := s.Push(ctx, d, bytes.NewReader(data))
	if _, serr := os.Stat(filepath.Join(outside, d.Digest.Encoded())); serr == nil {
		t.Errorf("Push (err %v) wrote %s outside the layout, through the symlinked blobs/sha256", err, filepath.Join(outside, d.Digest.Encoded()))
	}
}

// TestSymlinkedLockFileRefused: a layout whose index.json.lock is a
// symlink does not make Tag create a file outside the layout directory.
func TestSymlinkedLockFileRefused(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	outside := filepath.Join(t.TempDir(), "created-by-pgoci")
	lf := filepath.Join(s.Dir(), lockFile)
	os.Remove(lf)
	if err := os.Symlink(outside, lf); err != nil {
		t.Fatal(err)
	}
	data := []byte("{}")
	d := blob(ocispec.MediaTypeEmptyJSON, data)
	if err := s.Push(ctx, d, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	err := s.Tag(ctx, d, "x")
	if _, serr := os.Stat(outside); serr == nil {
		t.Errorf("Tag (err %v) created %s outside the layout through the symlinked lock file", err, outside)
	}
}

// TestFIFOBlobRefused: a blob that is a FIFO is refused at once instead
// of blocking Fetch forever.
func TestFIFOBlobRefused(t *testing.T) {
	s := newTestStore(t)
	data := []byte("x")
	d := blob("application/octet-stream", data)
	p := s.blobPath(d.Digest)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		rc, err := s.Fetch(ctx, d)
		if err == nil {
			rc.Close()
		}
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		// unblock the goroutine
		if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Errorf("Fetch of a FIFO blob still blocked 3 s after a 0.5 s context deadline")
	}
}

// TestPushRepairsCorruptSameSizeBlob: a same-size corrupt blob is not
// reported present, and a push of the right bytes replaces it.
func TestPushRepairsCorruptSameSizeBlob(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	data := []byte("the real content")
	d := blob("application/octet-stream", data)
	p := s.blobPath(d.Digest)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, bytes.Repeat([]byte("X"), len(data)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Push(ctx, d, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Fetch(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		t.Errorf("Push of the right bytes succeeded, but the store still holds the corrupt blob: %v", err)
	}
}

// TestUntagEmptyRefused: Untag("") is an invalid tag, and the untagged
// entries (referrers kept reachable by index.json) stay.
func TestUntagEmptyRefused(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	data := []byte("{}")
	d := blob(ocispec.MediaTypeEmptyJSON, data)
	if err := s.Push(ctx, d, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, d, d.Digest.String()); err != nil { // untagged entry
		t.Fatal(err)
	}
	err := s.Untag(ctx, "")
	idx, _ := s.Index(ctx)
	if len(idx.Manifests) != 1 {
		t.Errorf("Untag(\"\") = %v and removed untagged entries: %d left, want 1", err, len(idx.Manifests))
	}
	if !errors.Is(err, ErrInvalidTag) {
		t.Errorf("Untag(\"\") err = %v, want ErrInvalidTag", err)
	}
}
