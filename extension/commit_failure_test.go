package extension

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// commitSteps are the steps of a root commit, in order; the switch of
// current happens between "switch" and "unlink".
var commitSteps = []string{"pending", "place", "switch", "unlink", "link", "record"}

// failAt makes the commit fail before step, for one test.
func failAt(t *testing.T, step string) {
	t.Helper()
	commitStep = func(s string) error {
		if s == step {
			return errors.New("injected failure at " + s)
		}
		return nil
	}
	t.Cleanup(func() { commitStep = func(string) error { return nil } })
}

// pushCubes pushes cube 1.4 (with an update script 1.5 lacks) and 1.5.
func pushCubes(t *testing.T, major int) (string, string) {
	t.Helper()
	srv := instRegistry(t)
	v14 := instFiles(instExt{name: "cube", version: "1.4"})
	v14["share/extension/cube--1.3--1.4.sql"] = "-- update\n"
	instPush(t, srv, "ext/cube", "1.4", "cube", major, v14)
	instPush(t, srv, "ext/cube", "1.5", "cube", major, instFiles(instExt{name: "cube", version: "1.5"}))
	return srv.Host() + "/ext/cube:1.4", srv.Host() + "/ext/cube:1.5"
}

// rootConsistent checks that every view link of the root resolves, that
// Verify is clean and that cube is installed at want ("" for none).
func rootConsistent(t *testing.T, root, want string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			if _, serr := os.Stat(p); serr != nil {
				t.Errorf("dangling link %s: %v", p, serr)
			}
		}
		return nil
	})
	drift, err := verifyAt(context.Background(), RootOptions{Root: root})
	if err != nil || len(drift) != 0 {
		t.Errorf("Verify: %v %+v", err, drift)
	}
	list, err := listAt(context.Background(), RootOptions{Root: root})
	got := ""
	if len(list) == 1 {
		got = list[0].Version
	}
	if err != nil || got != want {
		t.Errorf("installed: %v %+v, want cube %q", err, list, want)
	}
}

// TestCommitFailureAtEachStep: an upgrade (and a first install) that fails
// at any step of the commit leaves the root recoverable: before the
// switch it is rolled back at once to what it was; after it the new
// version is live with a pending record, and the next call (here an
// uninstall attempt of another package, then a plain install) rolls it
// forward. Every view link resolves and Verify is clean afterwards.
func TestCommitFailureAtEachStep(t *testing.T) {
	v14, v15 := pushCubes(t, 18)
	ctx := context.Background()
	for k, step := range commitSteps {
		switched := k >= 3
		t.Run("upgrade/"+step, func(t *testing.T) {
			root := t.TempDir()
			opts := instOptions(t, root)
			if _, err := installAt(ctx, v14, instTarget(18), opts); err != nil {
				t.Fatal(err)
			}
			failAt(t, step)
			if _, err := installAt(ctx, v15, instTarget(18), opts); err == nil || !strings.Contains(err.Error(), "injected") {
				t.Fatalf("install with a failure at %s: %v", step, err)
			}
			commitStep = func(string) error { return nil }
			if !switched {
				rootConsistent(t, root, "1.4")
				return
			}
			if _, err := uninstallAt(ctx, "nothing", RootOptions{Root: root}); !errors.Is(err, ErrNotInstalled) {
				t.Fatalf("uninstall of nothing: %v", err)
			}
			rootConsistent(t, root, "1.5")
		})
		t.Run("first install/"+step, func(t *testing.T) {
			root := t.TempDir()
			opts := instOptions(t, root)
			failAt(t, step)
			if _, err := installAt(ctx, v15, instTarget(18), opts); err == nil {
				t.Fatalf("install with a failure at %s: no error", step)
			}
			commitStep = func(string) error { return nil }
			if !switched {
				rootConsistent(t, root, "")
				return
			}
			if _, err := installAt(ctx, v15, instTarget(18), opts); err != nil {
				t.Fatalf("install after the failure: %v", err)
			}
			rootConsistent(t, root, "1.5")
		})
	}
}

// TestInstallKilledMidCommit kills (SIGKILL) a child process in the middle
// of an upgrade's commit, at each step, in both modes: a real crash, not a
// faked record. The location stays usable: the next install of the
// package finishes or undoes the switch, every link resolves, and in
// PostgreSQL 17 mode the server's tree ends as the upgrade makes it.
func TestInstallKilledMidCommit(t *testing.T) {
	v14, v15 := pushCubes(t, 18)
	for _, step := range commitSteps {
		t.Run("root/"+step, func(t *testing.T) {
			root, cache := t.TempDir(), filepath.Join(t.TempDir(), "cache")
			ctx := context.Background()
			if _, err := installAt(ctx, v14, instTarget(18), RootOptions{Root: root, CacheDir: cache}); err != nil {
				t.Fatal(err)
			}
			killAt(t, map[string]string{"Ref": v15, "Root": root, "Cache": cache, "StallAt": step})
			if _, err := installAt(ctx, v15, instTarget(18), RootOptions{Root: root, CacheDir: cache}); err != nil {
				t.Fatalf("install after the kill at %s: %v", step, err)
			}
			rootConsistent(t, root, "1.5")
		})
	}
	v14, v15 = pushCubes(t, 17)
	for _, step := range []string{"pending", "place", "unlink", "record"} {
		t.Run("pg17/"+step, func(t *testing.T) {
			pgConfig, top := instServer(t)
			opts := RootOptions{PGConfig: pgConfig, CacheDir: filepath.Join(t.TempDir(), "cache")}
			ctx := context.Background()
			server := instSnapshot(t, top, "share/postgresql/17/.pgoci")
			if _, err := installAt(ctx, v14, instTarget(17), opts); err != nil {
				t.Fatal(err)
			}
			killAt(t, map[string]string{"Ref": v15, "PGConfig": pgConfig, "Cache": opts.CacheDir, "StallAt": step})
			drift, err := verifyAt(ctx, RootOptions{PGConfig: pgConfig})
			if pending := len(drift) > 0 && drift[0].Problem == DriftPending; err != nil || pending != (step != "pending") {
				t.Errorf("Verify after the kill at %s: %v %+v (a pending record once it is written)", step, err, drift)
			}
			if _, err := installAt(ctx, v15, instTarget(17), opts); err != nil {
				t.Fatalf("install after the kill at %s: %v", step, err)
			}
			if drift, err := verifyAt(ctx, RootOptions{PGConfig: pgConfig}); err != nil || len(drift) != 0 {
				t.Errorf("Verify: %v %+v", err, drift)
			}
			if _, err := os.Stat(filepath.Join(top, "share/postgresql/17/extension/cube--1.3--1.4.sql")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the 1.4 update script is still there: %v", err)
			}
			if _, err := uninstallAt(ctx, "cube", RootOptions{PGConfig: pgConfig}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(server, instSnapshot(t, top, "share/postgresql/17/.pgoci")); diff != "" {
				t.Errorf("server tree after uninstall (-before +after):\n%s", diff)
			}
		})
	}
}

// killAt runs an install job in a child process (TestInstallHelperProcess)
// and kills it with SIGKILL once it stalls at job["StallAt"].
func killAt(t *testing.T, job map[string]string) {
	t.Helper()
	j, _ := json.Marshal(job)
	cmd := exec.Command(os.Args[0], "-test.run=^TestInstallHelperProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), instChildEnv+"="+string(j))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "stalled "+job["StallAt"] {
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("the child did not stall at %s: %v", job["StallAt"], err)
	}
	cmd.Wait()
}
