package extension

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pgoci/internal/elftest"
	"pgoci/unpack"
)

// TestInstallRefusesLongNamesBeforeUpgrading: a 250-byte file name is
// valid in an image, but its temporary name ".<name>.pgoci-XXXXXXXX"
// would exceed NAME_MAX half way through a PostgreSQL 17 upgrade, leaving
// the new module next to the old control file. It is refused before
// anything changes.
func TestInstallRefusesLongNamesBeforeUpgrading(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.4", "cube", 17, instFiles(instExt{name: "cube", version: "1.4"}))
	v2 := instFiles(instExt{name: "cube", version: "1.5"})
	v2["lib/"+strings.Repeat("z", 247)+".so"] = "long"
	instPush(t, srv, "ext/cube", "1.5", "cube", 17, v2)
	pgConfig, top := instServer(t)
	ctx := context.Background()
	opts := RootOptions{PGConfig: pgConfig, CacheDir: "-"}
	if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.4", instTarget(17), opts); err != nil {
		t.Fatal(err)
	}
	before := instSnapshot(t, top, "share/postgresql/17/.pgoci")
	_, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(17), opts)
	if !errors.Is(err, ErrNotInstallable) {
		t.Fatalf("err = %v, want ErrNotInstallable", err)
	}
	if diff := cmp.Diff(before, instSnapshot(t, top, "share/postgresql/17/.pgoci")); diff != "" {
		t.Errorf("a failed upgrade changed the server's directories (-before +after):\n%s", diff)
	}
	list := instList(t, RootOptions{PGConfig: pgConfig})
	for _, r := range list {
		if r.Pending {
			t.Errorf("a failed upgrade left the record of %s pending", r.Name)
		}
	}
}

