package extension

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"pgoci/internal/pg17"
	"pgoci/internal/view"
	"pgoci/unpack"
)

// UninstallOptions tunes one [Root.Uninstall].
type UninstallOptions struct {
	// Force removes the package even when installed packages require
	// one of its extensions. Default: refused with an *[InUseError].
	Force bool
}

// Removed is what [Root.Uninstall] did.
type Removed struct {
	// Installed is the record of the package removed.
	Installed
	// Kept lists recorded files left in place in PostgreSQL 17 mode
	// because their content changed since the install (another package
	// or the administrator wrote them): they are no longer pgoci's.
	Kept []string
}

// Uninstall removes the installed package name and returns its record:
// exactly the files it installed, its merged-view links and its record,
// under the root's lock. Files it did not install are never touched, and a
// view link is removed only while it still points into the package.
//
// In PostgreSQL 17 mode the control files go first, so the server stops
// offering the extension before its scripts and modules disappear, then
// the recorded files, then the directories the package created if they
// are empty. A recorded file whose content changed since the install is
// kept and listed in Removed.Kept. An EventRemove is sent, and an
// EventWarning per file kept. A package that is not installed is
// [ErrNotInstalled]; one that other installed packages require is an
// *[InUseError] unless opts.Force. The lock file is left alone: a pin
// outlives an uninstall, so a later install gets the same digest again.
//
// A removal that fails (a read-only directory, say) is an error naming
// every path that could not be removed; the record then stays, marked
// pending, so that the next Uninstall finishes the job.
func (r *Root) Uninstall(ctx context.Context, name string, opts UninstallOptions) (Removed, error) {
	if err := checkName(name); err != nil {
		return Removed{}, err
	}
	loc := r.loc
	if err := loc.hasState(); err != nil {
		return Removed{}, fmt.Errorf("%w: %q: %w", ErrNotInstalled, name, err)
	}
	if err := loc.prepare(); err != nil {
		return Removed{}, err
	}
	lk, err := lockFile(ctx, loc.lockPath())
	if err != nil {
		return Removed{}, err
	}
	defer lk.Unlock()
	if err := loc.recoverPending(); err != nil {
		return Removed{}, err
	}
	recs, damaged, err := loc.readState()
	if err != nil {
		return Removed{}, err
	}
	if why, bad := damaged[name]; bad {
		return Removed{}, &DamagedError{Records: map[string]error{name: why}}
	}
	rec, ok := recs[name]
	if !ok {
		return Removed{}, fmt.Errorf("%w: %q", ErrNotInstalled, name)
	}
	if deps := dependents(recs, rec, loc.serverShare); len(deps) > 0 && !opts.Force {
		return Removed{}, &InUseError{Package: name, Dependents: deps}
	}
	pending := rec
	pending.Pending = true
	if err := loc.writeRecord(pending); err != nil {
		return Removed{}, err
	}
	out := Removed{Installed: rec}
	if loc.pg17() {
		out.Kept, err = loc.remove17(rec, recs)
	} else {
		err = loc.remove18(rec, recs)
	}
	if err != nil {
		return out, fmt.Errorf("extension: uninstall %s: %w (the record stays; uninstall again to finish)", name, err)
	}
	if err := loc.removeRecord(name); err != nil {
		return out, err
	}
	r.emit(Event{Kind: EventRemove, Package: name, Version: rec.Version, Reference: rec.Reference, Digest: rec.Manifest, Files: int64(len(rec.Files))})
	for _, p := range out.Kept {
		r.emit(Event{Kind: EventWarning, Package: name, Message: fmt.Sprintf("kept %s: its content changed since the install", p)})
	}
	return out, nil
}

// remove17 removes the files of rec that no other package records,
// except those whose content changed since the install (returned), then
// the directories rec created that are empty, then its licenses.
func (l location) remove17(rec Installed, recs map[string]Installed) ([]string, error) {
	kept, err := removeFiles17(unshared(slices.Clone(rec.Files), recs, rec.Name))
	pg17.PruneDirs(rec.Dirs)
	if lerr := unpack.RemoveAll(filepath.Join(l.state, "licenses", rec.Name)); lerr != nil {
		err = errors.Join(err, lerr)
	}
	return kept, err
}

// remove18 removes rec's view links, then its package directory (moved
// aside into the state's tmp directory first, so that nobody sees it half
// deleted; what cannot be deleted there is cleaned by later calls).
func (l location) remove18(rec Installed, recs map[string]Installed) error {
	if err := view.Unlink(l.root, rec.Name, rec.View, sharersOf(recs, rec.Name)); err != nil {
		return err
	}
	return l.trash(filepath.Join(l.root, filepath.FromSlash(view.PackageDir(rec.Name))))
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
