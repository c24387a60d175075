//go:build unix

package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWorkspaceAndCleanTmp(t *testing.T) {
	dir := t.TempDir()
	nolog := func(string, string, error) {}
	live, err := NewWorkspace(context.Background(), dir, "1-live")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close(nolog)
	if err := os.Mkdir(live.Path("stage"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A dead install's workspace: its lock file is held by nobody.
	if err := os.WriteFile(filepath.Join(dir, "2-dead.lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "2-dead.stage"), 0o755); err != nil {
		t.Fatal(err)
	}
	// An old leftover of no workspace.
	old := filepath.Join(dir, "stray")
	if err := os.Mkdir(old, 0o755); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-2 * OrphanAge)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(live.Path("stage"), past, past); err != nil {
		t.Fatal(err)
	}

	removed := CleanTmp(dir, nolog)
	if len(removed) != 2 {
		t.Errorf("CleanTmp removed %v, want the dead workspace and the stray entry", removed)
	}
	for _, p := range []string{filepath.Join(dir, "2-dead.stage"), old} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived CleanTmp: %v", p, err)
		}
	}
	if _, err := os.Lstat(live.Path("stage")); err != nil {
		t.Errorf("CleanTmp removed the live workspace's staging directory: %v", err)
	}
}

func TestLockContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	lk, err := Lock(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Unlock()
	if _, ok := TryLock(p); ok {
		t.Fatal("TryLock took a held lock")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, p); err == nil {
		t.Fatal("Lock of a held lock returned before its context ended without error")
	}
}
