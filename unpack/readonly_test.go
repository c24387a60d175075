package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"pgoci/internal/tartest"
)

// asNobody runs f with effective uid/gid 65534, as an unprivileged
// installer runs, in a fresh directory that user owns; for a non-root test
// process it runs f as is (the owner of a 0555 directory cannot unlink in
// it either). Effective ids are restored afterwards.
func asNobody(t *testing.T, f func(dir string)) {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		f(dir)
		return
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(dir, 0o755))
	must(os.Chmod(dir+"/..", 0o755)) // the per-test parent of t.TempDir
	work := dir + "/w"
	must(os.Mkdir(work, 0o755))
	must(os.Chown(work, 65534, 65534))
	must(syscall.Setresgid(-1, 65534, -1))
	must(syscall.Setresuid(-1, 65534, -1))
	defer func() {
		syscall.Setresuid(-1, 0, -1)
		syscall.Setresgid(-1, 0, -1)
		os.RemoveAll(work) // as root again
	}()
	f(work)
}

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
