package extension

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/layout"
)

// instServer makes a fake PostgreSQL 17 installation: a sharedir and a
// pkglibdir holding the server's own files, and a pg_config script
// describing them. It returns the pg_config path and the server's top
// directory.
func instServer(t *testing.T) (pgConfig, top string) {
	t.Helper()
	top = t.TempDir()
	share := filepath.Join(top, "share", "postgresql", "17")
	lib := filepath.Join(top, "lib", "postgresql", "17", "lib")
	for p, s := range map[string]string{
		filepath.Join(share, "extension", "plpgsql.control"):   "default_version = '1.0'\n",
		filepath.Join(share, "extension", "plpgsql--1.0.sql"):  "-- server\n",
		filepath.Join(share, "extension", "serverext.control"): "default_version = '1.0'\n",
		filepath.Join(lib, "plpgsql.so"):                       "server module",
		filepath.Join(lib, "bitcode", "postgres.index.bc"):     "server bitcode",
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pgConfig = filepath.Join(t.TempDir(), "pg_config")
	script := fmt.Sprintf("#!/bin/sh\ncat <<'EOF'\nBINDIR = %s/bin\nSHAREDIR = %s\nPKGLIBDIR = %s\nVERSION = PostgreSQL 17.2\nEOF\n", top, share, lib)
	if err := os.WriteFile(pgConfig, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return pgConfig, top
}

// TestInstallPG17 installs into a server's own directories, upgrades,
// refuses to overwrite the server's files and another package's, and
// uninstalls exactly: the server tree is byte for byte what it was.
func TestInstallPG17(t *testing.T) {
	srv := instRegistry(t)
	cube14 := instFiles(instExt{name: "cube", version: "1.4"})
	cube14["lib/bitcode/cube/cube.bc"] = "bitcode 1.4"
	cube14["share/extension/cube--1.3--1.4.sql"] = "-- upgrade\n"
	instPush(t, srv, "ext/cube", "1.4", "cube", 17, cube14)
	cube15 := instFiles(instExt{name: "cube", version: "1.5"})
	cube15["lib/bitcode/cube/cube.bc"] = "bitcode 1.5"
	cube15["licenses/cube/LICENSE"] = "PostgreSQL License"
	instPush(t, srv, "ext/cube", "1.5", "cube", 17, cube15)
	instPush(t, srv, "ext/earthdistance", "1.2", "earthdistance", 17, instFiles(instExt{name: "earthdistance", version: "1.2", requires: []string{"cube", "serverext"}}))
	instPush(t, srv, "ext/badplpgsql", "1.0", "badplpgsql", 17, instFiles(instExt{name: "plpgsql", version: "9.9"}))
	instPush(t, srv, "ext/cubeclone", "1.0", "cubeclone", 17, instFiles(instExt{name: "cube", version: "1.4"}, instExt{name: "cubeclone", version: "1.0"}))
	withSystem := instFiles(instExt{name: "geo", version: "1.0"})
	withSystem["system/libgeos.so.3"] = "geos"
	instPush(t, srv, "ext/geo", "1.0", "geo", 17, withSystem)

	pgConfig, top := instServer(t)
	share := filepath.Join(top, "share", "postgresql", "17")
	lib := filepath.Join(top, "lib", "postgresql", "17", "lib")
	server := instSnapshot(t, top)
	ctx := context.Background()
	opts := RootOptions{PGConfig: pgConfig, CacheDir: filepath.Join(t.TempDir(), "cache")}
	host := srv.Host()

	res, err := installAt(ctx, host+"/ext/cube:1.4", instTarget(17), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := instRead(t, filepath.Join(lib, "bitcode", "cube", "cube.bc")); got != "bitcode 1.4" {
		t.Errorf("bitcode: %q", got)
	}
	if res.Settings != (layout.Settings{}) {
		t.Errorf("settings in PostgreSQL 17 mode: %+v", res.Settings)
	}
	res, err = installAt(ctx, host+"/ext/cube:1.5", instTarget(17), opts)
	if err != nil || res.Packages[0].Action != ActionUpgraded {
		t.Fatalf("upgrade: %+v, %v", res.Packages, err)
	}
	for p, want := range map[string]string{
		filepath.Join(share, "extension", "cube.control"):                     cube15["share/extension/cube.control"],
		filepath.Join(lib, "cube.so"):                                         cube15["lib/cube.so"],
		filepath.Join(share, ".pgoci", "licenses", "cube", "cube", "LICENSE"): "PostgreSQL License",
	} {
		if got := instRead(t, p); got != want {
			t.Errorf("%s: %q, want %q", p, got, want)
		}
	}
	for _, p := range []string{"cube--1.4.sql", "cube--1.3--1.4.sql"} {
		if _, err := os.Lstat(filepath.Join(share, "extension", p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left by the upgrade: %v", p, err)
		}
	}
	// serverext is the server's: only cube is required from pgoci, and it
	// is installed.
	res, err = installAt(ctx, host+"/ext/earthdistance:1.2", instTarget(17), opts)
	if err != nil || len(res.Packages) != 1 {
		t.Fatalf("earthdistance: %+v, %v", res.Packages, err)
	}
	if drift, err := verifyAt(ctx, RootOptions{PGConfig: pgConfig}); err != nil || drift != nil {
		t.Errorf("Verify = %+v, %v", drift, err)
	}

	t.Run("conflicts", func(t *testing.T) {
		before := instSnapshot(t, top, "share/postgresql/17/.pgoci")
		for _, tc := range []struct{ ref, path, owner string }{
			{"ext/badplpgsql:1.0", filepath.Join(lib, "plpgsql.so"), ""},
			{"ext/cubeclone:1.0", filepath.Join(lib, "cube.so"), "cube"},
		} {
			_, err := installAt(ctx, host+"/"+tc.ref, instTarget(17), opts)
			ce, ok := errors.AsType[*ConflictError](err)
			if !ok || ce.Path != tc.path || ce.Owner != tc.owner {
				t.Errorf("%s: %v, want a conflict on %s owned by %q", tc.ref, err, tc.path, tc.owner)
			}
		}
		if _, err := installAt(ctx, host+"/ext/geo:1.0", instTarget(17), opts); !errors.Is(err, ErrNotInstallable) {
			t.Errorf("system libraries in PostgreSQL 17 mode: %v, want ErrNotInstallable", err)
		}
		if diff := cmp.Diff(before, instSnapshot(t, top, "share/postgresql/17/.pgoci")); diff != "" {
			t.Errorf("refused installs changed the server (-before +after):\n%s", diff)
		}
	})

	un := RootOptions{PGConfig: pgConfig}
	if _, err := uninstallAt(ctx, "cube", un); !errors.Is(err, ErrInUse) {
		t.Errorf("uninstall cube while earthdistance needs it: %v", err)
	}
	for _, name := range []string{"earthdistance", "cube"} {
		if _, err := uninstallAt(ctx, name, un); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(server, instSnapshot(t, top, "share/postgresql/17/.pgoci")); diff != "" {
		t.Errorf("install + uninstall changed the server tree (-before +after):\n%s", diff)
	}
	if list, err := listAt(ctx, RootOptions{PGConfig: pgConfig}); err != nil || len(list) != 0 {
		t.Errorf("List = %v, %v", list, err)
	}
}

// TestInstallPG17StateDir keeps records under a state directory of the
// caller's choosing.
func TestInstallPG17StateDir(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 17, instFiles(instExt{name: "cube", version: "1.5"}))
	pgConfig, _ := instServer(t)
	state := filepath.Join(t.TempDir(), "state")
	ctx := context.Background()
	if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(17), RootOptions{PGConfig: pgConfig, StateDir: state, CacheDir: "-"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(state, "installed", "cube.json")); err != nil {
		t.Errorf("record not in the state directory: %v", err)
	}
	if list, err := listAt(ctx, RootOptions{PGConfig: pgConfig}); !errors.Is(err, ErrNoState) || len(list) != 0 {
		t.Errorf("the default state directory lists %v, %v; want ErrNoState: nothing was installed there", list, err)
	}
	if _, err := uninstallAt(ctx, "cube", RootOptions{PGConfig: pgConfig, StateDir: state}); err != nil {
		t.Fatal(err)
	}
}
