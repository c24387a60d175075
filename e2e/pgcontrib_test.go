//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Where the @embedded-postgres tree keeps the server's own extension files
// (its sharedir/extension and pkglibdir).
const (
	pg18ExtensionDir = "share/postgresql/extension"
	pg18PkgLibDir    = "lib/postgresql"
)

// pg18Copy copies the cached PostgreSQL 18 tree (PGOCI_E2E_PG18) into a
// directory the PostgreSQL user can read, so a test can take files out of
// it: the cached tree itself is never modified.
func pg18Copy(t *testing.T) string {
	t.Helper()
	src := pgEnv(t, "PGOCI_E2E_PG18")
	if _, err := os.Stat(filepath.Join(src, "bin", "postgres")); err != nil {
		t.Fatalf("PostgreSQL 18 tree: %v: run the suite with bash .ci/e2e.sh", err)
	}
	dst := filepath.Join(sharedTempDir(t), "pg18")
	// cp -a keeps the library symbolic links hydrate-symlinks.js restored.
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v\n%s", src, err, out)
	}
	return dst
}

// extractContrib moves the files of the named contrib extensions out of
// the server tree into one DESTDIR-like tree per extension under dst, in
// the image root layout (share/extension/, lib/), ready for extension.Pack:
// <name>.control, <name>--*.sql and <name>--*.control, lib/<name>.so and
// its JIT bitcode when the tree has any. It returns the trees by name.
func extractContrib(t *testing.T, server, dst string, names ...string) map[string]string {
	t.Helper()
	trees := make(map[string]string, len(names))
	for _, name := range names {
		tree := filepath.Join(dst, name)
		var moved int
		for _, pattern := range []string{name + ".control", name + "--*.sql", name + "--*.control"} {
			moved += moveGlob(t, filepath.Join(server, pg18ExtensionDir, pattern), filepath.Join(tree, "share", "extension"))
		}
		if moved == 0 {
			t.Fatalf("contrib %s: no control file in %s", name, filepath.Join(server, pg18ExtensionDir))
		}
		if moveGlob(t, filepath.Join(server, pg18PkgLibDir, name+".so"), filepath.Join(tree, "lib")) != 1 {
			t.Fatalf("contrib %s: no %s.so in %s", name, name, filepath.Join(server, pg18PkgLibDir))
		}
		bitcode := filepath.Join(server, pg18PkgLibDir, "bitcode")
		moveGlob(t, filepath.Join(bitcode, name), filepath.Join(tree, "lib", "bitcode"))
		moveGlob(t, filepath.Join(bitcode, name+".index.bc"), filepath.Join(tree, "lib", "bitcode"))
		trees[name] = tree
	}
	return trees
}

// moveGlob renames the paths matching pattern into dir (created as
// needed) and returns how many it moved.
func moveGlob(t *testing.T, pattern, dir string) int {
	t.Helper()
	matches, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range matches {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(m, filepath.Join(dir, filepath.Base(m))); err != nil {
			t.Fatal(err)
		}
	}
	return len(matches)
}
