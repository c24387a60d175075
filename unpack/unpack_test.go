package unpack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	digest "github.com/opencontainers/go-digest"

	"pgoci/internal/tartest"
	"pgoci/unpack"
)

// cancelAfter cancels ctx once n bytes have been read through it.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	m, err := c.r.Read(p[:min(len(p), 4096)])
	c.n -= m
	if c.n <= 0 {
		c.cancel()
	}
	return m, err
}

func TestCancelLeavesNothing(t *testing.T) {
	for _, mt := range []string{tartest.MediaTar, tartest.MediaGzip, tartest.MediaZstd} {
		t.Run(mt, func(t *testing.T) {
			e := newEnv(t)
			before := snapshot(t, e.tmp, e.dst)
			blob := tartest.Compress(mt, tarOf(t, manyFiles(2000)...))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := unpack.LayerSource{Descriptor: tartest.Descriptor(mt, blob), Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(&cancelAfter{r: bytes.NewReader(blob), n: len(blob) / 2, cancel: cancel}), nil
			}}
			_, err := unpack.Apply(ctx, e.dst, []unpack.LayerSource{src}, unpack.Options{})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error = %v, want context.Canceled", err)
			}
			e.checkConfined(t, before, true)
		})
	}
}

func TestApplyStatsAndProgress(t *testing.T) {
	e := newEnv(t)
	l1 := tarOf(t, dir("share/"), file("share/a.sql", "select 1;"), sym("share/b.sql", "a.sql"), tartest.Entry{Name: "dev/null", Type: '3'})
	l2 := tarOf(t, file("lib/x.so", "ELF"), hard("lib/y.so", "lib/x.so"), file("share/.wh.b.sql", ""))
	b1, b2 := tartest.Zstd(l1), tartest.Gzip(l2)
	var calls []int64
	var total int64
	opts := unpack.Options{Durable: true, Progress: func(done, tot int64) { calls = append(calls, done); total = tot }}
	st, err := unpack.Apply(context.Background(), e.dst, []unpack.LayerSource{
		{Descriptor: tartest.Descriptor(tartest.MediaZstd, b1), Open: opener(b1)},
		{Descriptor: tartest.Descriptor(tartest.MediaGzip, b2), Open: opener(b2)},
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := unpack.Stats{
		BytesIn: int64(len(b1) + len(b2)), BytesOut: int64(len(l1) + len(l2)),
		Entries: 7, Files: 2, Dirs: 2, Symlinks: 1, Hardlinks: 1, Whiteouts: 1, Skipped: 1,
	}
	if diff := cmp.Diff(want, st, cmpopts.IgnoreFields(unpack.Stats{}, "Duration")); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if n := len(calls); n == 0 || calls[n-1] != total || total != want.BytesIn {
		t.Errorf("progress calls %v of %d, want to end at %d", calls, total, want.BytesIn)
	}
	wantMode(t, e, ".", os.ModeDir|0o755)
	wantMissing(t, e, "share/b.sql")
}

func TestStaging(t *testing.T) {
	parent := t.TempDir()
	dst := filepath.Join(parent, "ext")
	s, err := unpack.Stage(dst)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.Root().WriteFile("f", []byte("x"), 0o644))
	if _, err := os.Lstat(dst); err == nil {
		t.Fatal("destination visible before Commit")
	}
	must(t, s.Commit(true))
	must(t, s.Discard()) // no-op after Commit
	if b, err := os.ReadFile(filepath.Join(dst, "f")); err != nil || string(b) != "x" {
		t.Fatalf("after Commit: %q %v", b, err)
	}
	if _, err := unpack.Stage(dst); !errors.Is(err, unpack.ErrExist) {
		t.Errorf("Stage over an existing destination: %v, want ErrExist", err)
	}

	// A leftover from a crash, and a fresh one another process may be using.
	old, err := unpack.Stage(filepath.Join(parent, "old"))
	must(t, err)
	fresh, err := unpack.Stage(filepath.Join(parent, "fresh"))
	must(t, err)
	long := time.Now().Add(-2 * time.Hour)
	must(t, os.Chtimes(old.Dir(), long, long))
	removed, err := unpack.CleanStaging(parent, time.Hour)
	must(t, err)
	if diff := cmp.Diff([]string{old.Dir()}, removed); diff != "" {
		t.Errorf("CleanStaging removed (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(fresh.Dir()); err != nil {
		t.Errorf("fresh staging dir removed: %v", err)
	}
	must(t, fresh.Discard())
	if _, err := os.Stat(fresh.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Discard left %s", fresh.Dir())
	}
}

func TestLayerIntoOpenRoot(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	must(t, err)
	defer root.Close()
	blob := tartest.Zstd(tarOf(t, file("a/b", "c")))
	d := tartest.Descriptor(tartest.MediaZstd, blob)
	st, err := unpack.Layer(context.Background(), root, bytes.NewReader(blob), d, unpack.Options{})
	must(t, err)
	if st.Files != 1 || st.BytesIn != d.Size {
		t.Errorf("stats %+v", st)
	}
	if b, _ := root.ReadFile("a/b"); string(b) != "c" {
		t.Errorf("a/b = %q", b)
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"entry", &unpack.EntryError{Name: "../x", Err: unpack.ErrPathEscapes}, `unpack: entry "../x": path escapes the root`},
		{"limit", &unpack.LimitError{Limit: "Entries", Value: 11, Max: 10}, "unpack: limit exceeded: Entries 11 > 10 (Limits.Entries)"},
		{"layer", &unpack.LayerError{Index: 1, Digest: "sha256:ab", Err: unpack.ErrSparse}, "unpack: layer 1 (sha256:ab): sparse entries are not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestCommitNeverReplacesAnEmptyDirectory: a directory that appears at the
// destination between Stage and Commit, even an empty one (which a plain
// rename would replace), makes Commit fail with ErrExist and stays.
func TestCommitNeverReplacesAnEmptyDirectory(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "dst")
	s, err := unpack.Stage(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Discard()
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(false); !errors.Is(err, unpack.ErrExist) {
		t.Errorf("Commit over an empty directory: %v, want ErrExist", err)
	}
	if names, _ := os.ReadDir(dst); len(names) != 0 {
		t.Errorf("the directory at the destination was replaced: it holds %v", names)
	}
}

// TestFileDigest: each regular file written is reported with its size and
// SHA-256, the last write of a path last; links and directories are not.
func TestFileDigest(t *testing.T) {
	blob := tartest.Tar(t, tartest.File("a", "first"), tartest.Dir("d"), tartest.File("d/b", "bee"),
		tartest.Symlink("l", "a"), tartest.File("a", "second"))
	got := map[string]string{}
	var order []string
	_, err := unpack.Layer(context.Background(), mustRoot(t), bytes.NewReader(blob), tartest.Descriptor(tartest.MediaTar, blob),
		unpack.Options{FileDigest: func(p string, size int64, d digest.Digest) {
			got[p] = fmt.Sprintf("%d %s", size, d)
			order = append(order, p)
		}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a":   fmt.Sprintf("6 %s", digest.FromString("second")),
		"d/b": fmt.Sprintf("3 %s", digest.FromString("bee")),
	}
	if diff := cmp.Diff(want, got); diff != "" || !cmp.Equal(order, []string{"a", "d/b", "a"}) {
		t.Errorf("digests (-want +got):\n%s\norder %v", diff, order)
	}
}

func mustRoot(t *testing.T) *os.Root {
	t.Helper()
	r, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestContentAcrossChunks: file bodies are written (and hashed for
// FileDigest) straight from the stream's buffers, so sizes around the tar
// block and the buffer sizes, and files spanning several buffers, must
// come out byte for byte, with their digests and the diff_id checked, in
// every compression; a diff_id that differs in the last byte of a large
// layer is still refused, with nothing published.
func TestContentAcrossChunks(t *testing.T) {
	sizes := []int{0, 1, 511, 512, 513, 64<<10 - 1, 256<<10 - 512, 256 << 10, 256<<10 + 1, 1<<20 + 7, 3<<20 + 513}
	var ents []tartest.Entry
	want := map[string]string{}
	seed := byte(1)
	for i, n := range sizes {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(j*7) ^ seed
			if j%4096 == 0 {
				seed = seed*31 + byte(i)
			}
		}
		name := fmt.Sprintf("d%d/f%d", i%3, n)
		ents = append(ents, tartest.File(name, string(b)))
		want[name] = fmt.Sprintf("%d %s", n, digest.FromBytes(b))
	}
	raw := tarOf(t, ents...)
	for _, mt := range []string{tartest.MediaTar, tartest.MediaGzip, tartest.MediaZstd} {
		t.Run(mt, func(t *testing.T) {
			blob := tartest.Compress(mt, raw)
			dst := filepath.Join(t.TempDir(), "dst")
			got := map[string]string{}
			src := unpack.LayerSource{Descriptor: tartest.Descriptor(mt, blob), DiffID: digest.FromBytes(raw), Open: opener(blob)}
			_, err := unpack.Apply(context.Background(), dst, []unpack.LayerSource{src}, unpack.Options{
				FileDigest: func(p string, size int64, d digest.Digest) { got[p] = fmt.Sprintf("%d %s", size, d) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("FileDigest (-want +got):\n%s", diff)
			}
			onDisk := map[string]string{}
			for name := range want {
				b, err := os.ReadFile(filepath.Join(dst, name))
				if err != nil {
					t.Fatal(err)
				}
				onDisk[name] = fmt.Sprintf("%d %s", len(b), digest.FromBytes(b))
			}
			if diff := cmp.Diff(want, onDisk); diff != "" {
				t.Errorf("content on disk (-want +got):\n%s", diff)
			}

			// The same layer with the diff_id of a tar whose last byte differs.
			other := append([]byte{}, raw...)
			other[len(other)-1] ^= 1
			dst2 := filepath.Join(t.TempDir(), "dst")
			src.DiffID = digest.FromBytes(other)
			_, err = unpack.Apply(context.Background(), dst2, []unpack.LayerSource{src}, unpack.Options{})
			if !errors.Is(err, unpack.ErrDiffIDMismatch) {
				t.Fatalf("error = %v, want ErrDiffIDMismatch", err)
			}
			if _, err := os.Lstat(dst2); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the destination exists after a diff_id mismatch: %v", err)
			}
		})
	}
}
