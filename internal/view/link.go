package view

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	"pgoci/internal/state"
	"pgoci/internal/tmpname"
	"pgoci/layout"
)

// Sharers returns, sorted, the packages other than the one being linked
// or unlinked whose view holds the path p too (same content).
type Sharers func(p string) []string

// SwitchCurrent points packages/<name>/current at hex with one rename of
// a new symlink over the old one.
func SwitchCurrent(pkgDir, hex string, durable bool) error {
	return ReplaceSymlink(filepath.Join(pkgDir, "current"), hex, durable)
}

// ReplaceSymlink makes p a symlink to target atomically: a symlink under
// a temporary name in the same directory, renamed over p.
func ReplaceSymlink(p, target string, durable bool) error {
	tmp := filepath.Join(filepath.Dir(p), ".pgoci-link-"+tmpname.Suffix())
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("extension: link %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("extension: link %s: %w", p, err)
	}
	if durable {
		return state.SyncDir(filepath.Dir(p))
	}
	return nil
}

// Link creates the view links of package name that are not there yet. A
// link that exists already points through current, so it is right; so is
// one that points into another package sharing the file.
func Link(root, name string, paths []string, sharers Sharers, durable bool) error {
	for _, p := range paths {
		abs := filepath.Join(root, filepath.FromSlash(p))
		if t, err := os.Readlink(abs); err == nil && LinkedToOwner(t, p, name, sharers) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return fmt.Errorf("extension: view %s: %w", p, err)
		}
		if err := ReplaceSymlink(abs, Target(name, p), durable); err != nil {
			return err
		}
	}
	return nil
}

// LinkedToOwner reports whether the view link target t of path p points
// into package name or into another package whose view holds p.
func LinkedToOwner(t, p, name string, sharers Sharers) bool {
	if t == Target(name, p) {
		return true
	}
	for _, o := range sharers(p) {
		if t == Target(o, p) {
			return true
		}
	}
	return false
}

// Unlink removes the view links of package name, only where they still
// point into it, then the directories left empty below the view's top
// directories. A link to a file another package shares is pointed into
// that package instead. It goes on past a failure and returns every link
// it could not remove.
func Unlink(root, name string, paths []string, sharers Sharers) error {
	var errs []error
	for _, p := range paths {
		abs := filepath.Join(root, filepath.FromSlash(p))
		if t, err := os.Readlink(abs); err != nil || t != Target(name, p) {
			continue
		}
		if others := sharers(p); len(others) > 0 {
			if err := ReplaceSymlink(abs, Target(others[0], p), false); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("extension: remove view link %s: %w", abs, err))
			continue
		}
		PruneDirs(root, path.Dir(p))
	}
	return errors.Join(errs...)
}

// PruneDirs removes dir and its parents while they are empty, stopping at
// the view's top directories (share, share/extension, lib, system, bin),
// which stay.
func PruneDirs(root, dir string) {
	for dir != "." && dir != "/" && !slices.Contains(Dirs, dir) && dir != layout.DirExtension {
		if os.Remove(filepath.Join(root, filepath.FromSlash(dir))) != nil {
			return
		}
		dir = path.Dir(dir)
	}
}
