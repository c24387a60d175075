package extension

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"pgoci/labels"
	"pgoci/resolve"
)

// installDeps installs the packages providing the extensions m requires
// that the package itself does not provide. A requirement is satisfied,
// in this order, by: an installed package providing the extension; the
// server's own extension directory; the reference the caller mapped the
// extension to (InstallOptions.Dependencies); the repository named after
// the extension (InstallOptions.DependencyRef). chain is the requirement
// chain so far.
func (i *installer) installDeps(ctx context.Context, ref string, m labels.Metadata, chain []string) error {
	own := extensionNames(m)
	from, err := resolve.ParseReference(ref)
	if err != nil {
		return err
	}
	for _, ext := range requiredExtensions(m) {
		if slices.Contains(own, ext) {
			continue
		}
		next := append(slices.Clone(chain), ext)
		looked, err := i.lookLocally(ext)
		if err != nil {
			return err
		}
		if looked == nil {
			continue // provided
		}
		if i.inStack(ext) {
			return &DependencyError{Chain: next, Extension: ext, Err: ErrDependencyCycle}
		}
		if err := i.installDep(ctx, ext, from, next, looked); err != nil {
			return err
		}
	}
	return nil
}

// lookLocally reports where ext was looked for without success on this
// machine (installed packages, the server's extension directory), or nil
// when one of them provides it.
func (i *installer) lookLocally(ext string) ([]string, error) {
	recs, err := i.loc.readRecords()
	if err != nil {
		return nil, err
	}
	if providerOf(recs, ext, "") != "" {
		return nil, nil
	}
	looked := []string{fmt.Sprintf("no installed package provides it (installed: %s)", orNone(keysSorted(recs)))}
	if serverProvides(i.loc.serverShare, ext, recs) {
		return nil, nil
	}
	if i.loc.serverShare == "" {
		looked = append(looked, "the server's extension directory is unknown (set PGConfig or ServerShareDir)")
	} else {
		looked = append(looked, fmt.Sprintf("the server's extension directory %s has no %s.control", filepath.Join(i.loc.serverShare, "extension"), ext))
	}
	return looked, nil
}

// installDep installs the package providing ext from the caller's mapping
// for it or, without one, from the repository named after it; looked lists
// the places already searched, for the error.
func (i *installer) installDep(ctx context.Context, ext string, from resolve.Reference, chain, looked []string) error {
	dref, mapped := i.opts.Dependencies[ext]
	if !mapped {
		looked = append(looked, fmt.Sprintf("no mapping for it (InstallOptions.Dependencies, pgoci install --dep %s=REF)", ext))
		depRef := i.opts.DependencyRef
		if depRef == nil {
			depRef = DefaultDependencyRef
		}
		var err error
		if dref, err = depRef(ext, from); err != nil {
			return &DependencyError{Chain: chain, Extension: ext, Looked: looked, Err: fmt.Errorf("%w: %w", ErrMissingDependency, err)}
		}
	}
	i.emit(Event{Kind: EventDependency, Package: ext, Reference: dref})
	if err := i.install(ctx, dref, "", chain, true); err != nil {
		if _, ok := errors.AsType[*DependencyError](err); ok {
			return err
		}
		return &DependencyError{Chain: chain, Extension: ext, Reference: dref, Looked: looked, Err: fmt.Errorf("%w: %w", ErrMissingDependency, err)}
	}
	if !i.providedNow(ext) {
		return &DependencyError{Chain: chain, Extension: ext, Reference: dref, Looked: looked,
			Err: fmt.Errorf("%w: the package installed from %s does not provide extension %q", ErrMissingDependency, dref, ext)}
	}
	return nil
}

// providedNow reports whether an installed package or the server provides
// ext.
func (i *installer) providedNow(ext string) bool {
	ok, err := i.provided(ext)
	return err == nil && ok
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// requiresStillMet re-checks, under the root's lock, that every extension
// rec requires is provided: another process may have uninstalled a
// dependency between its install and this commit.
func (i *installer) requiresStillMet(rec Installed) error {
	own := extensionNames(labels.Metadata{Extensions: rec.Extensions})
	for _, ext := range requiredExtensions(labels.Metadata{Extensions: rec.Extensions}) {
		if slices.Contains(own, ext) {
			continue
		}
		ok, err := i.provided(ext)
		if err != nil {
			return err
		}
		if !ok {
			return &DependencyError{Chain: []string{rec.Name, ext}, Extension: ext,
				Err: fmt.Errorf("%w: %s was removed while %s was being installed; install again", ErrMissingDependency, ext, rec.Name)}
		}
	}
	return nil
}

// requiredExtensions lists the requires of m's extensions, once each, in
// order.
func requiredExtensions(m labels.Metadata) []string {
	var out []string
	for _, e := range m.Extensions {
		for _, r := range e.Requires {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

func (i *installer) inStack(ext string) bool {
	for _, f := range i.stack {
		if slices.Contains(f.exts, ext) {
			return true
		}
	}
	return false
}

// provided reports whether extension ext is available: from an installed
// package, or from the server's sharedir when known.
func (i *installer) provided(ext string) (bool, error) {
	recs, err := i.loc.readRecords()
	if err != nil {
		return false, err
	}
	if providerOf(recs, ext, "") != "" {
		return true, nil
	}
	return serverProvides(i.loc.serverShare, ext, recs), nil
}

// providerOf returns an installed package other than except providing ext.
func providerOf(recs map[string]Installed, ext, except string) string {
	for _, name := range keysSorted(recs) {
		if name == except {
			continue
		}
		for _, e := range recs[name].Extensions {
			if e.Name == ext {
				return name
			}
		}
	}
	return ""
}

// serverProvides reports whether the server's sharedir holds a control
// file for ext that no installed package put there (in PostgreSQL 17
// mode installed packages write into the same directory).
func serverProvides(share, ext string, recs map[string]Installed) bool {
	if share == "" || strings.ContainsAny(ext, "/\x00") {
		return false
	}
	p := filepath.Join(share, "extension", ext+".control")
	if _, err := os.Stat(p); err != nil {
		return false
	}
	for _, rec := range recs {
		for _, f := range rec.Files {
			if f.Path == p {
				return false
			}
		}
	}
	return true
}

// DefaultDependencyRef is the default [InstallOptions.DependencyRef]: the
// required extension ext is looked for in the repository next to the one
// of the package requiring it, with the last path element replaced by ext
// and no tag (so the highest version is installed):
//
//	ghcr.io/acme/earthdistance:1.2   requires cube -> ghcr.io/acme/cube
//	oci:/mirror/earthdistance:1.2    requires cube -> oci:/mirror/cube
//
// An OCI layout is taken as one repository, so dependencies come from
// sibling layout directories named after the extension.
func DefaultDependencyRef(ext string, from resolve.Reference) (string, error) {
	if ext == "" || strings.ContainsAny(ext, "/:@\\\x00") || ext == "." || ext == ".." {
		return "", fmt.Errorf("%w: extension name %q cannot name a repository", ErrMissingDependency, ext)
	}
	if from.Layout != "" {
		return resolve.LayoutPrefix + filepath.Join(filepath.Dir(from.Layout), ext), nil
	}
	r := resolve.Reference{Registry: from.Registry, Repository: path.Join(path.Dir(from.Repository), ext)}
	if path.Dir(from.Repository) == "." {
		r.Repository = ext
	}
	if _, err := resolve.ParseReference(r.String()); err != nil {
		return "", fmt.Errorf("%w: no repository for extension %q next to %s: %w", ErrMissingDependency, ext, from.Name(), err)
	}
	return r.String(), nil
}
