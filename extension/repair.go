package extension

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"pgoci/internal/state"
	"pgoci/internal/view"
	"pgoci/layout"
)

// RepairAction says what [Root.Repair] did with a damaged record.
type RepairAction string

// Repair actions.
const (
	// RepairRebuilt: the record was rebuilt from the package directory
	// on disk (PostgreSQL 18 mode).
	RepairRebuilt RepairAction = "rebuilt"
	// RepairQuarantined: the record could not be rebuilt and was moved to
	// <state>/quarantine/, so that it no longer stands in the way; the
	// package's files, if any, are then owned by nobody pgoci knows.
	RepairQuarantined RepairAction = "quarantined"
)

// Repaired is what [Root.Repair] did with one damaged record.
type Repaired struct {
	Package string
	Action  RepairAction
	// Reason is why the record did not read.
	Reason string
	// Path is the quarantined record's new path, "" when rebuilt.
	Path string
}

// Repair mends the install records that do not read (a power loss can
// truncate one; [Root.List] and [Root.Verify] report them with a *[DamagedError]),
// under the root's lock. In PostgreSQL 18 mode a record is rebuilt from
// what is on disk: the package directory packages/<name>/current points
// at, its files hashed again, its view links and the extensions its
// control files describe; the reference and digests it was installed
// from are unknown (Installed.Repaired), and installing the package again
// restores them. A record that cannot be rebuilt (no package directory,
// or PostgreSQL 17 mode, where the files lie among the server's) is moved
// to <state>/quarantine/ and reported: the files it listed are then
// refused as conflicts by later installs until removed by hand.
func (r *Root) Repair(ctx context.Context) ([]Repaired, error) {
	loc := r.loc
	if err := loc.hasState(); err != nil {
		return nil, err
	}
	lk, err := lockFile(ctx, loc.lockPath())
	if err != nil {
		return nil, err
	}
	defer lk.Unlock()
	_, damaged, err := loc.readState()
	if err != nil {
		return nil, err
	}
	var out []Repaired
	for _, name := range keysSorted(damaged) {
		r := Repaired{Package: name, Reason: damaged[name].Error(), Action: RepairRebuilt}
		rec, rerr := loc.rebuildRecord(ctx, name)
		if rerr == nil {
			err = loc.writeRecord(rec)
		} else {
			r.Action = RepairQuarantined
			r.Path, err = loc.quarantine(name)
		}
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// rebuildRecord makes a record for package name from its directory in the
// root (PostgreSQL 18 mode only).
func (l location) rebuildRecord(ctx context.Context, name string) (Installed, error) {
	if l.pg17() {
		return Installed{}, fmt.Errorf("PostgreSQL 17 mode: the files are among the server's")
	}
	pkg := filepath.Join(l.root, filepath.FromSlash(view.PackageDir(name)))
	hex, err := os.Readlink(filepath.Join(pkg, "current"))
	if err != nil || hex != filepath.Base(hex) {
		return Installed{}, fmt.Errorf("no current version in %s", pkg)
	}
	files, err := hashTree(ctx, filepath.Join(pkg, hex), nil)
	if err != nil {
		return Installed{}, err
	}
	rec := Installed{Name: name, Dir: path.Join(view.PackageDir(name), hex), Files: files, View: viewPaths(files),
		Repaired: true, InstalledAt: time.Now().UTC().Truncate(time.Second)}
	if tree, err := layout.Discover(ctx, filepath.Join(pkg, hex), layout.Options{}); err == nil {
		for _, e := range tree.Extensions {
			rec.Extensions = append(rec.Extensions, extensionLabels(e.Control))
		}
		rec.Modules, rec.Programs, rec.Preload = tree.Modules, tree.Programs, tree.Preload
		if e := tree.Extension(tree.Package); e != nil {
			rec.Version = e.Control.DefaultVersion
		}
	}
	return rec, nil
}

// quarantine moves name's record out of the records directory.
func (l location) quarantine(name string) (string, error) {
	dir := filepath.Join(l.state, "quarantine")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("extension: quarantine %s: %w", name, err)
	}
	dst := filepath.Join(dir, name+".json."+strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := os.Rename(l.recordPath(name), dst); err != nil {
		return "", fmt.Errorf("extension: quarantine %s: %w", name, err)
	}
	if err := state.SyncDir(dir); err != nil {
		return "", err
	}
	return dst, state.SyncDir(l.recordsDir())
}

// hasState fails with ErrNoState when the location has no state
// directory: nothing was ever installed there, or the path is wrong.
func (l location) hasState() error {
	fi, err := os.Stat(l.state)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		err = errors.New("not a directory")
	}
	where := "install root " + l.root
	if l.pg17() {
		where = "PostgreSQL 17 mode state directory"
	}
	return fmt.Errorf("%w at %s (the %s): %w; nothing was ever installed there, or the path is wrong", ErrNoState, l.state, where, err)
}
