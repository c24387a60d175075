package linkage

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// DefaultMaxObjects is the default for [Options.MaxObjects].
const DefaultMaxObjects = 1024

const noDefLibNote = "(DF_1_NODEFLIB: no ld.so.cache or default directories)"

// DefaultLDCache is where glibc's loader reads its cache.
const DefaultLDCache = "/etc/ld.so.cache"

// Options describe the server process a module is checked against. Every
// path in them (and every path the check derives: RUNPATH entries, cache
// entries, default directories) is a path as the server's loader sees it;
// [Options.Overlay] says where to read it on this machine.
type Options struct {
	// Server is the server executable (bin/postgres). Its needed closure
	// is loaded first, as in the running server, and its dynamic symbols
	// are in the global scope. "" when unknown: then a symbol nothing in
	// scope defines is reported [Unchecked], never a refusal.
	Server string
	// LibraryPath is the server's LD_LIBRARY_PATH, in order (in root mode:
	// <root>/system, then anything else the server runs with).
	LibraryPath []string
	// LDCache is the loader cache to read ("" for [DefaultLDCache]). A
	// missing file means no cache; an invalid one is ignored, as the loader
	// ignores it ([Checker.LDCacheErr] reports why).
	LDCache string
	// NoLDCache skips the cache entirely.
	NoLDCache bool
	// DefaultDirs replaces the loader's default directories (nil: see
	// [DefaultDirs]).
	DefaultDirs []string
	// Global lists modules already loaded with RTLD_GLOBAL when the checked
	// modules load: the modules of the extensions a checked extension
	// requires, and the other modules of the same package. Their symbols
	// and libraries count as defined and loaded; their own problems are not
	// reported (check them as modules for that).
	Global []string
	// Overlay maps loader paths to files on this machine, longest Target
	// first: a module staged at /tmp/stage/lib/x.so that will be installed
	// at /srv/pg/packages/x/1/lib/x.so is checked with the Mapping
	// {Target: "/srv/pg/packages/x/1", Source: "/tmp/stage"}. A Mapping with
	// Target "/" checks against a system unpacked in a directory (symlinks
	// in it are followed by this machine's kernel, so absolute links point
	// outside it: use relative links there).
	Overlay []Mapping
	// WorkDir is the server's working directory (the data directory), used
	// for relative RUNPATH/RPATH entries; "" skips those entries.
	WorkDir string
	// Lib and Platform are what $LIB and $PLATFORM expand to. Defaults:
	// "lib/<multiarch triplet>" (Debian's) and the machine's AT_PLATFORM
	// name ("x86_64", "aarch64", ...); an entry that cannot be expanded is
	// dropped, as the loader drops it.
	Lib, Platform string
	// Cache, when set, is the object cache to use (and fill); share one
	// between Checkers that read the same system, e.g. one per package of
	// an install. nil: the Checker has its own.
	Cache *Cache
	// MaxObjects bounds the objects one module's check walks (its closure
	// plus the server's and the global modules'); 0 means
	// [DefaultMaxObjects]. Beyond it Check fails with [ErrTooManyObjects].
	MaxObjects int
}

// Mapping maps loader paths under Target to files under Source.
type Mapping struct {
	Target string // a path as the server's loader sees it
	Source string // where it is on this machine
}

// Via says how the loader found a library.
type Via string

// Ways a needed library is found, in the loader's search order.
const (
	ViaServer      Via = "server"       // already loaded: the server executable's closure or a global module
	ViaLoaded      Via = "loaded"       // already loaded earlier in this module's closure
	ViaPath        Via = "path"         // DT_NEEDED names a path (contains "/")
	ViaRPath       Via = "rpath"        // DT_RPATH of the needing object or one that loaded it
	ViaLibraryPath Via = "library-path" // LD_LIBRARY_PATH
	ViaRunPath     Via = "runpath"      // DT_RUNPATH of the needing object
	ViaLDCache     Via = "ld.so.cache"  // /etc/ld.so.cache
	ViaDefault     Via = "default-dir"  // the loader's default directories
	ViaLibPath     Via = "lib-path"     // bundling only: a directory of [BundleOptions.LibPath]
	ViaNotFound    Via = ""             // not found
)

// Library is one DT_NEEDED edge of a module's closure and where it led.
type Library struct {
	Soname   string // the DT_NEEDED string
	NeededBy string // loader path of the object that needs it
	Path     string // loader path it resolved to; "" when not found
	Via      Via
	// Looked lists where the loader looked, in order: "<dir> (RUNPATH)",
	// "<dir> (LD_LIBRARY_PATH)", "ld.so.cache", "<dir> (default)", and for
	// a candidate it skipped, "<path> (skipped: why)". Empty for a library
	// found already loaded.
	Looked []string
}

// Kind classifies a [Finding].
type Kind string

