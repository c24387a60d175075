package linkage

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"sort"
)

// BundleOptions say where [PlanBundle] looks for the libraries modules
// need, on the build machine.
type BundleOptions struct {
	// LibPath lists extra directories (pack's --lib-path), searched after
	// the needing object's own RUNPATH (or RPATH).
	LibPath []string
	// IncludeSystem also bundles libraries found only through the build
	// machine's system library path (ld.so.cache and the default
	// directories). Off by default: those are the OS libraries the target
	// system provides, and pack records them as needs instead.
	IncludeSystem bool
	// LDCache, NoLDCache and DefaultDirs describe the build machine's
	// system library path, as in [Options].
	LDCache     string
	NoLDCache   bool
	DefaultDirs []string
	// MaxObjects bounds the libraries followed (0: [DefaultMaxObjects]).
	MaxObjects int
}

// BundledLib is one library to copy into the image's system/ directory.
type BundledLib struct {
	// Source is the file to copy (symlinks resolved).
	Source string
	// Name is the file name to give it in system/: the source's own name
	// (libpq.so.5.18).
	Name string
	// Soname is the library's SONAME ("" when it has none).
	Soname string
	// Links are the symlinks to create next to it, each pointing at Name:
	// the soname and any other name it is needed by, when they differ from
	// Name. Sorted.
	Links []string
	// NeededBy lists the objects (source paths) that need it. Sorted.
	NeededBy []string
	// Via is how it was found: ViaRunPath, ViaRPath, ViaLibPath, or (with
	// IncludeSystem) ViaLDCache or ViaDefault.
	Via Via
}

// SystemLib is a needed library left to the target system: found through
// the build machine's system library path, or part of the C runtime.
type SystemLib struct {
	Soname   string
	Path     string   // where the build machine has it ("" for the C runtime when not searched)
	NeededBy []string // sorted
}

// BundlePlan is the result of [PlanBundle]; every list is sorted, so the
// layer written from it is reproducible.
type BundlePlan struct {
	Libs []BundledLib // to copy into system/, by Name
	// System are needs left to the target's OS (C runtime libraries
	// included), by Soname: record them as the image's OS needs.
	System []SystemLib
	// Missing are needs found nowhere; the caller decides whether that is
	// an error. Each is a [NotFound] [Finding] naming where it looked.
	Missing []Finding
}

