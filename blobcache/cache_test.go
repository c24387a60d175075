package blobcache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
)

func desc(b []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(b), Size: int64(len(b))}
}

func openTest(t testing.TB, opts Options) *Cache {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "cache"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func push(t testing.TB, c *Cache, b []byte) ocispec.Descriptor {
	t.Helper()
	d := desc(b)
	if err := c.Push(context.Background(), d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return d
}

func fetchAll(t testing.TB, c *Cache, d ocispec.Descriptor) ([]byte, error) {
	t.Helper()
	rc, err := c.Fetch(context.Background(), d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// entries lists the names under dir/sub, empty when it does not exist.
func entries(t testing.TB, dir, sub string) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, sub))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestPushFetch(t *testing.T) {
	ctx := context.Background()
	c := openTest(t, Options{})
	body := []byte("hello, cache")
	d := push(t, c, body)
	got, err := fetchAll(t, c, d)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Fetch = %q, %v; want %q", got, err, body)
	}
	if ok, err := c.Exists(ctx, d); !ok || err != nil {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	// By digest alone (a digest reference): any size.
	if got, err := fetchAll(t, c, ocispec.Descriptor{Digest: d.Digest, Size: -1}); err != nil || !bytes.Equal(got, body) {
		t.Errorf("Fetch(size -1) = %q, %v", got, err)
	}
	// A descriptor naming the right digest with another size is a miss,
	// not the bytes: sizes are checked before anything is read.
	other := d
	other.Size++
	if _, err := c.Fetch(ctx, other); !errors.Is(err, ErrNotFound) || !errors.Is(err, errdef.ErrNotFound) || !strings.Contains(err.Error(), "descriptor says") {
		t.Errorf("Fetch with a wrong size: %v, want ErrNotFound naming the sizes", err)
	}
	if ok, _ := c.Exists(ctx, other); ok {
		t.Error("Exists with a wrong size = true")
	}
	// The content is an oras-go content.Storage.
	if got, err := content.FetchAll(ctx, c, d); err != nil || !bytes.Equal(got, body) {
		t.Errorf("content.FetchAll = %q, %v", got, err)
	}
	missing := desc([]byte("never pushed"))
	if _, err := c.Fetch(ctx, missing); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), missing.Digest.String()) {
		t.Errorf("Fetch of a missing blob: %v, want ErrNotFound naming the digest", err)
	}
	if err := c.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(ctx, d); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fetch after Delete: %v", err)
	}
	if err := c.Delete(ctx, d); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
}

// TestPushRefused: content that is not the descriptor's never enters the
// cache, and the temporary file is gone.
func TestPushRefused(t *testing.T) {
	body := []byte("the real content")
	good := desc(body)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		d    ocispec.Descriptor
		r    io.Reader
		want error
	}{
		{"other bytes, same size", context.Background(), good, strings.NewReader(strings.ToUpper(string(body))), ErrDigest},
		{"short", context.Background(), good, bytes.NewReader(body[:5]), ErrSize},
		{"long", context.Background(), good, bytes.NewReader(append(body, '!')), ErrSize},
		{"read error", context.Background(), good, io.MultiReader(bytes.NewReader(body[:4]), iotest.ErrReader(io.ErrUnexpectedEOF)), io.ErrUnexpectedEOF},
		{"cancelled", cancelled, good, bytes.NewReader(body), context.Canceled},
		{"malformed digest", context.Background(), ocispec.Descriptor{Digest: "sha256:../../etc", Size: 3}, strings.NewReader("abc"), ErrDigest},
		{"unknown algorithm", context.Background(), ocispec.Descriptor{Digest: "md5:d41d8cd98f00b204e9800998ecf8427e", Size: 0}, strings.NewReader(""), ErrDigest},
		{"negative size", context.Background(), ocispec.Descriptor{Digest: good.Digest, Size: -1}, bytes.NewReader(body), ErrSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t, Options{})
			err := c.Push(tt.ctx, tt.d, tt.r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Push = %v, want %v", err, tt.want)
			}
			if tt.d.Digest.Validate() == nil && !strings.Contains(err.Error(), tt.d.Digest.String()) {
				t.Errorf("error %q does not name the digest", err)
			}
			if got := entries(t, c.Dir(), "blobs/sha256"); len(got) != 0 {
				t.Errorf("blobs after a refused push: %v", got)
			}
			if got := entries(t, c.Dir(), "tmp"); len(got) != 0 {
				t.Errorf("temporary files left: %v", got)
			}
		})
	}
}

// TestPushVerified: the bytes are counted, not hashed (the caller has
// hashed them, and ends the stream with an error when they do not
// match): the right bytes are stored, a caller's error or a wrong size
// leaves nothing behind.
func TestPushVerified(t *testing.T) {
	body := []byte("the real content")
	good := desc(body)
	for _, tt := range []struct {
		name string
		r    io.Reader
		want error // nil: stored
	}{
		{"verified by the caller", bytes.NewReader(body), nil},
		{"the caller's verdict: not the digest", io.MultiReader(bytes.NewReader(body), iotest.ErrReader(ErrDigest)), ErrDigest},
		{"short", bytes.NewReader(body[:5]), ErrSize},
		{"long", bytes.NewReader(append(body, '!')), ErrSize},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t, Options{})
			err := c.PushVerified(context.Background(), good, tt.r)
			if !errors.Is(err, tt.want) || (err != nil) != (tt.want != nil) {
				t.Fatalf("PushVerified = %v, want %v", err, tt.want)
			}
			blobs := entries(t, c.Dir(), "blobs/sha256")
			if tt.want == nil {
				if got, err := fetchAll(t, c, good); err != nil || !bytes.Equal(got, body) {
					t.Errorf("Fetch = %q, %v", got, err)
				}
			} else if len(blobs) != 0 {
				t.Errorf("blobs after a refused push: %v", blobs)
			}
			if got := entries(t, c.Dir(), "tmp"); len(got) != 0 {
				t.Errorf("temporary files left: %v", got)
			}
		})
	}
}