// Finding kinds. All but [Unchecked] stop the module from loading.
const (
	NotFound       Kind = "not-found"        // a needed library is nowhere the loader looks
	BadLibrary     Kind = "bad-library"      // the loader found a file for a need that it cannot load (not ELF, malformed)
	MissingSymbol  Kind = "missing-symbol"   // an undefined non-weak symbol nothing in scope defines
	MissingVersion Kind = "missing-version"  // a needed symbol version the library does not define
	GlibcTooOld    Kind = "glibc-too-old"    // the module needs a newer glibc than the target has
	WrongPlatform  Kind = "wrong-platform"   // class or machine differs from the server's
	WrongLibc      Kind = "wrong-libc"       // glibc module, musl server or the reverse
	NotLoadable    Kind = "not-loadable"     // the module itself: unreadable, not ELF, an executable
	Unchecked      Kind = "unchecked-symbol" // nothing in scope defines it and the server executable is unknown
)

// Finding is one problem (or, for [Unchecked], one thing that could not be
// proved) in a module's check.
type Finding struct {
	Kind   Kind
	Module string // loader path of the checked module
	Object string // loader path of the object with the need (the module or a library it loads)
	Soname string // the library concerned (NotFound, BadLibrary, MissingVersion; the versioned symbol's file)
	Symbol string // the symbol (MissingSymbol, Unchecked)
	// Version is the symbol version (MissingSymbol), the missing version
	// (MissingVersion) or the glibc version required (GlibcTooOld).
	Version string
	// Path is where Soname resolved (MissingVersion, a versioned
	// MissingSymbol), or the target's libc (GlibcTooOld).
	Path string
	// Looked is where it was looked for: the places searched (NotFound), or
	// for a symbol the libraries expected to define it, as "soname=path".
	Looked []string
	// Scope is how many objects were in the lookup scope (symbol findings).
	Scope int
	// Detail completes the message (the version a library has, the reason
	// a file was refused).
	Detail string
}

// Fatal reports whether the finding stops the load (everything but
// [Unchecked]).
func (f Finding) Fatal() bool { return f.Kind != Unchecked }

// String renders the finding the way the loader would complain, naming the
// module first: "dblink.so needs PQcancelStart; libpq.so.5 resolves to
// /usr/lib/x86_64-linux-gnu/libpq.so.5, which does not define it".
func (f Finding) String() string {
	who := baseName(f.Module)
	if f.Object != "" && f.Object != f.Module {
		who += ": " + f.Object
	}
	sym := f.Symbol
	if f.Version != "" && (f.Kind == MissingSymbol || f.Kind == Unchecked) {
		sym += "@" + f.Version
	}
	others := func() string {
		if f.Scope > len(f.Looked) {
			return fmt.Sprintf(", nor does any other of the %d objects in scope", f.Scope)
		}
		return ""
	}
	switch f.Kind {
	case NotFound:
		return fmt.Sprintf("%s needs %s: not found (looked in %s)", who, f.Soname, lookedList(f.Looked))
	case BadLibrary:
		return fmt.Sprintf("%s needs %s: %s cannot be loaded: %s", who, f.Soname, f.Path, f.Detail)
	case MissingSymbol:
		if len(f.Looked) == 0 {
			return fmt.Sprintf("%s needs %s, which none of the %d objects in scope defines", who, sym, f.Scope)
		}
		if len(f.Looked) == 1 {
			so, p, _ := strings.Cut(f.Looked[0], "=")
			return fmt.Sprintf("%s needs %s; %s resolves to %s, which does not define it%s", who, sym, so, p, others())
		}
		return fmt.Sprintf("%s needs %s; none of %s defines it%s", who, sym, strings.Join(f.Looked, ", "), others())
	case MissingVersion:
		msg := fmt.Sprintf("%s needs version %s of %s; %s resolves to %s, which does not define it", who, f.Version, f.Soname, f.Soname, f.Path)
		if f.Detail != "" {
			msg += " (" + f.Detail + ")"
		}
		return msg
	case GlibcTooOld:
		return fmt.Sprintf("%s requires glibc %s; the target's C library %s is glibc %s", who, f.Version, f.Path, f.Detail)
	case WrongPlatform, WrongLibc, NotLoadable:
		return fmt.Sprintf("%s: %s", who, f.Detail)
	case Unchecked:
		msg := fmt.Sprintf("%s needs %s, which none of the %d objects in scope defines; the server executable is unknown, so it is unchecked", who, sym, f.Scope)
		if f.Detail != "" {
			msg = fmt.Sprintf("%s needs %s: %s", who, sym, f.Detail)
		}
		return msg
	}
	return fmt.Sprintf("%s: %s %s%s", who, f.Kind, f.Soname, f.Symbol)
}

func lookedList(l []string) string {
	if len(l) == 0 {
		return "nowhere: no search path applies"
	}
	return strings.Join(l, ", ")
}

