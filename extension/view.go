package extension

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"pgoci/internal/state"
	"pgoci/internal/view"
	"pgoci/unpack"
)

// viewPaths lists the files of a package that the merged view links.
func viewPaths(files []InstalledFile) []string {
	var out []string
	for _, f := range files {
		for _, d := range view.Dirs {
			if strings.HasPrefix(f.Path, d+"/") {
				out = append(out, f.Path)
				break
			}
		}
	}
	return out
}

// commit18 publishes a staged package into the root (PostgreSQL 18 mode),
// under the root's lock: conflicts are checked before anything changes;
// a pending record is written (holding the previous one); the package
// directory is renamed into packages/<name>/; current is switched with
// one rename, the point of no return; then finish18 completes the switch.
// A failure before the switch rolls back (the previous record is put
// back, the new directory goes); one after it leaves the pending record,
// and the next install or uninstall rolls forward (recoverPending).
func (i *installer) commit18(st *staged, prev *Installed) (Installed, error) {
	root, rec := i.loc.root, st.rec
	recs, err := i.loc.readRecords()
	if err != nil {
		return Installed{}, err
	}
	links := viewPaths(rec.Files)
	if err := checkViewConflicts(root, rec, links, prev, recs); err != nil {
		return Installed{}, err
	}
	hex := rec.Manifest.Encoded()[:16]
	rec.Dir = path.Join(view.PackageDir(rec.Name), hex)
	rec.View = links
	pending := rec
	pending.Pending = true
	if prev != nil {
		pending.View = union(prev.View, links)
		pending.Previous = prev
	}
	if err := commitStep("pending"); err != nil {
		return Installed{}, err
	}
	if err := i.loc.writeRecord(pending); err != nil {
		return Installed{}, err
	}
	pkgDir := filepath.Join(root, filepath.FromSlash(view.PackageDir(rec.Name)))
	err = commitStep("place")
	if err == nil {
		err = i.placePackage(st.dir, pkgDir, hex)
	}
	if err == nil {
		err = commitStep("switch")
	}
	if err == nil {
		err = view.SwitchCurrent(pkgDir, hex, i.r.opts.Durable)
	}
	if err != nil {
		return Installed{}, errors.Join(err, i.loc.rollBack18(pending, recs))
	}
	done, err := i.loc.finish18(pending, recs, i.r.opts.Durable)
	if err != nil {
		return Installed{}, fmt.Errorf("%w (%s %s is live; the next install or uninstall finishes the switch)", err, rec.Name, rec.Version)
	}
	return done, nil
}

// commitStep is a test seam: it is called before each step of a commit
// ("pending", "place", "switch", "unlink", "link", "record"; PostgreSQL
// 17 mode has no "switch" or "link"), and an error it returns stops the
// commit there, as a failure of that step would.
var commitStep = func(step string) error { return nil }

// finish18 completes a switch whose current link already names the new
// version: the view links of the previous version that the new one lacks
// are removed first (so that a path that was a file and is now a
// directory, lib/plugins -> lib/plugins/a.so, can be made), the new links
// added, the record written and the old version directories removed.
// It is idempotent: the next call runs it again after a failure.
func (l location) finish18(pending Installed, recs map[string]Installed, durable bool) (Installed, error) {
	rec := pending
	rec.View = viewPaths(rec.Files)
	rec.Pending, rec.Previous = false, nil
	if err := commitStep("unlink"); err != nil {
		return Installed{}, err
	}
	if err := view.Unlink(l.root, rec.Name, without(pending.View, rec.View), sharersOf(recs, rec.Name)); err != nil {
		return Installed{}, err
	}
	if err := commitStep("link"); err != nil {
		return Installed{}, err
	}
	if err := view.Link(l.root, rec.Name, rec.View, sharersOf(recs, rec.Name), durable); err != nil {
		return Installed{}, err
	}
	if err := commitStep("record"); err != nil {
		return Installed{}, err
	}
	rec.InstalledAt = time.Now().UTC().Truncate(time.Second)
	if err := l.writeRecord(rec); err != nil {
		return Installed{}, err
	}
	l.trashOldVersions(rec.Name, path.Base(rec.Dir))
	return rec, nil
}

// rollBack18 undoes a commit whose switch did not happen: the previous
// record is put back (the previous version is still what current names),
// or, for a first install, the record and the package's links and
// directory go.
func (l location) rollBack18(pending Installed, recs map[string]Installed) error {
	if prev := pending.Previous; prev != nil {
		if err := l.writeRecord(*prev); err != nil {
			return err
		}
		l.trashOldVersions(prev.Name, path.Base(prev.Dir))
		return nil
	}
	if err := view.Unlink(l.root, pending.Name, pending.View, sharersOf(recs, pending.Name)); err != nil {
		return err
	}
	if err := l.trash(filepath.Join(l.root, filepath.FromSlash(view.PackageDir(pending.Name)))); err != nil {
		return err
	}
	return l.removeRecord(pending.Name)
}

