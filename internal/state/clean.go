package state

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"pgoci/unpack"
)

// OrphanAge is how old an unlocked leftover without a lock file must be
// before a cleaner removes it.
const OrphanAge = time.Hour

// CleanTmp removes what killed installs left in dir (the state's Tmp):
// workspaces whose lock file nobody holds (its process is gone), staging
// directories (unpack.CleanStaging) and other entries older than
// OrphanAge. It returns the paths removed; what it fails to remove goes
// to logf.
func CleanTmp(dir string, logf func(what, path string, err error)) []string {
	var removed []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok {
			continue
		}
		lk, ok := TryLock(filepath.Join(dir, e.Name()))
		if !ok {
			continue
		}
		removeWorkspace(dir, id, logf)
		lk.Unlock()
		removed = append(removed, filepath.Join(dir, id))
	}
	// Staging directories carry their workspace's id in their name, so the
	// loop below keeps those of live workspaces however old they are.
	entries, _ = os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".lock") {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > OrphanAge {
			if p := filepath.Join(dir, e.Name()); !hasLiveLock(dir, e.Name()) {
				logf("remove leftover of an interrupted install", p, unpack.RemoveAll(p))
				removed = append(removed, p)
			}
		}
	}
	return removed
}

// hasLiveLock reports whether entry belongs to a workspace whose lock file
// exists (it is then held: CleanTmp removed the unheld ones).
func hasLiveLock(dir, entry string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".lock"); ok && strings.Contains(entry, id) {
			return true
		}
	}
	return false
}
