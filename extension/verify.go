package extension

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"pgoci/internal/view"
)

// Drift is one difference between an installed file and its record.
type Drift struct {
	// Package is the package owning the file.
	Package string
	// Path is the file: relative to the root in PostgreSQL 18 mode
	// ("packages/cube/<hex>/lib/cube.so", "share/extension/cube.control"),
	// absolute in PostgreSQL 17 mode.
	Path string
	// Problem says what differs: [DriftMissing], [DriftModified],
	// [DriftType], [DriftLink] or [DriftPending].
	Problem string
	// Want and Got are the recorded and found digests of a modified file.
	Want, Got digest.Digest
	// WantLink and GotLink are the recorded and found targets of a link.
	WantLink, GotLink string
	// Detail says why a module cannot load (DriftCannotLoad): the
	// linkage finding, naming the library or symbol and where it was
	// looked for.
	Detail string
}

// Problems a [Drift] reports.
const (
	DriftMissing  = "missing"
	DriftModified = "modified"
	DriftType     = "wrong type"
	DriftLink     = "link changed"
	DriftPending  = "pending" // a commit was interrupted: install again
	// DriftDamaged: the record does not read (Detail says why): run
	// [Root.Repair].
	DriftDamaged = "damaged record"
	// DriftCannotLoad: the module's files are intact, but it would no
	// longer load into the server (a library it needs was removed or
	// replaced, or the server changed): see Detail.
	DriftCannotLoad = "cannot load"
)

// Verify re-hashes every installed file against the install records and,
// in PostgreSQL 18 mode, checks each package's current link and merged-view
// links. It returns the differences in record order (packages by name);
// none is a nil slice. It takes no lock, so run it when no install is
// committing.
func (r *Root) Verify(ctx context.Context) ([]Drift, error) {
	loc := r.loc
	if err := loc.hasState(); err != nil {
		return nil, err
	}
	byName, damaged, err := loc.readState()
	if err != nil {
		return nil, err
	}
	var drift []Drift
	for _, name := range keysSorted(damaged) {
		drift = append(drift, Drift{Package: name, Path: loc.recordPath(name), Problem: DriftDamaged, Detail: damaged[name].Error()})
	}
	for _, name := range keysSorted(byName) {
		rec := byName[name]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if rec.Pending {
			drift = append(drift, Drift{Package: rec.Name, Path: loc.recordPath(rec.Name), Problem: DriftPending})
		}
		base := ""
		if !loc.pg17() {
			base = rec.Dir
			drift = appendLink(drift, loc.root, rec.Name, path.Join(view.PackageDir(rec.Name), "current"), path.Base(rec.Dir))
			for _, p := range rec.View {
				drift = appendViewLink(drift, loc.root, rec.Name, p, byName)
			}
		}
		for _, f := range rec.Files {
			p := f.Path
			if !loc.pg17() {
				p = path.Join(base, f.Path)
			}
			drift = append(drift, checkFile(loc.root, rec.Name, p, f)...)
		}
	}
	// A package whose files drifted is reported for them; the link check
	// is for packages whose files are intact.
	intact := maps.Clone(byName)
	for _, d := range drift {
		delete(intact, d.Package)
	}
	links, err := loc.linkDrift(ctx, byName, intact, r.opts.Postgres, r.opts.LibraryPath)
	if err != nil {
		return nil, err
	}
	return append(drift, links...), nil
}

// checkFile compares one recorded file (p relative to root, or absolute
// when root is "").
func checkFile(root, pkg, p string, f InstalledFile) []Drift {
	abs := p
	if root != "" {
		abs = filepath.Join(root, filepath.FromSlash(p))
	}
	if f.Link != "" {
		return appendLink(nil, root, pkg, p, f.Link)
	}
	fi, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return []Drift{{Package: pkg, Path: p, Problem: DriftMissing, Want: f.Digest}}
	}
	if err != nil || !fi.Mode().IsRegular() {
		return []Drift{{Package: pkg, Path: p, Problem: DriftType, Want: f.Digest}}
	}
	size, sum, err := hashFile(abs)
	if err != nil || size != f.Size || sum != f.Digest {
		return []Drift{{Package: pkg, Path: p, Problem: DriftModified, Want: f.Digest, Got: sum}}
	}
	return nil
}

// appendViewLink checks the view link p of package name: it points into
// the package, or into another package sharing the file.
func appendViewLink(drift []Drift, root, name, p string, recs map[string]Installed) []Drift {
	if got, err := os.Readlink(filepath.Join(root, filepath.FromSlash(p))); err == nil && view.LinkedToOwner(got, p, name, sharersOf(recs, name)) {
		return drift
	}
	return appendLink(drift, root, name, p, view.Target(name, p))
}

// appendLink checks that p (relative to root, or absolute when root is
// "") is a symlink to want.
func appendLink(drift []Drift, root, pkg, p, want string) []Drift {
	abs := p
	if root != "" {
		abs = filepath.Join(root, filepath.FromSlash(p))
	}
	got, err := os.Readlink(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return append(drift, Drift{Package: pkg, Path: p, Problem: DriftMissing, WantLink: want})
	case err != nil:
		return append(drift, Drift{Package: pkg, Path: p, Problem: DriftType, WantLink: want})
	case got != want:
		return append(drift, Drift{Package: pkg, Path: p, Problem: DriftLink, WantLink: want, GotLink: got})
	}
	return drift
}
