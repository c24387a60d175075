package blobcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"testing/iotest"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// blobOf returns n bytes of content labelled name.
func blobOf(name string, n int) []byte {
	b := bytes.Repeat([]byte{'.'}, n)
	copy(b, name)
	return b
}

func blobPath(c *Cache, d ocispec.Descriptor) string {
	return filepath.Join(c.Dir(), "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded())
}

// setUsed sets when d was last used.
func setUsed(t testing.TB, c *Cache, d ocispec.Descriptor, at time.Time) {
	t.Helper()
	if err := os.Chtimes(blobPath(c, d), at, at); err != nil {
		t.Fatal(err)
	}
}

func used(t testing.TB, c *Cache, d ocispec.Descriptor) time.Time {
	t.Helper()
	fi, err := os.Stat(blobPath(c, d))
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

// cached returns the names (blobOf labels) of the blobs the cache holds,
// in the order of named.
func cached(t testing.TB, c *Cache, named map[string]ocispec.Descriptor) []string {
	t.Helper()
	var out []string
	for name, d := range named {
		if ok, err := c.Exists(context.Background(), d); err != nil {
			t.Fatal(err)
		} else if ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestBoundLRU: a Push that takes the cache over its bound removes the
// least recently used blobs; reading a blob and pushing it again are
// uses; a use less than a minute old is not written again.
func TestBoundLRU(t *testing.T) {
	ctx := context.Background()
	c := openTest(t, Options{MaxSize: 300})
	now := time.Now()
	named := map[string]ocispec.Descriptor{}
	for k, name := range []string{"a", "b", "c"} {
		named[name] = push(t, c, blobOf(name, 100))
		setUsed(t, c, named[name], now.Add(time.Duration(k-3)*time.Hour)) // a 3h ago, b 2h, c 1h
	}
	// Reading a makes it the most recently used.
	if _, err := fetchAll(t, c, named["a"]); err != nil {
		t.Fatal(err)
	}
	if got := used(t, c, named["a"]); time.Since(got) > time.Minute {
		t.Fatalf("a read did not record a use: last used %v", got)
	}
	named["d"] = push(t, c, blobOf("d", 100))
	if got, want := cached(t, c, named), []string{"a", "c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("after pushing d over the bound: %v, want %v (b least recently used)", got, want)
	}
	// Pushing a cached blob again is a use too: with c older than a,
	// pushing c again makes a the one e evicts.
	setUsed(t, c, named["a"], now.Add(-30*time.Minute))
	setUsed(t, c, named["c"], now.Add(-40*time.Minute))
	if err := c.Push(ctx, named["c"], iotest.ErrReader(errors.New("read although the blob is cached"))); err != nil {
		t.Fatal(err)
	}
	named["e"] = push(t, c, blobOf("e", 100))
	if got, want := cached(t, c, named), []string{"c", "d", "e"}; !slices.Equal(got, want) {
		t.Fatalf("after pushing e: %v, want %v (a least recently used once c was pushed again)", got, want)
	}
	if u, err := c.Usage(ctx); err != nil || u.Size != 300 || u.Blobs != 3 {
		t.Errorf("Usage = %+v, %v; want 3 blobs, 300 bytes", u, err)
	}

	// A use less than a minute old is not written again.
	recent := time.Now().Add(-10 * time.Second).Truncate(time.Second)
	setUsed(t, c, named["d"], recent)
	if _, err := fetchAll(t, c, named["d"]); err != nil {
		t.Fatal(err)
	}
	if got := used(t, c, named["d"]); !got.Equal(recent) {
		t.Errorf("a read 10s after the last use rewrote it: %v, was %v", got, recent)
	}
}

// TestBoundKeepsNewBlob: the blob a Push stores is never the one its own
// bound removes, even when another blob looks more recently used.
func TestBoundKeepsNewBlob(t *testing.T) {
	c := openTest(t, Options{MaxSize: 150})
	x := push(t, c, blobOf("x", 100))
	setUsed(t, c, x, time.Now().Add(time.Hour)) // a clock ahead, or a concurrent reader
	y := push(t, c, blobOf("y", 100))
	if got := cached(t, c, map[string]ocispec.Descriptor{"x": x, "y": y}); !slices.Equal(got, []string{"y"}) {
		t.Errorf("cached %v, want [y]", got)
	}
}

func TestTooLarge(t *testing.T) {
	c := openTest(t, Options{MaxSize: 100})
	big := blobOf("big", 101)
	err := c.Push(context.Background(), desc(big), iotest.ErrReader(errors.New("read a blob over the bound")))
	if !errors.Is(err, ErrTooLarge) || !bytes.Contains([]byte(err.Error()), []byte(desc(big).Digest.String())) {
		t.Fatalf("Push over the bound: %v, want ErrTooLarge naming the digest", err)
	}
	push(t, c, blobOf("fits", 100))
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	c := openTest(t, Options{})
	now := time.Now()
	var ds []ocispec.Descriptor
	for k := range 5 {
		d := push(t, c, blobOf(fmt.Sprint(k), 100))
		setUsed(t, c, d, now.Add(-time.Duration(5-k)*time.Hour)) // 0 oldest
		ds = append(ds, d)
	}
	stale := filepath.Join(c.Dir(), "tmp", "crashed-write")
	if err := os.WriteFile(stale, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	long := now.Add(-48 * time.Hour)
	if err := os.Chtimes(stale, long, long); err != nil {
		t.Fatal(err)
	}

	res, err := c.Prune(ctx, 250)
	if err != nil {
		t.Fatal(err)
	}
	var removed []digest.Digest
	for _, b := range res.Removed {
		removed = append(removed, b.Digest)
		if b.Size != 100 || b.LastUsed.IsZero() {
			t.Errorf("removed blob %+v lacks its size or use time", b)
		}
	}
	if want := []digest.Digest{ds[0].Digest, ds[1].Digest, ds[2].Digest}; !slices.Equal(removed, want) {
		t.Errorf("Prune(250) removed %v, want the three least recently used %v in that order", removed, want)
	}
	if want := (Usage{Blobs: 5, Size: 500, TempFiles: 1, TempSize: 7}); res.Before != want {
		t.Errorf("Before = %+v, want %+v", res.Before, want)
	}
	if want := (Usage{Blobs: 2, Size: 200}); res.After != want {
		t.Errorf("After = %+v, want %+v", res.After, want)
	}
	if res.TempRemoved != 1 {
		t.Errorf("TempRemoved = %d, want 1", res.TempRemoved)
	}

	// Under the bound already: nothing to do.
	if res, err := c.Prune(ctx, 1<<20); err != nil || len(res.Removed) != 0 || res.After.Size != 200 {
		t.Errorf("Prune over the size: %+v, %v", res, err)
	}
	res, err = c.Prune(ctx, 0)
	if err != nil || len(res.Removed) != 2 || res.After != (Usage{}) {
		t.Errorf("Prune(0) = %+v, %v; want both blobs removed, nothing left", res, err)
	}
	if _, err := c.Prune(ctx, -1); err == nil {
		t.Error("Prune(-1) succeeded")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Prune(cancelled, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Prune with a cancelled context: %v", err)
	}
}

// TestPruneKeepsUsedSinceScan: a blob read between the scan and its
// removal is no longer the least recently used, and stays.
func TestPruneKeepsUsedSinceScan(t *testing.T) {
	ctx := context.Background()
	c := openTest(t, Options{})
	old := time.Now().Add(-time.Hour)
	a, b := push(t, c, blobOf("a", 100)), push(t, c, blobOf("b", 100))
	setUsed(t, c, a, old)
	setUsed(t, c, b, old.Add(time.Second))
	s, err := c.scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fetchAll(t, c, a); err != nil { // a use after the scan
		t.Fatal(err)
	}
	var res PruneResult
	total, err := c.evict(ctx, s.entries, s.u.Size, 0, "", &res)
	if err != nil {
		t.Fatal(err)
	}
	if got := cached(t, c, map[string]ocispec.Descriptor{"a": a, "b": b}); !slices.Equal(got, []string{"a"}) {
		t.Errorf("cached %v, want [a], read after the scan", got)
	}
	if total != 100 || len(res.Removed) != 1 || res.Removed[0].Digest != b.Digest {
		t.Errorf("evict: total %d, removed %+v", total, res.Removed)
	}
}

// TestPruneWhileReading: a blob being read is pruned and the reader goes
// on reading all of it (Unix); on Windows it is kept and reported busy.
func TestPruneWhileReading(t *testing.T) {
	ctx := context.Background()
	c := openTest(t, Options{})
	body := bytes.Repeat([]byte("0123456789"), 10000)
	d := push(t, c, body)
	rc, err := c.Fetch(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	head := make([]byte, 10)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatal(err)
	}
	res, err := c.Prune(ctx, 0)
	if runtime.GOOS == "windows" {
		if err != nil || len(res.Busy) != 1 {
			t.Fatalf("Prune of an open blob on Windows: %+v, %v; want it busy", res, err)
		}
		return
	}
	if err != nil || len(res.Removed) != 1 {
		t.Fatalf("Prune = %+v, %v", res, err)
	}
	rest, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(append(head, rest...), body) {
		t.Fatalf("reading a pruned blob: %d bytes, %v; want all %d", len(head)+len(rest), err, len(body))
	}
	if _, err := c.Fetch(ctx, d); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fetch after Prune: %v", err)
	}
}
