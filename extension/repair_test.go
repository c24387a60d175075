package extension

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDamagedRecord: a record truncated to zero bytes (what a power loss
// can leave) no longer locks the root: list returns the other records
// with a *DamagedError, verify reports it, install and uninstall of other
// packages work, uninstall of the damaged one says to repair; Repair
// rebuilds it from disk in PostgreSQL 18 mode, after which verify is
// clean and the package uninstalls exactly.
func TestDamagedRecord(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	instPush(t, srv, "ext/seg", "1.4", "seg", 18, instFiles(instExt{name: "seg", version: "1.4"}))
	instPush(t, srv, "ext/isn", "1.2", "isn", 18, instFiles(instExt{name: "isn", version: "1.2"}))
	root := t.TempDir()
	opts := instOptions(t, root)
	ctx := context.Background()
	for _, ref := range []string{"ext/cube:1.5", "ext/seg:1.4"} {
		if _, err := installAt(ctx, srv.Host()+"/"+ref, instTarget(18), opts); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Truncate(filepath.Join(root, ".pgoci", "installed", "cube.json"), 0); err != nil {
		t.Fatal(err)
	}
	list, err := listAt(ctx, RootOptions{Root: root})
	var de *DamagedError
	if !errors.As(err, &de) || !errors.Is(err, ErrState) || de.Records["cube"] == nil || len(list) != 1 || list[0].Name != "seg" {
		t.Fatalf("List: %v, %d records; want seg with a *DamagedError naming cube", err, len(list))
	}
	drift, err := verifyAt(ctx, RootOptions{Root: root})
	if err != nil || len(drift) != 1 || drift[0].Problem != DriftDamaged || drift[0].Package != "cube" {
		t.Errorf("Verify: %v %+v; want one damaged-record drift for cube", err, drift)
	}
	if _, err := installAt(ctx, srv.Host()+"/ext/isn:1.2", instTarget(18), opts); err != nil {
		t.Errorf("install of another package with a damaged record around: %v", err)
	}
	if _, err := uninstallAt(ctx, "seg", RootOptions{Root: root}); err != nil {
		t.Errorf("uninstall of another package: %v", err)
	}
	if _, err := uninstallAt(ctx, "cube", RootOptions{Root: root}); !errors.As(err, &de) || !strings.Contains(err.Error(), "repair") {
		t.Errorf("uninstall of the damaged package: %v, want a *DamagedError saying to repair", err)
	}
	fixed, err := repairAt(ctx, RootOptions{Root: root})
	if err != nil || len(fixed) != 1 || fixed[0].Action != RepairRebuilt {
		t.Fatalf("Repair: %v %+v", err, fixed)
	}
	if drift, err := verifyAt(ctx, RootOptions{Root: root}); err != nil || len(drift) != 0 {
		t.Errorf("Verify after Repair: %v %+v", err, drift)
	}
	list, err = listAt(ctx, RootOptions{Root: root})
	if err != nil || len(list) != 2 || !list[0].Repaired || list[0].Version != "1.5" || len(list[0].Extensions) != 1 {
		t.Errorf("List after Repair: %v %+v", err, list)
	}
	for _, name := range []string{"cube", "isn"} {
		if _, err := uninstallAt(ctx, name, RootOptions{Root: root}); err != nil {
			t.Fatal(err)
		}
	}
	if left := instSnapshot(t, root, ".pgoci"); len(left) != 5 {
		t.Errorf("root after uninstalling everything: %v", left)
	}
}

// TestRepairQuarantine: in PostgreSQL 17 mode a damaged record cannot be
// rebuilt (the files lie among the server's): it is quarantined, and the
// location works again.
func TestRepairQuarantine(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 17, instFiles(instExt{name: "cube", version: "1.5"}))
	pgConfig, top := instServer(t)
	ctx := context.Background()
	if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(17), RootOptions{PGConfig: pgConfig, CacheDir: "-"}); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(top, "share", "postgresql", "17", ".pgoci")
	if err := os.WriteFile(filepath.Join(state, "installed", "cube.json"), []byte(`{"name":"cube","fi`), 0o644); err != nil {
		t.Fatal(err)
	}
	fixed, err := repairAt(ctx, RootOptions{PGConfig: pgConfig})
	if err != nil || len(fixed) != 1 || fixed[0].Action != RepairQuarantined || !strings.HasPrefix(fixed[0].Path, filepath.Join(state, "quarantine")) {
		t.Fatalf("Repair: %v %+v", err, fixed)
	}
	if list, err := listAt(ctx, RootOptions{PGConfig: pgConfig}); err != nil || len(list) != 0 {
		t.Errorf("List after quarantine: %v %+v", err, list)
	}
	if _, err := os.Stat(fixed[0].Path); err != nil {
		t.Errorf("quarantined record: %v", err)
	}
}

// TestNoState: a location where nothing was ever installed (or a
// mistyped path) is ErrNoState for List, Verify, Repair and Uninstall,
// naming the path, never an empty success.
func TestNoState(t *testing.T) {
	root := filepath.Join(t.TempDir(), "nowhere")
	ctx := context.Background()
	_, lerr := listAt(ctx, RootOptions{Root: root})
	_, verr := verifyAt(ctx, RootOptions{Root: root})
	_, rerr := repairAt(ctx, RootOptions{Root: root})
	_, uerr := uninstallAt(ctx, "cube", RootOptions{Root: root})
	for op, err := range map[string]error{"List": lerr, "Verify": verr, "Repair": rerr, "Uninstall": uerr} {
		if !errors.Is(err, ErrNoState) || !strings.Contains(err.Error(), root) {
			t.Errorf("%s of a missing root: %v, want ErrNoState naming %s", op, err, root)
		}
	}
	if !errors.Is(uerr, ErrNotInstalled) {
		t.Errorf("Uninstall of a missing root: %v, want ErrNotInstalled too", uerr)
	}
}
