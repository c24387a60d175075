package extension

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"pgoci/internal/pg17"
)

// dest17 is where PostgreSQL 17 mode installs path p of package name's
// image root layout, "" for a path it does not install (see
// pg17.Dirs.Dest).
func (l location) dest17(name, p string) string {
	licenses := filepath.Join(l.state, "licenses", name)
	return pg17.Dirs{Share: l.shareDir, PkgLib: l.pkgLibDir, Bin: l.binDir, Licenses: licenses}.Dest(p)
}

// placement is one file to copy from staging to the server's directories.
type placement struct {
	src  string // in staging
	file InstalledFile
	// shared is set when another package installed the same bytes at
	// this path: the file is only written if it went missing.
	shared bool
}

// commit17 installs a staged package into the server's directories
// (PostgreSQL 17 mode), under the state lock: every destination is checked
// for conflicts first (a file another package or the server owns is never
// overwritten); a pending record listing old and new files is written;
// modules and scripts are copied in (temporary name, then rename), control
// files last so CREATE EXTENSION sees the extension only when it is
// complete; files of the previous version the new one lacks are removed,
// control files first; the record is written.
func (i *installer) commit17(st *staged, prev *Installed) (Installed, error) {
	rec := st.rec
	recs, err := i.loc.readRecords()
	if err != nil {
		return Installed{}, err
	}
	var places []placement
	for _, f := range rec.Files {
		dst := i.loc.dest17(rec.Name, f.Path)
		if dst == "" {
			continue
		}
		src := filepath.Join(st.dir, filepath.FromSlash(f.Path))
		f.Path = dst
		places = append(places, placement{src: src, file: f})
	}
	if err := checkConflicts17(rec.Name, places, prev, recs); err != nil {
		return Installed{}, err
	}
	rec.Files = nil
	for _, p := range places {
		rec.Files = append(rec.Files, p.file)
	}
	rec.Dirs = dirsToCreate(places, recs)
	if prev != nil {
		rec.Dirs = union(rec.Dirs, prev.Dirs)
	}
	pending := rec
	pending.Pending = true
	if prev != nil {
		pending.Files = unionFiles(prev.Files, rec.Files)
	}
	if err := commitStep("pending"); err != nil {
		return Installed{}, err
	}
	if err := i.loc.writeRecord(pending); err != nil {
		return Installed{}, err
	}
	if err := commitStep("place"); err != nil {
		return Installed{}, err
	}
	// Modules and scripts first, control files last.
	slices.SortStableFunc(places, func(a, b placement) int { return pg17.ControlLast(a.file.Path, b.file.Path) })
	for _, p := range places {
		if _, err := os.Lstat(p.file.Path); p.shared && err == nil {
			continue
		}
		if err := pg17.Place(p.src, p.file.Path, p.file.Link, i.r.opts.Durable); err != nil {
			return Installed{}, err
		}
	}
	if err := commitStep("unlink"); err != nil {
		return Installed{}, err
	}
	if prev != nil {
		if _, err := removeFiles17(unshared(staleFiles(prev.Files, rec.Files), recs, rec.Name)); err != nil {
			return Installed{}, err
		}
		rec.Dirs = pg17.PruneDirs(rec.Dirs)
	}
	if err := commitStep("record"); err != nil {
		return Installed{}, err
	}
	rec.InstalledAt = time.Now().UTC().Truncate(time.Second)
	if err := i.loc.writeRecord(rec); err != nil {
		return Installed{}, err
	}
	return rec, nil
}