// recoverPending finishes the commits a crash or a failure interrupted,
// under the root's lock (PostgreSQL 18 mode): one whose current link
// names the new version rolls forward, any other rolls back.
func (l location) recoverPending() error {
	if l.pg17() {
		return nil
	}
	recs, err := l.readRecords()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range keysSorted(recs) {
		rec := recs[name]
		if !rec.Pending || rec.Dir == "" {
			continue
		}
		pkgDir := filepath.Join(l.root, filepath.FromSlash(view.PackageDir(name)))
		if cur, err := os.Readlink(filepath.Join(pkgDir, "current")); err == nil && cur == path.Base(rec.Dir) {
			_, err = l.finish18(rec, recs, false)
			errs = append(errs, err)
		} else {
			errs = append(errs, l.rollBack18(rec, recs))
		}
	}
	return errors.Join(errs...)
}

// trashOldVersions removes every version directory of a package but the
// current one: the previous version after an upgrade, and any left by an
// interrupted commit. The root's lock is held, so no other commit of the
// package is running.
func (l location) trashOldVersions(name, current string) {
	pkgDir := filepath.Join(l.root, filepath.FromSlash(view.PackageDir(name)))
	entries, _ := os.ReadDir(pkgDir)
	for _, e := range entries {
		if e.IsDir() && e.Name() != current && e.Name() != "current" {
			l.trash(filepath.Join(pkgDir, e.Name()))
		}
	}
}

// checkViewConflicts refuses view paths that another package owns with
// other content, or that hold a file no record owns (unless it is already
// the link this package would make, left by an interrupted commit). A
// path another package owns with the same content is shared.
func checkViewConflicts(root string, rec Installed, links []string, prev *Installed, recs map[string]Installed) error {
	name := rec.Name
	owner := map[string]string{}
	for n, r := range recs {
		if n == name {
			continue
		}
		for _, p := range r.View {
			owner[p] = n
		}
	}
	for _, p := range links {
		if o, ok := owner[p]; ok {
			mine, _ := fileAt(rec.Files, p)
			theirs, _ := fileAt(recs[o].Files, p)
			if !sameContent(mine, theirs) {
				return &ConflictError{Path: p, Package: name, Owner: o}
			}
			continue
		}
		// Another package's link where p needs a directory, or inside the
		// directory p would replace by a file.
		for q, o := range owner {
			if strings.HasPrefix(p, q+"/") || strings.HasPrefix(q, p+"/") {
				return &ConflictError{Path: p, Package: name, Owner: o}
			}
		}
		if prev != nil && (slices.Contains(prev.View, p) || view.AncestorIn(p, prev.View) || view.HoldsAny(p, prev.View)) {
			continue
		}
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			if t, _ := os.Readlink(filepath.Join(root, filepath.FromSlash(p))); t == view.Target(name, p) {
				continue
			}
		}
		return &ConflictError{Path: p, Package: name}
	}
	return nil
}

// placePackage renames the unpacked tree to packages/<name>/<hex>. A
// directory already there is a leftover of an interrupted commit (no
// record points at it): it is moved aside first.
func (i *installer) placePackage(src, pkgDir, hex string) error {
	if err := os.MkdirAll(pkgDir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(pkgDir, hex)
	if _, err := os.Lstat(dst); err == nil {
		aside := i.ws.Path("aside-" + cacheRandom())
		if err := os.Rename(dst, aside); err != nil {
			return fmt.Errorf("extension: moving aside %s: %w", dst, err)
		}
		defer unpack.RemoveAll(aside)
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("extension: publishing %s: %w", dst, err)
	}
	if i.r.opts.Durable {
		return state.SyncDir(pkgDir)
	}
	return nil
}

// trash removes a directory that readers may still be walking: renamed
// into the state's tmp directory first (atomic), then deleted. What
// cannot be deleted there is left for later calls to clean (cleanTmp);
// the error says the directory could be neither moved nor removed.
func (l location) trash(dir string) error {
	aside := filepath.Join(l.tmpDir(), "removed-"+cacheRandom())
	err := os.Rename(dir, aside)
	switch {
	case err == nil:
		unpack.RemoveAll(aside)
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return nil
	}
	if rerr := unpack.RemoveAll(dir); rerr != nil {
		return fmt.Errorf("extension: remove %s: %w", dir, errors.Join(err, rerr))
	}
	return nil
}

// sharersOf tells the view which packages other than name share a path,
// from their records.
func sharersOf(recs map[string]Installed, name string) view.Sharers {
	return func(p string) []string { return viewSharers(recs, name, p) }
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// without returns the elements of a not in b.
func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
