package unpack_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/tartest"
	"pgoci/unpack"
)

// layerSpec is one layer of a test case: entries (or a ready blob), its
// media type, and optional changes to the blob or descriptor.
type layerSpec struct {
	entries []tartest.Entry
	mt      string // default tar+gzip
	tar     []byte // overrides entries
	blob    []byte // overrides tar and compression
	serve   []byte // what Open returns, when not blob (a corrupted copy)
	desc    func(d *ocispec.Descriptor)
	diffID  func(tarBytes []byte) digest.Digest
}

// env is a temp directory holding the destination and an "outside" tree
// that no case may touch.
type env struct {
	tmp, dst, out string
}

func newEnv(t testing.TB) env {
	tmp := t.TempDir()
	e := env{tmp: tmp, dst: filepath.Join(tmp, "dst"), out: filepath.Join(tmp, "outside")}
	must(t, os.MkdirAll(filepath.Join(e.out, "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(e.out, "secret"), []byte("secret"), 0o600))
	must(t, os.WriteFile(filepath.Join(e.out, "etc", "passwd"), []byte("root:x:0:0"), 0o644))
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// subst replaces $OUT with the absolute outside path, so cases can aim
// absolute links at a real host directory.
func (e env) subst(s string) string { return strings.ReplaceAll(s, "$OUT", e.out) }

func (e env) sources(t testing.TB, layers []layerSpec) []unpack.LayerSource {
	t.Helper()
	var srcs []unpack.LayerSource
	for _, l := range layers {
		mt := l.mt
		if mt == "" {
			mt = tartest.MediaGzip
		}
		tb := l.tar
		if tb == nil {
			ents := make([]tartest.Entry, len(l.entries))
			for i, en := range l.entries {
				en.Name, en.Linkname = e.subst(en.Name), e.subst(en.Linkname)
				ents[i] = en
			}
			tb = tartest.Tar(t, ents...)
		}
		blob := l.blob
		if blob == nil {
			blob = tartest.Compress(mt, tb)
		}
		d := tartest.Descriptor(mt, blob)
		if l.desc != nil {
			l.desc(&d)
		}
		if l.serve != nil {
			blob = l.serve
		}
		src := unpack.LayerSource{Descriptor: d, Open: opener(blob)}
		if l.diffID != nil {
			src.DiffID = l.diffID(tb)
		}
		srcs = append(srcs, src)
	}
	return srcs
}

func opener(blob []byte) func(context.Context) (io.ReadCloser, error) {
	return func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	}
}

// snapshot records every path under dir (except skip) with its type, mode,
// link target and content hash.
func snapshot(t testing.TB, dir, skip string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return fs.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		v := fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			v += " -> " + l
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			h := sha256.Sum256(b)
			v += " " + hex.EncodeToString(h[:8])
		}
		if !fi.IsDir() {
			v += " " + fi.ModTime().String()
		}
		m[strings.TrimPrefix(p, dir)] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkConfined asserts that nothing outside dst changed and, on error,
// that dst was never created and no staging directory was left.
func (e env) checkConfined(t testing.TB, before map[string]string, failed bool) {
	t.Helper()
	after := snapshot(t, e.tmp, e.dst)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("outside the destination changed (-before +after):\n%s", diff)
	}
	if _, err := os.Lstat(e.dst); failed && err == nil {
		t.Errorf("destination exists after an error")
	}
}