// checkConflicts17 refuses a destination that exists and is not a file
// this package installed before (per its record), unless another package
// installed the same content there: then the placement is marked shared.
func checkConflicts17(name string, places []placement, prev *Installed, recs map[string]Installed) error {
	owner := map[string]InstalledFile{}
	ownerName := map[string]string{}
	for _, n := range keysSorted(recs) {
		if n == name {
			continue
		}
		for _, f := range recs[n].Files {
			owner[f.Path], ownerName[f.Path] = f, n
		}
	}
	for k := range places {
		p := &places[k]
		if o, ok := owner[p.file.Path]; ok {
			if !sameContent(o, p.file) {
				return &ConflictError{Path: p.file.Path, Package: name, Owner: ownerName[p.file.Path]}
			}
			p.shared = true
			continue
		}
		if prev != nil && slices.ContainsFunc(prev.Files, func(f InstalledFile) bool { return f.Path == p.file.Path }) {
			continue
		}
		if _, err := os.Lstat(p.file.Path); !errors.Is(err, fs.ErrNotExist) {
			return &ConflictError{Path: p.file.Path, Package: name}
		}
	}
	return nil
}

// dirsToCreate lists the directories missing for the placements, and
// those on their paths that another package created,
// parents first, so uninstall can remove them again.
func dirsToCreate(places []placement, recs map[string]Installed) []string {
	createdByPgoci := map[string]bool{}
	for _, r := range recs {
		for _, d := range r.Dirs {
			createdByPgoci[d] = true
		}
	}
	var dirs []string
	for _, p := range places {
		for d := filepath.Dir(p.file.Path); ; d = filepath.Dir(d) {
			// A directory another package created is recorded too, so that
			// the last of the packages using it removes it.
			if _, err := os.Lstat(d); (err == nil && !createdByPgoci[d]) || d == filepath.Dir(d) {
				break
			}
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	slices.Sort(dirs) // parents sort before their children
	return dirs
}

func unionFiles(a, b []InstalledFile) []InstalledFile {
	out := slices.Clone(b)
	for _, f := range a {
		if !slices.ContainsFunc(out, func(g InstalledFile) bool { return g.Path == f.Path }) {
			out = append(out, f)
		}
	}
	return out
}

// staleFiles are the files of old whose paths are not in cur.
func staleFiles(old, cur []InstalledFile) []InstalledFile {
	var out []InstalledFile
	for _, f := range old {
		if !slices.ContainsFunc(cur, func(g InstalledFile) bool { return g.Path == f.Path }) {
			out = append(out, f)
		}
	}
	return out
}

// unshared drops the files another package than name also records: a
// shared file stays until its last owner goes.
func unshared(files []InstalledFile, recs map[string]Installed, name string) []InstalledFile {
	return slices.DeleteFunc(files, func(f InstalledFile) bool { return len(fileOwners(recs, name, f.Path)) > 0 })
}

// removeFiles17 removes installed files, control files first so the server
// stops offering the extension before its scripts and modules go. A file
// whose content is no longer what was installed (by digest, or by link
// target) is kept and returned: someone else wrote it. It goes on past a
// failure and returns every path it could not remove.
func removeFiles17(files []InstalledFile) (kept []string, err error) {
	files = slices.Clone(files)
	slices.SortStableFunc(files, func(a, b InstalledFile) int { return pg17.ControlLast(b.Path, a.Path) })
	var errs []error
	for _, f := range files {
		switch changed, serr := changedSinceInstall(f); {
		case errors.Is(serr, fs.ErrNotExist):
			continue
		case serr != nil:
			errs = append(errs, serr)
			continue
		case changed:
			kept = append(kept, f.Path)
			continue
		}
		if rerr := os.Remove(f.Path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			errs = append(errs, rerr)
		}
	}
	return kept, errors.Join(errs...)
}

// changedSinceInstall reports whether the file at f.Path differs from its
// record: another type, another link target, or other bytes.
func changedSinceInstall(f InstalledFile) (bool, error) {
	fi, err := os.Lstat(f.Path)
	if err != nil {
		return false, err
	}
	if f.Link != "" {
		t, err := os.Readlink(f.Path)
		return err != nil || t != f.Link, nil
	}
	if !fi.Mode().IsRegular() {
		return true, nil
	}
	size, sum, err := hashFile(f.Path)
	if err != nil {
		return false, err
	}
	return size != f.Size || sum != f.Digest, nil
}
