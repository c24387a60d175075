package extension

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"pgoci/layout"
	"pgoci/linkage"
)

// The link check proves, before a package is committed, that each of its
// modules will load into the server the way the dynamic loader loads it
// (package linkage): every needed library found where the server will
// look, every symbol defined, the C library new enough. A module that
// cannot load is refused with the *linkage.LoadError that says why.

// isModulePath reports whether p (image root layout) is a module the
// server may dlopen: a *.so file under lib/, bitcode aside.
func isModulePath(p string) bool {
	return strings.HasPrefix(p, layout.DirLib+"/") && !strings.HasPrefix(p, layout.DirBitcode+"/") && strings.HasSuffix(p, ".so")
}

// installedPath is where image path p of package name is opened from once
// installed: the view path in the root (the server opens <root>/lib/x.so,
// and $ORIGIN is taken from that path), the server's directory in
// PostgreSQL 17 mode. "" when p is not installed.
func (l location) installedPath(name, p string) string {
	if l.pg17() {
		return l.dest17(name, p)
	}
	return filepath.Join(l.root, filepath.FromSlash(p))
}

// serverExe is the server executable the check loads modules into:
// RootOptions.Postgres, else pg_config's bindir/postgres; "" when
// unknown (symbols are then reported unchecked).
func (l location) serverExe(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if l.serverBin == "" {
		return ""
	}
	p := filepath.Join(l.serverBin, "postgres")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// libraryPath is the server's LD_LIBRARY_PATH as pgoci knows it: the
// root's system/ (the settings pgoci prints put it there) and extra.
func (l location) libraryPath(extra []string) []string {
	if l.pg17() {
		return slices.Clone(extra)
	}
	return append([]string{filepath.Join(l.root, layout.DirSystem)}, extra...)
}

// checkLinks checks the staged package's modules as they will be opened
// once committed. It returns the findings that do not refuse (symbols
// unchecked without a server executable; with SkipLinkCheck, the
// refusals too).
func (i *installer) checkLinks(ctx context.Context, st *staged) ([]linkage.Finding, error) {
	var modules []string
	var overlay []linkage.Mapping
	for _, f := range st.rec.Files {
		dst := i.loc.installedPath(st.rec.Name, f.Path)
		if dst == "" || !(strings.HasPrefix(f.Path, layout.DirLib+"/") || strings.HasPrefix(f.Path, layout.DirSystem+"/")) {
			continue
		}
		overlay = append(overlay, linkage.Mapping{Target: dst, Source: filepath.Join(st.dir, filepath.FromSlash(f.Path))})
		if isModulePath(f.Path) {
			modules = append(modules, dst)
		}
	}
	if len(modules) == 0 {
		return nil, nil
	}
	recs, err := i.loc.readRecords()
	if err != nil {
		return nil, err
	}
	global := i.loc.requiredModules(recs, st.rec)
	if i.linkCache == nil {
		i.linkCache = linkage.NewCache()
	}
	ck := linkage.NewChecker(linkage.Options{
		Server:      i.loc.serverExe(i.r.opts.Postgres),
		LibraryPath: i.loc.libraryPath(i.r.opts.LibraryPath),
		Overlay:     overlay,
		Global:      append(global, modules...),
		Cache:       i.linkCache,
	})
	reports, err := ck.Check(ctx, modules...)
	if err != nil {
		return nil, fmt.Errorf("extension: link check of %s: %w", st.rec.Name, err)
	}
	var kept []linkage.Finding
	for _, r := range reports {
		kept = append(kept, r.Unchecked()...)
	}
	if err := linkage.Err(reports); err != nil {
		if !i.opts.SkipLinkCheck {
			return nil, fmt.Errorf("extension: install %s: %w", st.rec.Name, err)
		}
		for _, r := range reports {
			kept = append(kept, fatal(r.Findings)...)
		}
	}
	return kept, nil
}

func fatal(fs []linkage.Finding) []linkage.Finding {
	return slices.DeleteFunc(slices.Clone(fs), func(f linkage.Finding) bool { return !f.Fatal() })
}

// requiredModules lists the modules already loaded, with RTLD_GLOBAL,
// when rec's modules load: those of the extensions rec requires,
// directly or through them, from installed packages (recs) or the server.
func (l location) requiredModules(recs map[string]Installed, rec Installed) []string {
	seen := map[string]bool{}
	var out []string
	var visit func(ext string)
	visit = func(ext string) {
		if seen[ext] {
			return
		}
		seen[ext] = true
		if p := providerOf(recs, ext, rec.Name); p != "" {
			out = append(out, l.modulesOf(recs[p])...)
			for _, e := range recs[p].Extensions {
				if e.Name == ext {
					for _, r := range e.Requires {
						visit(r)
					}
				}
			}
			return
		}
		c, ok := l.serverControl(ext)
		if !ok {
			return
		}
		if m := moduleRef(c.ModulePathname); m != "" && l.serverLib != "" {
			if p := filepath.Join(l.serverLib, m+".so"); fileExists(p) {
				out = append(out, p)
			}
		}
		for _, r := range c.Requires {
			visit(r)
		}
	}
	for _, ext := range requiredExtensions(rec.metadata()) {
		visit(ext)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// modulesOf lists where the modules of installed package rec are opened
// from.
func (l location) modulesOf(rec Installed) []string {
	var out []string
	for _, f := range rec.Files {
		switch {
		case f.Link != "":
		case l.pg17():
			if strings.HasPrefix(f.Path, l.pkgLibDir+string(filepath.Separator)) && !strings.Contains(f.Path, "/bitcode/") && strings.HasSuffix(f.Path, ".so") {
				out = append(out, f.Path)
			}
		case isModulePath(f.Path):
			out = append(out, l.installedPath(rec.Name, f.Path))
		}
	}
	return out
}

// linkDrift re-runs the link check on the installed modules of the
// packages in check (recs are all the records): a library removed or
// replaced since install, or a server upgraded under them, shows as
// DriftCannotLoad.
func (l location) linkDrift(ctx context.Context, recs, check map[string]Installed, postgres string, libraryPath []string) ([]Drift, error) {
	cache := linkage.NewCache()
	var drift []Drift
	for _, name := range keysSorted(check) {
		modules := l.modulesOf(recs[name])
		if len(modules) == 0 {
			continue
		}
		ck := linkage.NewChecker(linkage.Options{
			Server:      l.serverExe(postgres),
			LibraryPath: l.libraryPath(libraryPath),
			Global:      append(l.requiredModules(recs, recs[name]), modules...),
			Cache:       cache,
		})
		reports, err := ck.Check(ctx, modules...)
		if err != nil {
			return nil, fmt.Errorf("extension: link check of %s: %w", name, err)
		}
		for _, r := range reports {
			for _, f := range fatal(r.Findings) {
				drift = append(drift, Drift{Package: name, Path: r.Module, Problem: DriftCannotLoad, Detail: f.String()})
			}
		}
	}
	return drift, nil
}

// serverControl reads the server's own control file for ext.
func (l location) serverControl(ext string) (layout.Control, bool) {
	if l.serverShare == "" || strings.ContainsAny(ext, "/\x00") {
		return layout.Control{}, false
	}
	c, err := readControl(filepath.Join(l.serverShare, "extension", ext+".control"), ext+".control")
	return c, err == nil
}

// moduleRef is the module name of a module_pathname ("$libdir/hstore"
// gives "hstore"), "" for a path elsewhere.
func moduleRef(ref string) string {
	ref = strings.TrimPrefix(ref, "$libdir/")
	if ref == "" || strings.ContainsAny(ref, "/$") {
		return ""
	}
	return strings.TrimSuffix(path.Base(ref), ".so")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
