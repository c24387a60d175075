package unpack

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgoci/internal/tartest"
)

// dosRoot returns a fresh empty directory and a root on it for Layer.
func dosRoot(t *testing.T) (string, *os.Root) {
	t.Helper()
	dir := t.TempDir()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return dir, r
}

// deepEntries returns n file entries, each under its own chain of depth-1
// implied directories with long names (paths close to PathBytes).
func deepEntries(n, depth int) []tartest.Entry {
	comp := strings.Repeat("c", 4000/depth)
	var ents []tartest.Entry
	for i := range n {
		p := "e" + tartest.Itoa(i) + strings.Repeat("/"+comp, depth-2) + "/f"
		ents = append(ents, tartest.File(p, "x"))
	}
	return ents
}

// countObjects counts what is under dir, dir itself excluded.
func countObjects(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImpliedDirsCountAgainstEntries: each entry may imply up to Depth-1
// parent directories; they count against Limits.Entries, so 100 entries of
// 128 components cannot make 12,700 directories under Entries: 100.
func TestImpliedDirsCountAgainstEntries(t *testing.T) {
	dir, root := dosRoot(t)
	blob := tartest.Tar(t, deepEntries(100, 128)...)
	st, err := Layer(context.Background(), root, bytes.NewReader(blob), tartest.Descriptor(tartest.MediaTar, blob), Options{Limits: Limits{Entries: 100}})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "Entries" {
		t.Fatalf("error = %v, want the Entries limit", err)
	}
	if objs := countObjects(t, dir); objs > 100 {
		t.Errorf("Entries: 100 let the layer create %d filesystem objects (stats %+v)", objs, st)
	}
}

// TestImpliedDirsWithinEntries: the same count lets a layer through when
// its entries and implied directories fit.
func TestImpliedDirsWithinEntries(t *testing.T) {
	dir, root := dosRoot(t)
	blob := tartest.Tar(t, tartest.File("a/b/c/f", "x"), tartest.File("a/b/g", "y"))
	// 2 entries + a, a/b, a/b/c implied = 5 objects.
	for _, tc := range []struct {
		name  string
		limit int64
		ok    bool
	}{{"exactly enough", 5, true}, {"one short", 4, false}} {
		t.Run(tc.name, func(t *testing.T) {
			os.RemoveAll(filepath.Join(dir, "a"))
			_, err := Layer(context.Background(), root, bytes.NewReader(blob), tartest.Descriptor(tartest.MediaTar, blob), Options{Limits: Limits{Entries: tc.limit}})
			if tc.ok && err != nil {
				t.Fatal(err)
			}
			if !tc.ok && !errors.Is(err, ErrLimit) {
				t.Fatalf("error = %v, want ErrLimit", err)
			}
		})
	}
}
