package extension

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestInstallRoot installs a package into an empty root: the package
// directory, the current link, the merged view, the record and the
// settings, and CREATE EXTENSION's view of it (files read through the
// view links).
func TestInstallRoot(t *testing.T) {
	srv := instRegistry(t)
	files := instFiles(instExt{name: "cube", version: "1.5"})
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, files)
	root := filepath.Join(t.TempDir(), "root")
	var kinds []EventKind
	opts := instOptions(t, root)
	opts.Events = func(e Event) {
		if len(kinds) == 0 || kinds[len(kinds)-1] != e.Kind {
			kinds = append(kinds, e.Kind)
		}
	}
	res, err := installAt(context.Background(), srv.Host()+"/ext/cube:1.5", instTarget(18), opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"cube installed"}, instNames(res.Packages)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]EventKind{EventResolve, EventFetch, EventUnpack, EventCommit, EventDone}, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	wantConf := "extension_control_path = '$system:" + root + "/share'\ndynamic_library_path = '$libdir:" + root + "/lib'\n"
	if got := res.Settings.PostgresqlConf(); got != wantConf {
		t.Errorf("settings:\n%s\nwant:\n%s", got, wantConf)
	}
	rec := res.Packages[0].Installed
	for p, want := range files {
		if got := instRead(t, filepath.Join(root, p)); got != want {
			t.Errorf("%s through the view: %q, want %q", p, got, want)
		}
	}
	snap := instSnapshot(t, root, ".pgoci")
	hex := rec.Manifest.Encoded()[:16]
	for p, want := range map[string]string{
		"share/extension/cube.control": "link -> ../../packages/cube/current/share/extension/cube.control",
		"lib/cube.so":                  "link -> ../packages/cube/current/lib/cube.so",
		"packages/cube/current":        "link -> " + hex,
	} {
		if snap[p] != want {
			t.Errorf("%s: %q, want %q", p, snap[p], want)
		}
	}
	var top []string
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		top = append(top, e.Name())
	}
	if diff := cmp.Diff([]string{".pgoci", "lib", "packages", "share"}, top); diff != "" {
		t.Errorf("root holds (-want +got):\n%s", diff)
	}
	list, err := listAt(context.Background(), RootOptions{Root: root})
	if err != nil || len(list) != 1 || list[0].Name != "cube" || list[0].Version != "1.5" || list[0].Manifest != rec.Manifest {
		t.Errorf("List = %+v, %v", list, err)
	}
	if drift, err := verifyAt(context.Background(), RootOptions{Root: root}); err != nil || drift != nil {
		t.Errorf("Verify = %+v, %v", drift, err)
	}
	// Installing again changes nothing.
	res, err = installAt(context.Background(), srv.Host()+"/ext/cube:1.5", instTarget(18), opts)
	if err != nil || res.Packages[0].Action != ActionUnchanged {
		t.Errorf("second install: %+v, %v", res.Packages, err)
	}
	if diff := cmp.Diff(snap, instSnapshot(t, root, ".pgoci")); diff != "" {
		t.Errorf("second install changed the root (-before +after):\n%s", diff)
	}
}

// TestInstallLocation covers the options that name no usable location.
func TestInstallLocation(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		opts   RootOptions
		target int
	}{
		{"nothing", RootOptions{CacheDir: "-"}, 18},
		{"root for PostgreSQL 17", RootOptions{Root: t.TempDir(), CacheDir: "-"}, 17},
		{"missing pg_config", RootOptions{PGConfig: filepath.Join(t.TempDir(), "pg_config"), CacheDir: "-"}, 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := installAt(ctx, "127.0.0.1:1/ext/x:1", instTarget(tc.target), tc.opts)
			if !errors.Is(err, ErrLocation) {
				t.Errorf("err = %v, want ErrLocation", err)
			}
		})
	}
}

// TestInstallUpgrade upgrades side by side: the old directory goes, the
// view gains the new files and loses the ones the new version lacks.
func TestInstallUpgrade(t *testing.T) {
	srv := instRegistry(t)
	v1 := instFiles(instExt{name: "cube", version: "1.4"})
	v1["share/extension/cube--1.3--1.4.sql"] = "-- old upgrade\n"
	instPush(t, srv, "ext/cube", "1.4", "cube", 18, v1)
	v2 := instFiles(instExt{name: "cube", version: "1.5"})
	v2["lib/bitcode/cube/cube.bc"] = "bitcode"
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, v2)
	root := t.TempDir()
	opts := instOptions(t, root)
	ctx := context.Background()
	first, err := installAt(ctx, srv.Host()+"/ext/cube:1.4", instTarget(18), opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), opts)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Packages[0]
	if got.Action != ActionUpgraded || got.Previous != "1.4" || got.Version != "1.5" {
		t.Errorf("upgrade result: %s %s from %s", got.Action, got.Version, got.Previous)
	}
	if _, err := os.Lstat(filepath.Join(root, first.Packages[0].Dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old package directory still there: %v", err)
	}
	for _, p := range []string{"share/extension/cube--1.3--1.4.sql", "share/extension/cube--1.4.sql"} {
		if _, err := os.Lstat(filepath.Join(root, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: stale view link left: %v", p, err)
		}
	}
	for p, want := range v2 {
		if got := instRead(t, filepath.Join(root, p)); got != want {
			t.Errorf("%s: %q, want %q", p, got, want)
		}
	}
	if drift, err := verifyAt(ctx, RootOptions{Root: root}); err != nil || drift != nil {
		t.Errorf("Verify = %+v, %v", drift, err)
	}
	// Downgrading back works the same way and removes the bitcode dir.
	if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.4", instTarget(18), opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, "lib/bitcode")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lib/bitcode left after downgrade: %v", err)
	}
}

