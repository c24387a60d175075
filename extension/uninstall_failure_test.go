package extension

import (
	"archive/tar"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgoci/internal/tartest"
	"pgoci/internal/testuser"
	"pgoci/labels"
	"pgoci/resolve"
)

// TestUninstallFailureKeepsRecord: as an unprivileged user, with a
// directory of the view made read-only, the uninstall fails naming the
// link it could not remove, and the record stays (pending), so that once
// the directory is writable again the next uninstall finishes the job.
func TestUninstallFailureKeepsRecord(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	testuser.Unprivileged(t, func(dir string) {
		root := filepath.Join(dir, "root")
		opts := RootOptions{Root: root, CacheDir: filepath.Join(dir, "cache"), Remote: resolve.RemoteOptions{CredentialsFile: filepath.Join(dir, "no-docker-config.json")}}
		ctx := context.Background()
		if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), opts); err != nil {
			t.Fatal(err)
		}
		ext := filepath.Join(root, "share", "extension")
		if err := os.Chmod(ext, 0o555); err != nil {
			t.Fatal(err)
		}
		_, err := uninstallAt(ctx, "cube", RootOptions{Root: root})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(ext, "cube.control")) {
			t.Fatalf("uninstall with a read-only view directory: %v, want an error naming cube.control", err)
		}
		list, err := listAt(ctx, RootOptions{Root: root})
		if err != nil || len(list) != 1 || !list[0].Pending {
			t.Fatalf("after the failed uninstall: %v, records %+v; want cube's record, pending", err, list)
		}
		if err := os.Chmod(ext, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := uninstallAt(ctx, "cube", RootOptions{Root: root}); err != nil {
			t.Fatalf("second uninstall: %v", err)
		}
		if left := instSnapshot(t, root, ".pgoci"); len(left) != 5 { // ., lib, packages, share, share/extension
			t.Errorf("root after the second uninstall: %v", left)
		}
	})
}

// TestUninstallPG17KeepsModifiedFiles: in PostgreSQL 17 mode a recorded
// file whose bytes changed since the install (someone else wrote it) is
// not deleted: it is kept and reported, the rest is removed.
func TestUninstallPG17KeepsModifiedFiles(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 17, instFiles(instExt{name: "cube", version: "1.5"}))
	pgConfig, top := instServer(t)
	ctx := context.Background()
	if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(17), RootOptions{PGConfig: pgConfig, CacheDir: "-"}); err != nil {
		t.Fatal(err)
	}
	share := filepath.Join(top, "share", "postgresql", "17", "extension")
	script := filepath.Join(share, "cube--1.5.sql")
	if err := os.WriteFile(script, []byte("-- the administrator's edit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var warned []string
	out, err := uninstallAt(ctx, "cube", RootOptions{PGConfig: pgConfig, Events: func(e Event) {
		if e.Kind == EventWarning {
			warned = append(warned, e.Message)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Kept, []string{script}) || len(warned) != 1 || !strings.Contains(warned[0], script) {
		t.Errorf("kept %v, warnings %v; want the edited script kept and reported", out.Kept, warned)
	}
	if got := instRead(t, script); got != "-- the administrator's edit\n" {
		t.Errorf("the edited script reads %q", got)
	}
	if _, err := os.Lstat(filepath.Join(share, "cube.control")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cube.control was not removed: %v", err)
	}
}

// TestUnprivilegedReadOnlyDirsNoLeak: an image with a read-only directory,
// installed, upgraded and uninstalled by an unprivileged user, leaves
// nothing in the state's tmp directory: every removal goes through the
// unpacker's removal, which makes such directories writable first.
func TestUnprivilegedReadOnlyDirsNoLeak(t *testing.T) {
	srv := instRegistry(t)
	for _, v := range []string{"1.4", "1.5"} {
		var entries []tartest.Entry
		files := instFiles(instExt{name: "cube", version: v})
		for _, p := range slices.Sorted(maps.Keys(files)) {
			entries = append(entries, tartest.File(p, files[p]))
		}
		entries = append(entries, tartest.Entry{Name: "lib/bitcode/cube/", Type: tar.TypeDir, Mode: 0o555}, tartest.File("lib/bitcode/cube/c.bc", v))
		meta := labels.Metadata{SchemaVersion: labels.SchemaVersion, Package: labels.Package{Name: "cube", Version: v},
			Extensions: []labels.Extension{{Name: "cube", Version: v}}, PG: labels.PG{Major: 18}}
		pushEntries(t, srv, "ext/cube", v, meta.Annotations(), entries)
	}
	testuser.Unprivileged(t, func(dir string) {
		root := filepath.Join(dir, "root")
		opts := RootOptions{Root: root, CacheDir: filepath.Join(dir, "cache"), Remote: resolve.RemoteOptions{CredentialsFile: filepath.Join(dir, "no-docker-config.json")}}
		ctx := context.Background()
		for _, v := range []string{"1.4", "1.5"} {
			if _, err := installAt(ctx, srv.Host()+"/ext/cube:"+v, instTarget(18), opts); err != nil {
				t.Fatalf("install %s: %v", v, err)
			}
		}
		if _, err := uninstallAt(ctx, "cube", RootOptions{Root: root}); err != nil {
			t.Fatal(err)
		}
		// The next call cleans what the last one could not.
		if _, err := listAt(ctx, RootOptions{Root: root}); err != nil {
			t.Fatal(err)
		}
		left, err := os.ReadDir(filepath.Join(root, ".pgoci", "tmp"))
		if err != nil || len(left) != 0 {
			t.Errorf(".pgoci/tmp after upgrade and uninstall: %v %v", left, err)
		}
	})
}