// Report is the result of checking one module.
type Report struct {
	Module string  // loader path of the module
	Object *Object // the module as read; nil when it could not be read
	// Libraries lists every DT_NEEDED edge of the module and of the
	// libraries it brings in, breadth first as the loader walks them.
	Libraries []Library
	// Findings lists the problems, fatal or [Unchecked], in the order
	// found.
	Findings []Finding
	// GlibcRequired is the highest GLIBC_x.y the module and the libraries
	// it brings in need; GlibcAvailable is what the libc.so.6 in scope
	// defines ("" when there is none).
	GlibcRequired, GlibcAvailable string
	// Scope is the number of objects in the symbol lookup scope.
	Scope int
}

// OK reports whether the module loads: no fatal finding. Unchecked
// findings do not count; test them with [Report.Unchecked].
func (r *Report) OK() bool { return r.Err() == nil }

// Err returns a [*LoadError] listing the fatal findings, or nil.
func (r *Report) Err() error {
	var p []Finding
	for _, f := range r.Findings {
		if f.Fatal() {
			p = append(p, f)
		}
	}
	if len(p) == 0 {
		return nil
	}
	return &LoadError{Module: r.Module, Problems: p}
}

// Unchecked returns the findings of kind [Unchecked].
func (r *Report) Unchecked() []Finding {
	var u []Finding
	for _, f := range r.Findings {
		if f.Kind == Unchecked {
			u = append(u, f)
		}
	}
	return u
}

// Err joins the errors of the reports ([errors.Join] of each
// [Report.Err]), nil when every module loads.
func Err(reports []*Report) error {
	var errs []error
	for _, r := range reports {
		if err := r.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Checker checks modules against one server configuration. It caches every
// object it reads (by device, inode, size and modification time) and the
// server's own closure, so checking many modules that share libraries reads
// each library once. A Checker is safe for concurrent use; make a new one
// when the configuration or the system's libraries change.
type Checker struct {
	opts Options

	mu      sync.Mutex
	objs    *Cache
	cache   *LDCache
	cacheE  error
	cacheOK bool
	base    *linkMap // the server process before any module loads
	baseErr error
	baseOK  bool
}

type cachedObj struct {
	obj *Object
	err error
}

// Cache is a cache of parsed objects keyed by device, inode, size and
// modification time (so a replaced file is read again), safe for
// concurrent use. Share one between Checkers with [Options.Cache].
type Cache struct {
	mu   sync.Mutex
	objs map[fileKey]cachedObj
}

// NewCache returns an empty Cache.
func NewCache() *Cache { return &Cache{objs: map[fileKey]cachedObj{}} }

func (c *Cache) get(k fileKey) (cachedObj, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.objs[k]
	return e, ok
}

func (c *Cache) put(k fileKey, e cachedObj) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.objs) >= 1<<16 { // a long-lived cache over a changing system
		c.objs = map[fileKey]cachedObj{}
	}
	c.objs[k] = e
}

// NewChecker returns a Checker for opts.
func NewChecker(opts Options) *Checker {
	if opts.MaxObjects <= 0 {
		opts.MaxObjects = DefaultMaxObjects
	}
	if opts.LDCache == "" {
		opts.LDCache = DefaultLDCache
	}
	opts.Server = absPath(opts.Server)
	opts.Global = absPaths(opts.Global)
	opts.LibraryPath = absPaths(opts.LibraryPath)
	om := append([]Mapping(nil), opts.Overlay...)
	for i := range om {
		om[i].Target = absPath(om[i].Target)
		om[i].Source = absPath(om[i].Source)
	}
	sort.SliceStable(om, func(i, j int) bool { return len(om[i].Target) > len(om[j].Target) })
	opts.Overlay = om
	cache := opts.Cache
	if cache == nil {
		cache = NewCache()
	}
	return &Checker{opts: opts, objs: cache}
}

// LDCacheErr returns why the ld.so.cache was not used (nil when it was, or
// before the first check).
func (c *Checker) LDCacheErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cacheE
}

// source maps a loader path to the file to read on this machine.
func (c *Checker) source(p string) string {
	p = path.Clean(p)
	for _, m := range c.opts.Overlay {
		if m.Target == "/" {
			return path.Join(m.Source, p)
		}
		if p == m.Target || strings.HasPrefix(p, m.Target+"/") {
			return m.Source + p[len(m.Target):]
		}
	}
	return p
}

// load reads the object at loader path p (cached). It returns fs errors
// (os.ErrNotExist...) as they are, for the search to go on.
func (c *Checker) load(p string) (*Object, fileKey, error) {
	src := c.source(p)
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fileKey{}, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fileKey{}, &fs.PathError{Op: "open", Path: src, Err: errNotRegular}
	}
	k := keyOf(src, fi)
	if e, ok := c.objs.get(k); ok {
		return e.obj, k, e.err
	}
	o, err := ReadFile(src)
	if err == nil || !isFSErr(err) {
		c.objs.put(k, cachedObj{o, err})
	}
	return o, k, err
}