// TestInstallConflict refuses a package whose view files another package
// or a stranger owns, naming both, before changing anything.
func TestInstallConflict(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	instPush(t, srv, "ext/fakecube", "1.0", "fakecube", 18, instFiles(instExt{name: "cube", version: "9.9"}, instExt{name: "fakecube", version: "1.0"}))
	instPush(t, srv, "ext/other", "1.0", "other", 18, instFiles(instExt{name: "other", version: "1.0"}))
	root := t.TempDir()
	opts := instOptions(t, root)
	ctx := context.Background()
	if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), opts); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "lib/other.so"), []byte("hand-made"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref, path, owner string
	}{
		{"ext/fakecube:1.0", "lib/cube.so", "cube"},
		{"ext/other:1.0", "lib/other.so", ""},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			before := instSnapshot(t, root, ".pgoci/tmp")
			_, err := installAt(ctx, srv.Host()+"/"+tc.ref, instTarget(18), opts)
			ce, ok := errors.AsType[*ConflictError](err)
			if !ok {
				t.Fatalf("err = %v, want a *ConflictError", err)
			}
			if ce.Path != tc.path || ce.Owner != tc.owner {
				t.Errorf("conflict on %s owned by %q, want %s owned by %q (%v)", ce.Path, ce.Owner, tc.path, tc.owner, err)
			}
			if diff := cmp.Diff(before, instSnapshot(t, root, ".pgoci/tmp")); diff != "" {
				t.Errorf("refused install changed the root (-before +after):\n%s", diff)
			}
		})
	}
}

// TestUninstallRoot removes exactly what an install added, and refuses
// while another package requires the package.
func TestUninstallRoot(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	ed := instFiles(instExt{name: "earthdistance", version: "1.2", requires: []string{"cube"}})
	ed["lib/bitcode/earthdistance/x.bc"] = "bc"
	instPush(t, srv, "ext/earthdistance", "1.2", "earthdistance", 18, ed)
	root := t.TempDir()
	opts := instOptions(t, root)
	ctx := context.Background()
	if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), opts); err != nil {
		t.Fatal(err)
	}
	before := instSnapshot(t, root, ".pgoci")
	if _, err := installAt(ctx, srv.Host()+"/ext/earthdistance:1.2", instTarget(18), opts); err != nil {
		t.Fatal(err)
	}
	_, err := uninstallAt(ctx, "cube", RootOptions{Root: root})
	ie, ok := errors.AsType[*InUseError](err)
	if !ok || !cmp.Equal(ie.Dependents, map[string][]string{"earthdistance": {"cube"}}) {
		t.Fatalf("uninstall cube = %v, want an *InUseError naming earthdistance", err)
	}
	rec, err := uninstallAt(ctx, "earthdistance", RootOptions{Root: root})
	if err != nil || rec.Name != "earthdistance" {
		t.Fatalf("uninstall = %+v, %v", rec, err)
	}
	if diff := cmp.Diff(before, instSnapshot(t, root, ".pgoci")); diff != "" {
		t.Errorf("install + uninstall changed the root (-before +after):\n%s", diff)
	}
	if _, err := uninstallAt(ctx, "earthdistance", RootOptions{Root: root}); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("second uninstall = %v, want ErrNotInstalled", err)
	}
	if _, err := uninstallAt(ctx, "cube", RootOptions{Root: root}); err != nil {
		t.Fatal(err)
	}
	list, err := listAt(ctx, RootOptions{Root: root})
	if err != nil || len(list) != 0 {
		t.Errorf("List after uninstalling everything = %v, %v", list, err)
	}
	snap := instSnapshot(t, root, ".pgoci")
	want := map[string]string{".": "dir -rwxr-xr-x", "lib": "dir -rwxr-xr-x", "packages": "dir -rwxr-xr-x", "share": "dir -rwxr-xr-x", "share/extension": "dir -rwxr-xr-x"}
	if diff := cmp.Diff(want, snap); diff != "" {
		t.Errorf("empty root (-want +got):\n%s", diff)
	}
}

// TestVerifyDrift reports modified, missing and relinked files.
func TestVerifyDrift(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	root := t.TempDir()
	ctx := context.Background()
	res, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), instOptions(t, root))
	if err != nil {
		t.Fatal(err)
	}
	dir := res.Packages[0].Dir
	if err := os.WriteFile(filepath.Join(root, dir, "lib/cube.so"), []byte("patched"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, dir, "share/extension/cube--1.5.sql")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "share/extension/cube.control")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "share/extension/cube.control")); err != nil {
		t.Fatal(err)
	}
	drift, err := verifyAt(ctx, RootOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range drift {
		got = append(got, d.Path+": "+d.Problem)
	}
	slices.Sort(got)
	want := []string{
		dir + "/lib/cube.so: modified",
		dir + "/share/extension/cube--1.5.sql: missing",
		"share/extension/cube.control: link changed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
}
