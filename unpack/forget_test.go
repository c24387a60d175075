package unpack

import (
	"bytes"
	"context"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/internal/tartest"
)

// TestForgetDropsSubtreeOnly: forget removes the facts recorded at and
// under a path (through the per-directory index), and nothing else.
func TestForgetDropsSubtreeOnly(t *testing.T) {
	_, root := dosRoot(t)
	for _, tc := range []struct {
		name, forget string
		wantMeta     []string
		wantTouched  []string
	}{
		{"a directory", "a", []string{"ab", "ab/c", "b"}, []string{".", "ab"}},
		{"a leaf", "a/x/y", []string{"a", "a/x", "ab", "ab/c", "b"}, []string{".", "a", "a/x", "ab"}},
		{"a path never recorded", "zzz", []string{"a", "a/x", "a/x/y", "ab", "ab/c", "b"}, []string{".", "a", "a/x", "ab"}},
		{"the root", ".", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApplier(context.Background(), root, Options{}, &Stats{}, nil)
			for _, p := range []string{"a", "a/x", "a/x/y", "ab", "ab/c", "b"} {
				a.setMeta(p, dirMeta{mode: 0o755, uid: -1, gid: -1})
				a.touch(parentOf(p))
			}
			a.forget(tc.forget)
			got := slices.Sorted(maps.Keys(a.meta))
			if diff := cmp.Diff(tc.wantMeta, got); diff != "" {
				t.Errorf("meta keys (-want +got):\n%s", diff)
			}
			got = slices.Sorted(maps.Keys(a.touched))
			if diff := cmp.Diff(tc.wantTouched, got); diff != "" {
				t.Errorf("touched keys (-want +got):\n%s", diff)
			}
		})
	}
}

func parentOf(p string) string {
	if i := bytes.LastIndexByte([]byte(p), '/'); i >= 0 {
		return p[:i]
	}
	return "."
}

// TestManyWhiteouts: a layer of n directories and n files, then a
// whiteout of each, removes them all (forget runs once per removal).
func TestManyWhiteouts(t *testing.T) {
	const n = 3000
	var ents []tartest.Entry
	for i := range n {
		ents = append(ents, tartest.Dir("d"+tartest.Itoa(i)+"/"), tartest.File("d"+tartest.Itoa(i)+"/f", ""), tartest.File("f"+tartest.Itoa(i), ""))
	}
	for i := range n {
		ents = append(ents, tartest.File(".wh.f"+tartest.Itoa(i), ""))
		if i%2 == 0 {
			ents = append(ents, tartest.File(".wh.d"+tartest.Itoa(i), ""))
		}
	}
	dir, root := dosRoot(t)
	blob := tartest.Tar(t, ents...)
	st, err := Layer(context.Background(), root, bytes.NewReader(blob), tartest.Descriptor(tartest.MediaTar, blob), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(n + n/2); st.Whiteouts != want {
		t.Errorf("%d whiteouts applied, want %d", st.Whiteouts, want)
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != n/2 {
		t.Errorf("%d names left, want the %d odd directories", len(left), n/2)
	}
}