var errNotRegular = errors.New("not a regular file")

func isFSErr(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && !errors.Is(err, ErrNotELF)
}

func (c *Checker) ldcache() *LDCache {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cacheOK || c.opts.NoLDCache {
		return c.cache
	}
	c.cacheOK = true
	lc, err := ReadLDCache(c.source(c.opts.LDCache))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.cacheE = err
		}
		return nil
	}
	c.cache = lc
	return lc
}

// lmObj is one object in the simulated link map.
type lmObj struct {
	obj    *Object
	path   string   // loader path (l_name)
	names  []string // names it was requested by (l_libname)
	loader *lmObj   // the object whose need loaded it (l_loader)
	key    fileKey
	new    bool // loaded by the module being checked
}

func (m *lmObj) matches(name string) bool {
	if m.path == name || (m.obj.Soname != "" && m.obj.Soname == name) {
		return true
	}
	for _, n := range m.names {
		if n == name {
			return true
		}
	}
	return false
}

// linkMap is the simulated namespace: objects in load order; scope is the
// global search list.
type linkMap struct {
	objs  []*lmObj
	main  *lmObj // the server executable, nil when unknown
	scope []*lmObj
	ref   *Object // what class/machine candidates must match
	musl  bool
}

func (lm *linkMap) clone() *linkMap {
	n := *lm
	n.objs = append([]*lmObj(nil), lm.objs...)
	n.scope = append([]*lmObj(nil), lm.scope...)
	return &n
}

func (lm *linkMap) find(name string, k *fileKey) *lmObj {
	for _, m := range lm.objs {
		if (name != "" && m.matches(name)) || (k != nil && m.key == *k) {
			return m
		}
	}
	return nil
}

// baseMap loads the server executable's closure and the global modules,
// leaving out the global module exclude (the one being checked: it must
// not count as already loaded). Only the map without exclusion is kept.
func (c *Checker) baseMap(ctx context.Context, exclude string) (*linkMap, error) {
	if exclude == "" {
		c.mu.Lock()
		if c.baseOK {
			b, err := c.base, c.baseErr
			c.mu.Unlock()
			return b, err
		}
		c.mu.Unlock()
	}
	lm := &linkMap{}
	if c.opts.Server != "" {
		o, k, err := c.load(c.opts.Server)
		if err != nil {
			return nil, fmt.Errorf("linkage: server executable: %w", err)
		}
		lm.main = &lmObj{obj: o, path: path.Clean(c.opts.Server), key: k}
		lm.objs = append(lm.objs, lm.main)
		lm.ref = o
		lm.musl = o.Libc == Musl
		if _, err := c.closure(ctx, lm, []*lmObj{lm.main}, nil); err != nil {
			return nil, err
		}
		lm.scope = append(lm.scope, lm.objs...)
	}
	for _, g := range c.opts.Global {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if g == exclude {
			continue
		}
		o, k, err := c.load(g)
		if err != nil || (lm.ref != nil && !sameKind(o, lm.ref)) {
			continue
		}
		if lm.find(path.Clean(g), &k) != nil {
			continue
		}
		if lm.ref == nil {
			lm.ref = o
			lm.musl = o.Libc == Musl
		}
		m := &lmObj{obj: o, path: path.Clean(g), key: k, loader: lm.main}
		n := len(lm.objs)
		lm.objs = append(lm.objs, m)
		if _, err := c.closure(ctx, lm, []*lmObj{m}, nil); err != nil {
			return nil, err
		}
		lm.scope = append(lm.scope, lm.objs[n:]...)
	}
	if exclude == "" {
		c.mu.Lock()
		c.base, c.baseErr, c.baseOK = lm, nil, true
		c.mu.Unlock()
	}
	return lm, nil
}

