package unpack_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"pgoci/internal/tartest"
	"pgoci/unpack"
)

// TestPlantedSymlinks applies a layer with [unpack.Layer] into a root that
// already holds symlinks the unpacker would never create itself (a caller's
// tree): targets that are literal host paths or climb out of the root. A
// write through them lands inside the root or is refused, never outside.
func TestPlantedSymlinks(t *testing.T) {
	tests := []struct {
		name  string
		links map[string]string // planted name -> literal target ($OUT: the outside tree)
		ents  []tartest.Entry
		opts  unpack.Options
		want  error
		file  string // with want == nil: the root-relative path written, holding "x"
	}{
		{name: "l -> ../.. then l/x is refused", links: map[string]string{"l": "../.."}, ents: []tartest.Entry{file("l/x", "x")}, want: unpack.ErrLinkEscapes},
		{name: "d/l -> ../../.. then d/l/x is refused", links: map[string]string{"d/l": "../../.."}, ents: []tartest.Entry{file("d/l/x", "x")}, want: unpack.ErrLinkEscapes},
		{name: "literal l -> / then l/etc/x writes <root>/etc/x", links: map[string]string{"l": "/"}, ents: []tartest.Entry{file("l/etc/x", "x")}, file: "etc/x"},
		{name: "literal l -> $OUT then l/x writes inside the root", links: map[string]string{"l": "$OUT"}, ents: []tartest.Entry{file("l/x", "x")}, file: "$OUT/x"},
		{name: "literal l -> /.. is refused, not clamped", links: map[string]string{"l": "/.."}, ents: []tartest.Entry{file("l/x", "x")}, want: unpack.ErrLinkEscapes},
		{name: "literal l -> /a/../b resolves step by step", links: map[string]string{"l": "/a/../b", "a": "d/e"}, ents: []tartest.Entry{dir("d/e/"), file("l/x", "x")}, file: "d/b/x"},
		{name: "chain into an escaping link is refused", links: map[string]string{"a": "b", "b": "c/../../.."}, ents: []tartest.Entry{dir("c/"), file("a/x", "x")}, want: unpack.ErrLinkEscapes},
		{name: "planted loop", links: map[string]string{"a": "/b", "b": "/a"}, ents: []tartest.Entry{file("a/x", "x")}, want: unpack.ErrSymlinkLoop},
		{name: "NoSymlinkParents refuses a planted link", links: map[string]string{"l": "/"}, ents: []tartest.Entry{file("l/x", "x")},
			opts: unpack.Options{NoSymlinkParents: true}, want: unpack.ErrSymlinkParent},
		{name: "a new symlink is checked where it really lands", links: map[string]string{"l": "/"}, ents: []tartest.Entry{sym("l/up", "..")}, want: unpack.ErrLinkEscapes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			must(t, os.Mkdir(e.dst, 0o755))
			for name, target := range tc.links {
				p := filepath.Join(e.dst, name)
				must(t, os.MkdirAll(filepath.Dir(p), 0o755))
				must(t, os.Symlink(e.subst(target), p))
			}
			before := snapshot(t, e.tmp, e.dst)
			root, err := os.OpenRoot(e.dst)
			must(t, err)
			defer root.Close()
			blob := tartest.Tar(t, tc.ents...)
			_, err = unpack.Layer(context.Background(), root, bytes.NewReader(blob), tartest.Descriptor(tartest.MediaTar, blob), tc.opts)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			e.checkConfined(t, before, false)
			if tc.file != "" {
				wantFile(t, e, rel(e.subst(tc.file)), "x")
			}
			t.Logf("%v", err)
		})
	}
}
