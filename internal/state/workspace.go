package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"pgoci/unpack"
)

// Workspace is one install's private corner of <state>/tmp: a lock file
// held for the whole install (so cleaners know it is alive, across
// processes and PID namespaces) and the directories named after its id.
type Workspace struct {
	dir, id string
	lock    *Flock
}

// NewWorkspace creates and locks workspace id in dir (the state's Tmp).
// The lock file is created under a temporary name, locked, then renamed,
// so a cleaner never sees an unlocked lock file of a live install.
func NewWorkspace(ctx context.Context, dir, id string) (*Workspace, error) {
	tmp := filepath.Join(dir, id+".locking")
	lk, err := Lock(ctx, tmp)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, id+".lock")); err != nil {
		lk.Unlock()
		os.Remove(tmp)
		return nil, fmt.Errorf("extension: workspace: %w", err)
	}
	return &Workspace{dir: dir, id: id, lock: lk}, nil
}

// Path returns a path in the workspace named by id and suffix.
func (w *Workspace) Path(suffix string) string {
	return filepath.Join(w.dir, w.id+"."+suffix)
}

// Close removes everything of the workspace and releases its lock;
// failures go to logf.
func (w *Workspace) Close(logf func(what, path string, err error)) {
	removeWorkspace(w.dir, w.id, logf)
	w.lock.Unlock()
}

// removeWorkspace removes the entries of workspace id, the lock file last.
// What it cannot remove is left to the next install's CleanTmp, and
// reported to logf.
func removeWorkspace(dir, id string, logf func(what, path string, err error)) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), id) && e.Name() != id+".lock" {
			p := filepath.Join(dir, e.Name())
			logf("remove install workspace", p, unpack.RemoveAll(p))
		}
	}
	p := filepath.Join(dir, id+".lock")
	logf("remove install workspace lock", p, os.Remove(p))
}
