// Package testuser runs test code as an unprivileged user, the way pgoci
// runs on most servers: as root, a read-only directory does not stop an
// unlink, so failure paths that depend on permissions are only real when
// the effective user is not root.
package testuser

import (
	"os"
	"path/filepath"
	"testing"
)

// Nobody is the uid and gid the tests run as.
const Nobody = 65534

// Unprivileged runs f with effective uid and gid [Nobody] in a fresh
// directory that user owns, and restores the effective ids afterwards;
// for a test process that is not root it runs f as is. The ids are
// process-wide: tests using it must not run in parallel with others.
func Unprivileged(t testing.TB, f func(dir string)) {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		f(dir)
		return
	}
	if !canSwitch {
		t.Skip("switching the effective user needs Linux; run as a non-root user to run this test here")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(dir, 0o755))
	must(os.Chmod(filepath.Dir(dir), 0o755)) // the per-test parent of t.TempDir
	work := filepath.Join(dir, "w")
	must(os.Mkdir(work, 0o755))
	must(os.Chown(work, Nobody, Nobody))
	must(drop(Nobody, Nobody))
	defer func() {
		restore()
		unlock(work)
		os.RemoveAll(work) // as root again
	}()
	f(work)
}

// unlock makes every directory under dir writable again, so that the
// test's own cleanup can remove what f left read-only.
func unlock(dir string) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
}
