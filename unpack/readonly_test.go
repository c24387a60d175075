package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"pgoci/internal/tartest"
	"pgoci/internal/testuser"
)

// asNobody runs f as an unprivileged user (see testuser.Unprivileged).
func asNobody(t *testing.T, f func(dir string)) { testuser.Unprivileged(t, f) }

func tarSource(t *testing.T, ents ...tartest.Entry) LayerSource {
	blob := tartest.Tar(t, ents...)
	return LayerSource{Descriptor: tartest.Descriptor(tartest.MediaTar, blob), Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	}}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// roLayer makes ro/ (mode 0555) with a file inside.
func roLayer(t *testing.T) LayerSource {
	return tarSource(t, tartest.Entry{Name: "ro/", Type: tar.TypeDir, Mode: 0o555}, tartest.File("ro/f", "x"))
}

// TestStagingRemovedAfterErrorWithReadOnlyDir: a layer makes ro/ 0555
// before the digest verdict; the failed Apply still leaves nothing behind.
func TestStagingRemovedAfterErrorWithReadOnlyDir(t *testing.T) {
	asNobody(t, func(dir string) {
		bad := roLayer(t)
		bad.Descriptor.Digest = digest.FromString("something else")
		_, err := Apply(context.Background(), dir+"/dst", []LayerSource{bad}, Options{})
		if !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("error = %v, want ErrDigestMismatch", err)
		}
		if left := listDir(t, dir); len(left) != 0 {
			t.Errorf("left behind after the error: %v", left)
		}
	})
}

// TestCleanStagingReadOnlyDir: CleanStaging removes a crashed process's
// staging directory holding a read-only directory.
func TestCleanStagingReadOnlyDir(t *testing.T) {
	asNobody(t, func(dir string) {
		s, err := Stage(dir + "/dst")
		if err != nil {
			t.Fatal(err)
		}
		l := roLayer(t)
		rc, _ := l.Open(context.Background())
		if _, err := Layer(context.Background(), s.Root(), rc, l.Descriptor, Options{}); err != nil {
			t.Fatal(err)
		}
		s.Root().Close() // the process "crashed": no Discard
		removed, err := CleanStaging(dir, -time.Hour)
		if err != nil || len(removed) != 1 {
			t.Fatalf("CleanStaging = %v, %v; want the one staging directory", removed, err)
		}
		if left := listDir(t, dir); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}

// TestRemoveReadOnlyLowerDir: a later layer may remove a directory a lower
// layer made read-only, by whiteout, opaque marker or replacement.
func TestRemoveReadOnlyLowerDir(t *testing.T) {
	for _, tc := range []struct {
		name string
		top  []tartest.Entry
		want string // what is at dst/ro afterwards: "" nothing, else a kind
	}{
		{"whiteout", []tartest.Entry{tartest.File(".wh.ro", "")}, ""},
		{"opaque", []tartest.Entry{tartest.File(".wh..wh..opq", "")}, ""},
		{"replaced by file", []tartest.Entry{tartest.File("ro", "now a file")}, "regular file"},
		{"replaced by a link", []tartest.Entry{tartest.Symlink("ro", "elsewhere")}, "symlink"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asNobody(t, func(dir string) {
				_, err := Apply(context.Background(), dir+"/dst", []LayerSource{roLayer(t), tarSource(t, tc.top...)}, Options{})
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				fi, err := os.Lstat(dir + "/dst/ro")
				switch {
				case tc.want == "" && err == nil:
					t.Errorf("ro is still there (a %s)", kind(fi))
				case tc.want != "" && err != nil:
					t.Errorf("ro: %v", err)
				case tc.want != "" && kind(fi) != tc.want:
					t.Errorf("ro is a %s, want a %s", kind(fi), tc.want)
				}
			})
		})
	}
}

// TestRemoveAllReadOnlyTree: RemoveAll removes a tree holding a 0555
// directory as its unprivileged owner, does not follow a symlink out of
// it, and is a no-op for a missing path.
func TestRemoveAllReadOnlyTree(t *testing.T) {
	asNobody(t, func(dir string) {
		tree, outside := dir+"/tree", dir+"/outside"
		for _, d := range []string{tree + "/ro", outside + "/keep"} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(tree+"/ro/f", []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, tree+"/ro/link"); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(tree+"/ro", 0o555); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(outside+"/keep", 0o555); err != nil {
			t.Fatal(err)
		}
		if err := RemoveAll(tree); err != nil {
			t.Fatalf("RemoveAll: %v", err)
		}
		if _, err := os.Lstat(tree); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("tree still there: %v", err)
		}
		if fi, err := os.Stat(outside + "/keep"); err != nil || fi.Mode().Perm() != 0o555 {
			t.Errorf("the directory outside, behind a link, was changed: %v %v", fi.Mode(), err)
		}
		if err := RemoveAll(dir + "/missing"); err != nil {
			t.Errorf("RemoveAll of a missing path: %v", err)
		}
		os.Chmod(outside+"/keep", 0o755)
	})
}
