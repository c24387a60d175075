package extension

import (
	"fmt"

	"pgoci/internal/state"
	"pgoci/resolve"
)

// readLockFile reads a lock file (see state.ReadLockFile); a missing one
// is empty, one that does not read is ErrState.
func readLockFile(path string) (state.LockFile, error) {
	lf, err := state.ReadLockFile(path)
	if err != nil {
		return lf, fmt.Errorf("%w: %w", ErrState, err)
	}
	return lf, nil
}

// pinnedRef returns the reference to resolve instead of ref when the lock
// file lf pins it (same reference and version constraint): ref with the
// pinned digest.
func pinnedRef(lf state.LockFile, ref, version string) (string, state.Pin, bool) {
	if _, e, ok := lf.PinnedAs(ref, version); ok {
		r, err := resolve.ParseReference(ref)
		if err != nil {
			return "", state.Pin{}, false
		}
		r.Digest = e.Digest
		if e.Index != "" {
			r.Digest = e.Index
		}
		if r.Digest.Validate() != nil {
			return "", state.Pin{}, false
		}
		return r.String(), e, true
	}
	return "", state.Pin{}, false
}

// updateLockFile merges entries into the lock file at path. The caller
// holds the root's lock, so concurrent installs do not lose entries.
func updateLockFile(path string, entries map[string]state.Pin) error {
	if len(entries) == 0 {
		return nil
	}
	lf, err := readLockFile(path)
	if err != nil {
		return err
	}
	return state.WriteLockFile(path, lf, entries)
}