// PlanBundle computes the shared libraries to bundle with modules (paths
// of the modules where they are now: a module's $ORIGIN is its directory
// there). For each DT_NEEDED of a module, then of each bundled library,
// it searches the needing object's RUNPATH (else its RPATH), then
// opts.LibPath: a library found there is bundled and its own needs
// followed. A need satisfied by one of the modules themselves (by soname
// or file name), or in the C runtime ([IsCRuntime]), is not bundled; nor
// is one found only through the build machine's system path (ld.so.cache,
// default directories) unless opts.IncludeSystem. Candidates of another
// class or machine than the needing object are skipped.
func PlanBundle(ctx context.Context, modules []string, opts BundleOptions) (*BundlePlan, error) {
	ck := NewChecker(Options{LDCache: opts.LDCache, NoLDCache: opts.NoLDCache, DefaultDirs: opts.DefaultDirs, MaxObjects: opts.MaxObjects})
	max := ck.opts.MaxObjects
	provided := map[string]bool{}
	var queue []*lmObj
	ck.opts.LibraryPath = nil
	libPath := absPaths(opts.LibPath)
	for _, p := range modules {
		p = absPath(p)
		o, k, err := ck.load(p)
		if err != nil {
			return nil, fmt.Errorf("linkage: module %s: %w", p, err)
		}
		provided[path.Base(p)] = true
		if o.Soname != "" {
			provided[o.Soname] = true
		}
		queue = append(queue, &lmObj{obj: o, path: p, key: k})
	}
	libs := map[string]*BundledLib{}  // by source
	bySoname := map[string]string{}   // need -> source of the chosen lib, "" for system/missing
	system := map[string]*SystemLib{} // by soname
	missing := map[string]*Finding{}  // by soname
	for i := 0; i < len(queue); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := queue[i]
		for _, name := range x.obj.Needed {
			if provided[name] {
				continue
			}
			if src, ok := bySoname[name]; ok {
				switch {
				case src != "":
					libs[src].NeededBy = appendUniq(libs[src].NeededBy, x.path)
				case system[name] != nil:
					system[name].NeededBy = appendUniq(system[name].NeededBy, x.path)
				}
				continue
			}
			if IsCRuntime(name) {
				bySoname[name] = ""
				system[name] = &SystemLib{Soname: name, NeededBy: []string{x.path}}
				continue
			}
			m, via, looked, bad := ck.bundleSearch(x, name, libPath)
			if bad != nil {
				bad.Module = x.path
				bySoname[name] = ""
				missing[name] = bad
				continue
			}
			if m == nil {
				bySoname[name] = ""
				missing[name] = &Finding{Kind: NotFound, Module: x.path, Object: x.path, Soname: name, Looked: looked}
				continue
			}
			if (via == ViaLDCache || via == ViaDefault) && !opts.IncludeSystem {
				bySoname[name] = ""
				system[name] = &SystemLib{Soname: name, Path: m.path, NeededBy: []string{x.path}}
				continue
			}
			src, err := filepath.EvalSymlinks(ck.source(m.path))
			if err != nil {
				return nil, err
			}
			bySoname[name] = src
			if b, ok := libs[src]; ok {
				b.NeededBy = appendUniq(b.NeededBy, x.path)
				b.Links = addLink(b.Links, b.Name, name)
				continue
			}
			b := &BundledLib{Source: src, Name: path.Base(src), Soname: m.obj.Soname, NeededBy: []string{x.path}, Via: via}
			b.Links = addLink(addLink(nil, b.Name, m.obj.Soname), b.Name, name)
			libs[src] = b
			if len(libs) > max {
				return nil, fmt.Errorf("%w: more than %d libraries to bundle", ErrTooManyObjects, max)
			}
			m.loader = x
			queue = append(queue, m)
		}
	}
	plan := &BundlePlan{}
	for _, b := range libs {
		sort.Strings(b.NeededBy)
		sort.Strings(b.Links)
		plan.Libs = append(plan.Libs, *b)
	}
	sort.Slice(plan.Libs, func(i, j int) bool {
		if plan.Libs[i].Name != plan.Libs[j].Name {
			return plan.Libs[i].Name < plan.Libs[j].Name
		}
		return plan.Libs[i].Source < plan.Libs[j].Source
	})
	for _, s := range system {
		sort.Strings(s.NeededBy)
		plan.System = append(plan.System, *s)
	}
	sort.Slice(plan.System, func(i, j int) bool { return plan.System[i].Soname < plan.System[j].Soname })
	for _, f := range missing {
		plan.Missing = append(plan.Missing, *f)
	}
	sort.Slice(plan.Missing, func(i, j int) bool { return plan.Missing[i].Soname < plan.Missing[j].Soname })
	return plan, nil
}

// bundleSearch: the object's RUNPATH (else the RPATH of it and its
// loaders), then the lib-path directories, then the system path.
func (c *Checker) bundleSearch(x *lmObj, name string, libPath []string) (*lmObj, Via, []string, *Finding) {
	lm := &linkMap{ref: x.obj, musl: x.obj.Libc == Musl}
	own := &lmObj{obj: &Object{RunPath: x.obj.RunPath, RPath: x.obj.RPath, Class: x.obj.Class, Data: x.obj.Data, Machine: x.obj.Machine, Arch: x.obj.Arch, Libc: x.obj.Libc, NoDefaultLib: true}, path: x.path, loader: x.loader}
	m, via, looked, bad := c.search(lm, own, name, nil)
	if m != nil || bad != nil {
		return m, via, looked, bad
	}
	var all []string
	for _, l := range looked {
		if l != noDefLibNote {
			all = append(all, l)
		}
	}
	bare := &lmObj{obj: &Object{Class: x.obj.Class, Data: x.obj.Data, Machine: x.obj.Machine, Arch: x.obj.Arch, Libc: x.obj.Libc}, path: x.path}
	m, via, looked, bad = c.search(lm, bare, name, libPath)
	for i, l := range looked {
		looked[i] = relabel(l)
	}
	if via == ViaLibraryPath {
		via = ViaLibPath
	}
	return m, via, append(all, looked...), bad
}

func relabel(l string) string {
	const from, to = " (LD_LIBRARY_PATH)", " (lib-path)"
	if len(l) > len(from) && l[len(l)-len(from):] == from {
		return l[:len(l)-len(from)] + to
	}
	return l
}

func appendUniq(l []string, s string) []string {
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}

func addLink(links []string, name, link string) []string {
	if link == "" || link == name {
		return links
	}
	return appendUniq(links, link)
}