// TestCorruptBlob: a cached blob changed on disk. Fetch does not hash (it
// returns the bytes as stored, documented); a verifying reader notices,
// Delete drops it, and Push stores the right bytes again. A truncated blob
// is a miss, and Push replaces it.
func TestCorruptBlob(t *testing.T) {
	ctx := context.Background()
	c := openTest(t, Options{})
	body := bytes.Repeat([]byte("layer bytes "), 100)
	d := push(t, c, body)
	p := filepath.Join(c.Dir(), "blobs", "sha256", d.Digest.Encoded())

	spoiled := bytes.Clone(body)
	spoiled[len(spoiled)/2] ^= 0xff
	if err := os.WriteFile(p, spoiled, 0o600); err != nil {
		t.Fatal(err)
	}
	rc, err := c.Fetch(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	vr := content.NewVerifyReader(rc, d)
	if _, err = io.ReadAll(vr); err == nil {
		err = vr.Verify()
	}
	rc.Close()
	if err == nil {
		t.Fatal("a verifying reader read a spoiled blob without error")
	}
	// Push believes a blob of the right size: the reader that found it
	// corrupt deletes it first.
	if err := c.Push(ctx, d, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, spoiled) {
		t.Fatal("Push replaced a blob of the right size without being asked to")
	}
	if err := c.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	push(t, c, body)
	if got, err := fetchAll(t, c, d); err != nil || !bytes.Equal(got, body) {
		t.Errorf("after Delete and Push: %v", err)
	}

	// Truncated (a power loss after an unsynced write): a miss, replaced.
	if err := os.WriteFile(p, body[:10], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(ctx, d); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fetch of a truncated blob: %v, want ErrNotFound", err)
	}
	push(t, c, body)
	if got, err := fetchAll(t, c, d); err != nil || !bytes.Equal(got, body) {
		t.Errorf("Push did not replace a truncated blob: %v", err)
	}
}

// TestHostileEntries: what someone planted in the cache is never read as
// a blob, never followed, never removed.
func TestHostileEntries(t *testing.T) {
	ctx := context.Background()
	c := openTest(t, Options{})
	outside := filepath.Join(t.TempDir(), "outside")
	body := []byte("outside the cache")
	if err := os.WriteFile(outside, body, 0o644); err != nil {
		t.Fatal(err)
	}
	d := desc(body)
	alg := filepath.Join(c.Dir(), "blobs", "sha256")
	if err := os.MkdirAll(alg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(alg, d.Digest.Encoded())); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(ctx, d); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fetch through a planted symlink: %v, want ErrNotFound", err)
	}
	if ok, _ := c.Exists(ctx, d); ok {
		t.Error("Exists through a planted symlink = true")
	}
	if _, err := c.Prune(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("Prune removed the symlink's target: %v", err)
	}
	if u, _ := c.Usage(ctx); u.Blobs != 0 {
		t.Errorf("a symlink counted as a blob: %+v", u)
	}

	// A symlinked blobs/sha512 directory: Push and Delete refuse it, Prune
	// ignores it.
	victims := t.TempDir()
	if err := os.Symlink(victims, filepath.Join(c.Dir(), "blobs", "sha512")); err != nil {
		t.Fatal(err)
	}
	b512 := []byte("sha512 content")
	d512 := ocispec.Descriptor{Digest: digest.SHA512.FromBytes(b512), Size: int64(len(b512))}
	if err := c.Push(ctx, d512, bytes.NewReader(b512)); !errors.Is(err, ErrUnsafeDir) {
		t.Errorf("Push into a symlinked algorithm directory: %v, want ErrUnsafeDir", err)
	}
	victim := filepath.Join(victims, d512.Digest.Encoded())
	if err := os.WriteFile(victim, b512, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, d512); !errors.Is(err, ErrUnsafeDir) {
		t.Errorf("Delete through a symlinked algorithm directory: %v, want ErrUnsafeDir", err)
	}
	if _, err := c.Prune(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("a file behind a symlinked algorithm directory was removed: %v", err)
	}

	// A symlinked blobs directory: Open refuses the cache.
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victims, filepath.Join(dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrUnsafeDir) {
		t.Errorf("Open with a symlinked blobs directory: %v, want ErrUnsafeDir", err)
	}
}

// TestStaleTemp: Open removes temporary files over a day old, and only
// those (another process may be writing the younger ones).
func TestStaleTemp(t *testing.T) {
	c := openTest(t, Options{})
	old := filepath.Join(c.Dir(), "tmp", "0123456789abcdef-1")
	young := filepath.Join(c.Dir(), "tmp", "0123456789abcdef-2")
	for _, p := range []string{old, young} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(old, long, long); err != nil {
		t.Fatal(err)
	}
	u, err := c.Usage(context.Background())
	if err != nil || u.TempFiles != 2 || u.TempSize != 14 || u.Blobs != 0 {
		t.Errorf("Usage = %+v, %v; want 2 temporary files of 14 bytes, no blob", u, err)
	}
	if _, err := Open(c.Dir(), Options{}); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, c.Dir(), "tmp"); len(got) != 1 || got[0] != filepath.Base(young) {
		t.Errorf("tmp after Open: %v, want only the young file", got)
	}
}

func TestOpenRefusesBadOptions(t *testing.T) {
	if _, err := Open("", Options{}); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	if _, err := Open(t.TempDir(), Options{MaxSize: -1}); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("Open with MaxSize -1: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(file, Options{}); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Open of a regular file: %v, want an error naming it", err)
	}
}