// TestCleanTmpKeepsLiveStaging: the cleanup every Install runs keeps the
// staging directory of a live workspace however old it is (a concurrent
// install with a slow download).
func TestCleanTmpKeepsLiveStaging(t *testing.T) {
	root := t.TempDir()
	loc, err := openLocation(context.Background(), root, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := loc.prepare(); err != nil {
		t.Fatal(err)
	}
	ws, err := loc.newWorkspace(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close(func(what, path string, err error) {})
	s, err := unpack.Stage(ws.Path("cube-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Discard()
	if err := os.Mkdir(filepath.Join(s.Dir(), "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(s.Dir(), old, old); err != nil {
		t.Fatal(err)
	}
	removed := loc.cleanTmp(func(string, string, error) {}) // what another process's Install does
	if _, err := os.Lstat(s.Dir()); err != nil {
		t.Errorf("cleanTmp removed the staging directory of a live workspace (lock held): %v; removed %v", err, removed)
	}
}

// TestInstallRechecksRequiresAtCommit: while earthdistance is being
// unpacked (outside the lock), another process uninstalls its dependency
// cube, which nothing recorded requires yet. The commit re-checks under
// the lock and refuses, rather than leaving earthdistance without cube.
func TestInstallRechecksRequiresAtCommit(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	instPush(t, srv, "ext/earthdistance", "1.2", "earthdistance", 18,
		instFiles(instExt{name: "earthdistance", version: "1.2", requires: []string{"cube"}}))
	root := t.TempDir()
	ctx := context.Background()
	opts := instOptions(t, root)
	var uerr error
	done := false
	opts.Events = func(e Event) {
		if e.Kind == EventUnpack && e.Package == "earthdistance" && !done {
			done = true
			_, uerr = uninstallAt(ctx, "cube", RootOptions{Root: root})
		}
	}
	_, err := installAt(ctx, srv.Host()+"/ext/earthdistance:1.2", instTarget(18), opts)
	if uerr != nil {
		t.Fatalf("the concurrent uninstall of cube failed: %v", uerr)
	}
	if !errors.Is(err, ErrMissingDependency) {
		t.Errorf("install err = %v, want ErrMissingDependency", err)
	}
	if list := instList(t, RootOptions{Root: root}); len(list) != 0 {
		t.Errorf("installed %v, want nothing (cube removed, earthdistance refused)", list)
	}
}

// TestInstallRefusesDeepPaths: the view link of a deep lib/ path (under
// the unpacker's limits) would have a target of "../" x depth +
// "packages/<name>/current/" + path, over PATH_MAX, and fail half way
// through the commit. It is refused before anything changes.
func TestInstallRefusesDeepPaths(t *testing.T) {
	srv := instRegistry(t)
	files := instFiles(instExt{name: "deep", version: "1.0"})
	deep := "lib/" + strings.Repeat(strings.Repeat("d", 38)+"/", 99) + "x.so"
	files[deep] = "deep"
	instPush(t, srv, "ext/deep", "1.0", "deep", 18, files)
	root := t.TempDir()
	opts := instOptions(t, root)
	ctx := context.Background()
	// A new root, as a refused install leaves it (but for .pgoci).
	before := map[string]string{".": "dir -rwxr-xr-x"}
	_, err := installAt(ctx, srv.Host()+"/ext/deep:1.0", instTarget(18), opts)
	if !errors.Is(err, ErrNotInstallable) {
		t.Fatalf("err = %v, want ErrNotInstallable", err)
	}
	if diff := cmp.Diff(before, instSnapshot(t, root, ".pgoci")); diff != "" {
		t.Errorf("a failed install left the root changed (-before +after):\n%s", diff)
	}
	list := instList(t, RootOptions{Root: root})
	for _, r := range list {
		t.Errorf("a refused install left a record: %s pending=%v", r.Name, r.Pending)
	}
}

// TestInstallRefusesDirectorySymlinks: a symbolic link in an image that is
// not a same-directory alias of a regular file (a link to a directory, or
// one that climbs) is refused before anything changes, in both modes: once
// placed, a later file of this or another package could be written
// through it (in PostgreSQL 17 mode a relative link also changes meaning,
// and share/extension/up -> .. would reach the state directory). Library
// aliases (libfoo.so -> libfoo.so.1) install.
func TestInstallRefusesDirectorySymlinks(t *testing.T) {
	srv := instRegistry(t)
	links := []struct{ path, target string }{
		{"lib/up", ".."}, {"share/extension/up", ".."}, {"lib/sub", "../share"},
		{"lib/x.so", "../share/extension/linker.control"}, // a file, but in another directory
	}
	for _, mode := range []struct {
		name  string
		major int
	}{{"root", 18}, {"pg17", 17}} {
		for k, link := range links {
			tag := fmt.Sprintf("bad%d-pg%d", k, mode.major)
			instPushLinks(t, srv, "ext/linker", tag, "linker", mode.major,
				instFiles(instExt{name: "linker", version: "1.0"}), map[string]string{link.path: link.target})
			t.Run(mode.name+" "+link.path+" -> "+link.target, func(t *testing.T) {
				opts, snapshot := instModeOptions(t, mode.name)
				before := snapshot()
				_, err := installAt(context.Background(), srv.Host()+"/ext/linker:"+tag, instTarget(mode.major), opts)
				if !errors.Is(err, ErrNotInstallable) {
					t.Fatalf("err = %v, want ErrNotInstallable", err)
				}
				if diff := cmp.Diff(before, snapshot()); diff != "" {
					t.Errorf("a refused install changed the destination (-before +after):\n%s", diff)
				}
			})
		}
	}
	files := instFiles(instExt{name: "alias", version: "1.0"})
	files["lib/libalias.so.1"] = elfFile(t, elftest.Spec{Soname: "libalias.so.1", Comment: "libalias"})
	instPushLinks(t, srv, "ext/alias", "1.0", "alias", 17, files, map[string]string{"lib/libalias.so": "libalias.so.1"})
	opts, _ := instModeOptions(t, "pg17")
	if _, err := installAt(context.Background(), srv.Host()+"/ext/alias:1.0", instTarget(17), opts); err != nil {
		t.Errorf("a same-directory library alias was refused: %v", err)
	}
}

// instModeOptions returns options for an install root (mode "root") or a
// PostgreSQL 17 server tree (mode "pg17"), and a snapshot of it.
func instModeOptions(t *testing.T, mode string) (RootOptions, func() map[string]string) {
	t.Helper()
	if mode == "pg17" {
		pgConfig, top := instServer(t)
		state := "share/postgresql/17/.pgoci" // pgoci's own state, created by any install
		return RootOptions{PGConfig: pgConfig, CacheDir: "-"}, func() map[string]string { return instSnapshot(t, top, state) }
	}
	root := filepath.Join(t.TempDir(), "root")
	for _, d := range []string{"share/extension", "lib", "packages"} { // what any install creates
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return instOptions(t, root), func() map[string]string { return instSnapshot(t, root, ".pgoci") }
}

// TestInstallRetryAfterCrashedUpgradeRemovesOldVersion: an upgrade that
// crashed after its pending record was written leaves the old version
// directory; the retry that completes it removes that directory too.
func TestInstallRetryAfterCrashedUpgradeRemovesOldVersion(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.4", "cube", 18, instFiles(instExt{name: "cube", version: "1.4"}))
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	root := t.TempDir()
	ctx := context.Background()
	if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.4", instTarget(18), instOptions(t, root)); err != nil {
		t.Fatal(err)
	}
	// Simulate the crash: an extra version directory next to the current
	// one, as an interrupted commit leaves it.
	pkgDir := filepath.Join(root, "packages", "cube")
	if err := os.Mkdir(filepath.Join(pkgDir, "0123456789abcdef"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), instOptions(t, root)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(pkgDir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("packages/cube holds %v, want only the current version and the current link", names)
	}
}

// TestPG17SharedCreatedDirRemovedByLastUser: package a creates
// pkglibdir/plugins, package b puts a file in it too; whichever order they
// are uninstalled in, the server's directories end as they began.
func TestPG17SharedCreatedDirRemovedByLastUser(t *testing.T) {
	srv := instRegistry(t)
	a := instFiles(instExt{name: "a", version: "1"})
	a["lib/plugins/a.so"] = instModule("a")
	b := instFiles(instExt{name: "b", version: "1"})
	b["lib/plugins/b.so"] = instModule("b")
	instPush(t, srv, "ext/a", "1", "a", 17, a)
	instPush(t, srv, "ext/b", "1", "b", 17, b)
	for _, order := range [][]string{{"a", "b"}, {"b", "a"}} {
		t.Run("uninstall "+strings.Join(order, " then "), func(t *testing.T) {
			pgConfig, top := instServer(t)
			state := "share/postgresql/17/.pgoci"
			before := instSnapshot(t, top, state)
			ctx := context.Background()
			for _, name := range []string{"a", "b"} {
				if _, err := installAt(ctx, srv.Host()+"/ext/"+name+":1", instTarget(17), RootOptions{PGConfig: pgConfig, CacheDir: "-"}); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range order {
				if _, err := uninstallAt(ctx, name, RootOptions{PGConfig: pgConfig}); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(before, instSnapshot(t, top, state)); diff != "" {
				t.Errorf("server directories after both uninstalls (-before +after):\n%s", diff)
			}
		})
	}
}

// TestInstallUpgradeFileBecomesDirectory: version 1 ships the file
// lib/plugins, version 2 the directory lib/plugins/ with a.so in it, and
// version 3 the file again; each upgrade replaces the view's link by a
// directory of links or the other way round.
func TestInstallUpgradeFileBecomesDirectory(t *testing.T) {
	srv := instRegistry(t)
	file := func(v string) map[string]string {
		f := instFiles(instExt{name: "cube", version: v})
		f["lib/plugins"] = "a file " + v
		return f
	}
	dir := instFiles(instExt{name: "cube", version: "1.5"})
	dir["lib/plugins/a.so"] = instModule("a module")
	instPush(t, srv, "ext/cube", "1.4", "cube", 18, file("1.4"))
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, dir)
	instPush(t, srv, "ext/cube", "1.6", "cube", 18, file("1.6"))
	root := t.TempDir()
	ctx := context.Background()
	for _, step := range []struct{ tag, path, want string }{
		{"1.4", "lib/plugins", "a file 1.4"},
		{"1.5", "lib/plugins/a.so", instModule("a module")},
		{"1.6", "lib/plugins", "a file 1.6"},
	} {
		if _, err := installAt(ctx, srv.Host()+"/ext/cube:"+step.tag, instTarget(18), instOptions(t, root)); err != nil {
			t.Fatalf("install %s: %v", step.tag, err)
		}
		if got := instRead(t, filepath.Join(root, step.path)); got != step.want {
			t.Errorf("after %s, %s reads %q, want %q", step.tag, step.path, got, step.want)
		}
		if drift, err := verifyAt(ctx, RootOptions{Root: root}); err != nil || len(drift) != 0 {
			t.Errorf("Verify after %s: %v %+v", step.tag, err, drift)
		}
	}
}

// TestInstallViewShapeConflicts: a package whose file stands where another
// package needs a directory (or the other way round) is refused as a
// conflict naming the other package, before anything changes.
func TestInstallViewShapeConflicts(t *testing.T) {
	srv := instRegistry(t)
	a := instFiles(instExt{name: "a", version: "1"})
	a["lib/plugins"] = "a file"
	b := instFiles(instExt{name: "b", version: "1"})
	b["lib/plugins/b.so"] = instModule("a module")
	instPush(t, srv, "ext/a", "1", "a", 18, a)
	instPush(t, srv, "ext/b", "1", "b", 18, b)
	for _, order := range [][]string{{"a", "b"}, {"b", "a"}} {
		t.Run(order[0]+" then "+order[1], func(t *testing.T) {
			root := t.TempDir()
			ctx := context.Background()
			if _, err := installAt(ctx, srv.Host()+"/ext/"+order[0]+":1", instTarget(18), instOptions(t, root)); err != nil {
				t.Fatal(err)
			}
			before := instSnapshot(t, root, ".pgoci")
			_, err := installAt(ctx, srv.Host()+"/ext/"+order[1]+":1", instTarget(18), instOptions(t, root))
			var ce *ConflictError
			if !errors.As(err, &ce) || ce.Owner != order[0] {
				t.Fatalf("err = %v, want a *ConflictError with owner %s", err, order[0])
			}
			if diff := cmp.Diff(before, instSnapshot(t, root, ".pgoci")); diff != "" {
				t.Errorf("a refused install changed the root (-before +after):\n%s", diff)
			}
		})
	}
}