// closure loads the needs of queue breadth first, appending new objects to
// lm.objs, and returns the DT_NEEDED edges. Findings about needs go to rep
// (nil for the server's own closure).
func (c *Checker) closure(ctx context.Context, lm *linkMap, queue []*lmObj, rep *Report) ([]Library, error) {
	var libs []Library
	for i := 0; i < len(queue); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := queue[i]
		needs := append([]string(nil), x.obj.Needed...)
		needs = append(needs, x.obj.Filter...)
		for ni, name := range append(needs, x.obj.Auxiliary...) {
			optional := ni >= len(needs)
			lib := Library{Soname: name, NeededBy: x.path}
			if lm.musl && muslReserved(name) && lm.main != nil {
				// musl's loader answers these with itself.
				lib.Path, lib.Via = lm.main.obj.Interpreter, ViaServer
				libs = append(libs, lib)
				continue
			}
			if m := lm.find(name, nil); m != nil {
				lib.Path, lib.Via = m.path, ViaLoaded
				if !m.new {
					lib.Via = ViaServer
				}
				libs = append(libs, lib)
				continue
			}
			m, via, looked, bad := c.search(lm, x, name, c.opts.LibraryPath)
			lib.Looked = looked
			if bad != nil {
				if rep != nil && !optional {
					bad.Module = rep.Module
					rep.Findings = append(rep.Findings, *bad)
				}
				libs = append(libs, lib)
				continue
			}
			if m == nil {
				if rep != nil && !optional {
					rep.Findings = append(rep.Findings, Finding{Kind: NotFound, Module: rep.Module, Object: x.path, Soname: name, Looked: looked})
				}
				libs = append(libs, lib)
				continue
			}
			lib.Path, lib.Via = m.path, via
			libs = append(libs, lib)
			if old := lm.find("", &m.key); old != nil {
				// Same file already loaded under another name.
				old.names = append(old.names, name)
				lib.Path = old.path
				libs[len(libs)-1] = lib
				continue
			}
			m.names = append(m.names, name)
			m.loader = x
			m.new = rep != nil
			if len(lm.objs) >= c.opts.MaxObjects {
				return nil, fmt.Errorf("%w: more than %d while loading %s", ErrTooManyObjects, c.opts.MaxObjects, name)
			}
			lm.objs = append(lm.objs, m)
			queue = append(queue, m)
		}
	}
	return libs, nil
}

// search looks for name needed by x the way the loader does. It returns
// the object found, how, the places looked, or a fatal finding for a
// candidate the loader would stop at.
func (c *Checker) search(lm *linkMap, x *lmObj, name string, libraryPath []string) (*lmObj, Via, []string, *Finding) {
	var looked []string
	try := func(p string, via Via, label string) (*lmObj, *Finding) {
		ref := lm.ref
		if ref == nil {
			ref = x.obj
		}
		// The loader checks the identification bytes first and skips a
		// file of another class, byte order or machine without reading on.
		if cl, d, m, ok := peekIdent(c.source(p)); ok && (cl != ref.Class || d != ref.Data || m != ref.Machine) {
			why := "wrong ELF class " + cl.String()
			if cl == ref.Class && d == ref.Data {
				why = "wrong machine " + m.String()
			} else if cl == ref.Class {
				why = "wrong byte order " + d.String()
			}
			looked = append(looked, fmt.Sprintf("%s (skipped: %s)", p, why))
			return nil, nil
		}
		o, k, err := c.load(p)
		if err != nil {
			if isFSErr(err) {
				return nil, nil
			}
			// The loader stops at a file it cannot use as ELF ("invalid ELF
			// header", "file too short").
			return nil, &Finding{Kind: BadLibrary, Object: x.path, Soname: name, Path: p, Detail: err.Error()}
		}
		if !sameKind(o, ref) {
			why := "wrong ELF class"
			if o.Class == ref.Class {
				why = "wrong machine " + o.Machine.String()
			}
			looked = append(looked, fmt.Sprintf("%s (skipped: %s)", p, why))
			return nil, nil
		}
		return &lmObj{obj: o, path: path.Clean(p), key: k}, nil
	}
	if strings.Contains(name, "/") {
		p := name
		if strings.Contains(p, "$") {
			var ok bool
			if p, ok = c.expand(p, x); !ok {
				return nil, ViaNotFound, []string{name + " (cannot expand)"}, nil
			}
		}
		if !path.IsAbs(p) {
			if c.opts.WorkDir == "" {
				return nil, ViaNotFound, []string{p + " (relative to the server's working directory: not searched)"}, nil
			}
			p = path.Join(c.opts.WorkDir, p)
		}
		looked = append(looked, p)
		m, bad := try(p, ViaPath, "")
		return m, ViaPath, looked, bad
	}
	dirs := func(list []string, owner *lmObj, via Via, label string) (*lmObj, *Finding) {
		for _, d := range list {
			if strings.Contains(d, "$") {
				e, ok := c.expand(d, owner)
				if !ok {
					looked = append(looked, d+" ("+label+", cannot expand)")
					continue
				}
				d = e
			}
			if d == "" || !path.IsAbs(d) {
				if c.opts.WorkDir == "" {
					looked = append(looked, fmt.Sprintf("%q (%s, relative to the server's working directory: not searched)", d, label))
					continue
				}
				d = path.Join(c.opts.WorkDir, d)
			}
			d = path.Clean(d)
			looked = append(looked, d+" ("+label+")")
			if m, bad := try(path.Join(d, name), via, label); m != nil || bad != nil {
				return m, bad
			}
		}
		return nil, nil
	}
	if lm.musl {
		// musl: LD_LIBRARY_PATH, then the RUNPATH (else RPATH) of the
		// needing object and of each object that loaded it, then the
		// default path.
		if m, bad := dirs(libraryPath, x, ViaLibraryPath, "LD_LIBRARY_PATH"); m != nil || bad != nil {
			return m, ViaLibraryPath, looked, bad
		}
		for l := x; l != nil; l = l.loader {
			rp, via, label := l.obj.RunPath, ViaRunPath, "RUNPATH"
			if len(rp) == 0 {
				rp, via, label = l.obj.RPath, ViaRPath, "RPATH"
			}
			if m, bad := dirs(rp, l, via, label); m != nil || bad != nil {
				return m, via, looked, bad
			}
		}
		if m, bad := dirs(c.defaultDirs(lm, x), x, ViaDefault, "default"); m != nil || bad != nil {
			return m, ViaDefault, looked, bad
		}
		return nil, ViaNotFound, looked, nil
	}
	// glibc (elf/dl-load.c, _dl_map_object).
	if len(x.obj.RunPath) == 0 {
		didMain := false
		for l := x; l != nil; l = l.loader {
			if len(l.obj.RunPath) > 0 {
				continue // DT_RPATH is ignored where DT_RUNPATH is present
			}
			if m, bad := dirs(l.obj.RPath, l, ViaRPath, "RPATH"); m != nil || bad != nil {
				return m, ViaRPath, looked, bad
			}
			didMain = didMain || l == lm.main
		}
		if main := lm.main; !didMain && main != nil && len(main.obj.RunPath) == 0 {
			if m, bad := dirs(main.obj.RPath, main, ViaRPath, "RPATH"); m != nil || bad != nil {
				return m, ViaRPath, looked, bad
			}
		}
	}
	if m, bad := dirs(libraryPath, x, ViaLibraryPath, "LD_LIBRARY_PATH"); m != nil || bad != nil {
		return m, ViaLibraryPath, looked, bad
	}
	if m, bad := dirs(x.obj.RunPath, x, ViaRunPath, "RUNPATH"); m != nil || bad != nil {
		return m, ViaRunPath, looked, bad
	}
	if x.obj.NoDefaultLib {
		looked = append(looked, noDefLibNote)
		return nil, ViaNotFound, looked, nil
	}
	if lc := c.ldcache(); lc != nil {
		ref := lm.ref
		if ref == nil {
			ref = x.obj
		}
		if p, ok := lc.Lookup(name, ref.Class, ref.Data, ref.Machine); ok {
			looked = append(looked, "ld.so.cache → "+p)
			if m, bad := try(p, ViaLDCache, "ld.so.cache"); m != nil || bad != nil {
				return m, ViaLDCache, looked, bad
			}
		} else {
			looked = append(looked, "ld.so.cache")
		}
	}
	if m, bad := dirs(c.defaultDirs(lm, x), x, ViaDefault, "default"); m != nil || bad != nil {
		return m, ViaDefault, looked, bad
	}
	return nil, ViaNotFound, looked, nil
}

