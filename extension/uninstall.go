package extension

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// UninstallOptions tunes [Uninstall]. Root, or PGConfig (with StateDir),
// name the install location as in [InstallOptions].
type UninstallOptions struct {
	// Root is the install root (PostgreSQL 18 mode).
	Root string
	// PGConfig is the server's pg_config (PostgreSQL 17 mode, without
	// Root).
	PGConfig string
	// StateDir is the state directory of PostgreSQL 17 mode. Default:
	// <sharedir>/.pgoci.
	StateDir string
	// Force removes the package even when installed packages require
	// one of its extensions. Default: refused with an *[InUseError].
	Force bool
	// Durable fsyncs the record directory after the record is removed.
	// Default: off.
	Durable bool
	// Events receives an EventRemove. Default: none.
	Events func(Event)
}

// Uninstall removes the installed package name and returns its record:
// exactly the files it installed, its merged-view links and its record,
// under the root's lock. Files it did not install are never touched, and a
// view link is removed only while it still points into the package.
//
// In PostgreSQL 17 mode the control files go first, so the server stops
// offering the extension before its scripts and modules disappear, then
// the recorded files, then the directories the package created if they
// are empty. A package that is not installed is [ErrNotInstalled]; one
// that other installed packages require is an *[InUseError] unless
// opts.Force. The lock file is left alone: a pin outlives an uninstall,
// so a later install gets the same digest again.
func Uninstall(ctx context.Context, name string, opts UninstallOptions) (Installed, error) {
	if err := checkName(name); err != nil {
		return Installed{}, err
	}
	loc, err := openLocation(ctx, opts.Root, opts.PGConfig, opts.StateDir, "")
	if err != nil {
		return Installed{}, err
	}
	if _, err := os.Stat(loc.state); err != nil {
		return Installed{}, fmt.Errorf("%w: %q (no state in %s)", ErrNotInstalled, name, loc.state)
	}
	if err := loc.prepare(); err != nil {
		return Installed{}, err
	}
	lk, err := lockFile(ctx, loc.lockPath())
	if err != nil {
		return Installed{}, err
	}
	defer lk.unlock()
	recs, err := loc.readRecords()
	if err != nil {
		return Installed{}, err
	}
	rec, ok := recs[name]
	if !ok {
		return Installed{}, fmt.Errorf("%w: %q", ErrNotInstalled, name)
	}
	if deps := dependents(recs, rec, loc.serverShare); len(deps) > 0 && !opts.Force {
		return Installed{}, &InUseError{Package: name, Dependents: deps}
	}
	if loc.pg17() {
		removeFiles17(unshared(filePaths(rec.Files), recs, name))
		pruneDirs17(rec.Dirs)
		os.RemoveAll(filepath.Join(loc.state, "licenses", name))
	} else {
		unlinkView(loc.root, name, rec.View, recs)
		removeDirAside(loc, filepath.Join(loc.root, "packages", name))
	}
	if err := loc.removeRecord(name, opts.Durable); err != nil {
		return Installed{}, err
	}
	if opts.Events != nil {
		opts.Events(Event{Kind: EventRemove, Package: name, Version: rec.Version, Reference: rec.Reference, Digest: rec.Manifest, Files: int64(len(rec.Files))})
	}
	return rec, nil
}

// dependents maps each other installed package requiring an extension of
// rec, that no other package provides, to those extensions.
func dependents(recs map[string]Installed, rec Installed, serverShare string) map[string][]string {
	provides := extensionNamesOf(rec)
	out := map[string][]string{}
	for _, other := range recs {
		if other.Name == rec.Name {
			continue
		}
		for _, e := range other.Extensions {
			for _, r := range e.Requires {
				if !slices.Contains(provides, r) || slices.Contains(out[other.Name], r) {
					continue
				}
				if p := providerOf(recs, r, rec.Name); p != "" || serverProvides(serverShare, r, recs) {
					continue
				}
				out[other.Name] = append(out[other.Name], r)
			}
		}
	}
	return out
}

func extensionNamesOf(rec Installed) []string {
	var names []string
	for _, e := range rec.Extensions {
		names = append(names, e.Name)
	}
	return names
}

func filePaths(files []InstalledFile) []string {
	out := make([]string, len(files))
	for k, f := range files {
		out[k] = f.Path
	}
	return out
}

// removeDirAside removes dir after renaming it into the state's tmp
// directory, so nobody sees it half deleted.
func removeDirAside(loc location, dir string) {
	aside := filepath.Join(loc.tmpDir(), "removed-"+cacheRandom())
	if os.Rename(dir, aside) == nil {
		dir = aside
	}
	os.RemoveAll(dir)
}