func (c *Checker) defaultDirs(lm *linkMap, x *lmObj) []string {
	if c.opts.DefaultDirs != nil {
		return c.opts.DefaultDirs
	}
	ref := lm.ref
	if ref == nil {
		ref = x.obj
	}
	fam := Glibc
	if lm.musl {
		fam = Musl
	}
	return DefaultDirs(fam, ref.Class, ref.Data, ref.Machine)
}

// expand substitutes $ORIGIN, $LIB and $PLATFORM (also in the ${...}
// form) in a search path entry of owner. It reports false when a token
// cannot be expanded (the loader then drops the entry).
func (c *Checker) expand(s string, owner *lmObj) (string, bool) {
	ref := owner.obj
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		rest := s[i+1:]
		var tok string
		var n int
		if strings.HasPrefix(rest, "{") {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return "", false
			}
			tok, n = rest[1:end], end+2
		} else {
			j := 0
			for j < len(rest) && (rest[j] == '_' || rest[j] >= 'A' && rest[j] <= 'Z' || rest[j] >= 'a' && rest[j] <= 'z' || rest[j] >= '0' && rest[j] <= '9') {
				j++
			}
			tok, n = rest[:j], j+1
		}
		switch tok {
		case "ORIGIN":
			b.WriteString(path.Dir(owner.path))
		case "LIB":
			lib := c.opts.Lib
			if lib == "" {
				if t := triplet(ref.Arch); t != "" {
					lib = "lib/" + t
				} else {
					return "", false
				}
			}
			b.WriteString(lib)
		case "PLATFORM":
			p := c.opts.Platform
			if p == "" {
				switch ref.Arch {
				case "amd64":
					p = "x86_64"
				case "arm64":
					p = "aarch64"
				case "386":
					p = "i686"
				case "s390x":
					p = "s390x"
				default:
					return "", false
				}
			}
			b.WriteString(p)
		default:
			return "", false
		}
		i += n
	}
	return b.String(), true
}

// Check checks each module as if the server dlopen()ed it with
// RTLD_NOW|RTLD_GLOBAL, independently of the others (add modules that
// are loaded first to [Options.Global]; a module that is itself in Global
// is checked with the other Global modules loaded, so a package can list
// all its modules there and check each). modules are loader paths (the
// path the server will open, which sets $ORIGIN); map them to files with
// [Options.Overlay] when they are not there yet.
//
// A module that cannot load gets a report with fatal findings, not an
// error: the error is for what stops the check itself (a cancelled ctx, an
// unreadable server executable, [ErrTooManyObjects]). Use [Report.Err] or
// [Err] for the refusals.
func (c *Checker) Check(ctx context.Context, modules ...string) ([]*Report, error) {
	base, err := c.baseMap(ctx, "")
	if err != nil {
		return nil, err
	}
	reports := make([]*Report, 0, len(modules))
	for _, mod := range modules {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := base
		if a := absPath(mod); contains(c.opts.Global, a) {
			// A module listed in Global is checked with the others loaded.
			if b, err = c.baseMap(ctx, a); err != nil {
				return nil, err
			}
		}
		r, err := c.check(ctx, b, mod)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}
	return reports, nil
}

func (c *Checker) check(ctx context.Context, base *linkMap, mod string) (*Report, error) {
	mod = absPath(mod)
	rep := &Report{Module: mod}
	fail := func(k Kind, detail string) (*Report, error) {
		rep.Findings = append(rep.Findings, Finding{Kind: k, Module: mod, Object: mod, Detail: detail})
		return rep, nil
	}
	o, k, err := c.load(mod)
	if err != nil {
		return fail(NotLoadable, "cannot read it: "+err.Error())
	}
	rep.Object = o
	if base.ref != nil && !sameKind(o, base.ref) {
		what := fmt.Sprintf("%v %v", o.Class, o.Machine)
		return fail(WrongPlatform, fmt.Sprintf("it is %s (%s); the server is %s (%v %v)", nameOr(o.Arch, "unknown"), what, nameOr(base.ref.Arch, "unknown"), base.ref.Class, base.ref.Machine))
	}
	if base.main != nil && o.Libc != LibcUnknown && base.main.obj.Libc != LibcUnknown && o.Libc != base.main.obj.Libc {
		return fail(WrongLibc, fmt.Sprintf("it is built for %s; the server executable for %s", o.Libc, base.main.obj.Libc))
	}
	switch {
	case o.Type == elf.ET_EXEC:
		return fail(NotLoadable, "it is an executable (ET_EXEC), which dlopen cannot load")
	case o.PIE:
		return fail(NotLoadable, "it is a position-independent executable (DF_1_PIE), which dlopen refuses")
	case o.Type != elf.ET_DYN:
		return fail(NotLoadable, fmt.Sprintf("it is %v, not a shared object", o.Type))
	case !o.Dynamic:
		return fail(NotLoadable, "it has no dynamic section")
	}
	lm := base.clone()
	if lm.ref == nil {
		lm.ref = o
		lm.musl = o.Libc == Musl
	}
	if m := lm.find(mod, &k); m != nil {
		// Already loaded (a global module, or the server itself): dlopen
		// returns it.
		rep.Scope = len(lm.scope)
		return rep, nil
	}
	me := &lmObj{obj: o, path: mod, key: k, loader: lm.main, new: true}
	lm.objs = append(lm.objs, me)
	libs, err := c.closure(ctx, lm, []*lmObj{me}, rep)
	if err != nil {
		return nil, err
	}
	rep.Libraries = libs
	var local []*lmObj
	for _, m := range lm.objs {
		if m.new {
			local = append(local, m)
		}
	}
	scope := append(lm.scope, local...)
	rep.Scope = len(scope)
	c.checkVersions(lm, scope, local, rep)
	// The loader stops at the first library it cannot find: symbols are
	// only checked when the whole closure is there (a symbol of the
	// missing library would only repeat the finding).
	for _, f := range rep.Findings {
		if f.Kind == NotFound || f.Kind == BadLibrary {
			return rep, nil
		}
	}
	c.checkSymbols(lm, scope, local, rep)
	return rep, nil
}

// checkVersions models elf/dl-version.c and the C library comparison.
func (c *Checker) checkVersions(lm *linkMap, scope, local []*lmObj, rep *Report) {
	if lm.musl {
		return // musl ignores symbol versions
	}
	var libc *lmObj
	for _, m := range scope {
		if m.obj.Soname == "libc.so.6" || m.matches("libc.so.6") {
			libc = m
			break
		}
	}
	for _, m := range local {
		if CompareVersions(m.obj.GlibcRequired, rep.GlibcRequired) > 0 {
			rep.GlibcRequired = m.obj.GlibcRequired
		}
	}
	tooOld := false
	if libc != nil {
		rep.GlibcAvailable = libc.obj.GlibcProvided
		if rep.GlibcRequired != "" && rep.GlibcAvailable != "" && CompareVersions(rep.GlibcRequired, rep.GlibcAvailable) > 0 {
			tooOld = true
			rep.Findings = append(rep.Findings, Finding{Kind: GlibcTooOld, Module: rep.Module, Object: rep.Module, Version: rep.GlibcRequired, Path: libc.path, Detail: rep.GlibcAvailable})
		}
	}
	for _, m := range local {
		for _, vn := range m.obj.VersionNeeds {
			var dep *lmObj
			for _, s := range scope {
				if s.matches(vn.File) {
					dep = s
					break
				}
			}
			if dep == nil || !dep.obj.hasVersionDefs() {
				continue // not found (reported) or no version table: accepted
			}
			for _, v := range vn.Versions {
				if v.Weak || dep.obj.definesVersion(v.Name) {
					continue
				}
				if tooOld && strings.HasPrefix(v.Name, "GLIBC_") && isVersion(strings.TrimPrefix(v.Name, "GLIBC_")) {
					continue // said once by GlibcTooOld
				}
				f := Finding{Kind: MissingVersion, Module: rep.Module, Object: m.path, Soname: vn.File, Version: v.Name, Path: dep.path}
				if dep.obj.GlibcProvided != "" && strings.HasPrefix(v.Name, "GLIBC_") {
					f.Detail = "it defines up to GLIBC_" + dep.obj.GlibcProvided
				}
				rep.Findings = append(rep.Findings, f)
			}
		}
	}
}

// checkSymbols looks every undefined non-weak symbol of the new objects up
// in the scope.
func (c *Checker) checkSymbols(lm *linkMap, scope, local []*lmObj, rep *Report) {
	unknownInScope := false
	for _, s := range scope {
		if s.obj.SymbolsUnknown {
			unknownInScope = true
		}
	}
	for _, m := range local {
		if m.obj.SymbolsUnknown {
			rep.Findings = append(rep.Findings, Finding{Kind: Unchecked, Module: rep.Module, Object: m.path, Symbol: "*", Detail: "its symbols cannot be read (no section headers), so none is checked"})
			continue
		}
		for _, u := range m.obj.Undefined {
			if u.Weak() {
				continue
			}
			ref := u
			if lm.musl {
				ref.Version = ""
			}
			found := false
			for _, s := range scope {
				if s.obj.Provides(ref) {
					found = true
					break
				}
			}
			if found {
				continue
			}
			f := Finding{Kind: MissingSymbol, Module: rep.Module, Object: m.path, Symbol: u.Name, Version: ref.Version, Scope: len(scope)}
			f.Looked = expectedProviders(lm, m, ref)
			if lm.main == nil || unknownInScope {
				f.Kind = Unchecked
				if unknownInScope {
					f.Detail = "no object in scope with readable symbols defines it"
				}
			}
			rep.Findings = append(rep.Findings, f)
		}
	}
}

// expectedProviders names the libraries a missing symbol was expected
// from: the versioned reference's file, else the needing object's direct
// needs outside the C runtime, as "soname=path".
func expectedProviders(lm *linkMap, m *lmObj, ref Symbol) []string {
	var out []string
	add := func(name string) {
		for _, s := range lm.objs {
			if s.matches(name) {
				out = append(out, name+"="+s.path)
				return
			}
		}
	}
	if ref.Library != "" {
		add(ref.Library)
		return out
	}
	for _, n := range m.obj.Needed {
		if !IsCRuntime(n) {
			add(n)
		}
	}
	return out
}

// peekIdent reads the ELF identification and machine of the file at p.
// ok is false when p cannot be read or is not ELF.
func peekIdent(p string) (elf.Class, elf.Data, elf.Machine, bool) {
	f, err := os.Open(p)
	if err != nil {
		return 0, 0, 0, false
	}
	defer f.Close()
	var b [20]byte
	if _, err := io.ReadFull(f, b[:]); err != nil || string(b[:4]) != elf.ELFMAG {
		return 0, 0, 0, false
	}
	cl, d := elf.Class(b[elf.EI_CLASS]), elf.Data(b[elf.EI_DATA])
	var m uint16
	switch d {
	case elf.ELFDATA2LSB:
		m = binary.LittleEndian.Uint16(b[18:])
	case elf.ELFDATA2MSB:
		m = binary.BigEndian.Uint16(b[18:])
	default:
		return 0, 0, 0, false
	}
	return cl, d, elf.Machine(m), true
}

// absPath makes p absolute against the current directory and cleans it
// ("" stays ""): a relative path in Options means one relative to this
// process, not to the server's working directory.
func absPath(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return filepath.ToSlash(a)
	}
	return path.Clean(p)
}

func absPaths(l []string) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, p := range l {
		out[i] = absPath(p)
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
