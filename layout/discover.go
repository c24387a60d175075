package layout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Kind says what shape of directory Discover found.
type Kind int

const (
	// KindLayout is an image root in the layout of this package
	// (share/extension, lib, system, bin, licenses).
	KindLayout Kind = iota + 1
	// KindDESTDIR is the output of `make install DESTDIR=...` or an
	// unpacked distribution package: pg_config-style directories such as
	// usr/share/postgresql/18/extension and usr/lib/postgresql/18/lib.
	KindDESTDIR
)

func (k Kind) String() string {
	switch k {
	case KindLayout:
		return "layout"
	case KindDESTDIR:
		return "destdir"
	}
	return "unknown"
}

// FileKind is the role of one file of a tree.
type FileKind int

const (
	FileOther     FileKind = iota // not part of the extension: not mapped
	FileControl                   // a primary or secondary control file
	FileScript                    // an install or upgrade SQL script
	FileShare                     // any other file under the share directory
	FileModule                    // a loadable module (*.so, *.dylib) in lib
	FileLib                       // any other file under lib
	FileBitcode                   // LLVM bitcode under lib/bitcode
	FileSystemLib                 // an OS shared library under system
	FileBin                       // a program under bin
	FileLicense                   // a license text
)

var fileKindNames = [...]string{"other", "control", "script", "share", "module", "lib",
	"bitcode", "system", "bin", "license"}

func (k FileKind) String() string {
	if int(k) < len(fileKindNames) {
		return fileKindNames[k]
	}
	return "unknown"
}

// File is one file or symbolic link of a discovered tree.
type File struct {
	Path   string      // slash-separated, relative to Tree.Root
	Target string      // its path in the image root layout; "" when not mapped
	Kind   FileKind    // its role
	Mode   fs.FileMode // type and permission bits as found
	Size   int64       // size on disk
	Link   string      // the target of a symbolic link, else ""
}

// Upgrade is an update script name--From--To.sql.
type Upgrade struct {
	From, To string
	Path     string // relative to Tree.Root
}

// Extension is one SQL extension found in a tree.
type Extension struct {
	Name      string
	Control   Control   // the primary control file
	Secondary []Control // secondary control files, by version
	// Versions are the versions that have an install script
	// (name--version.sql), sorted.
	Versions []string
	// Upgrades are the update scripts, sorted.
	Upgrades []Upgrade
	// Modules are the module names the extension uses: its
	// module_pathname and the '$libdir/name' references of its scripts,
	// without directory or suffix, sorted.
	Modules []string
}

// Tree is what Discover found in a directory.
type Tree struct {
	Root    string // absolute, symlinks resolved
	Kind    Kind
	PGMajor int // PostgreSQL major version read from the paths, 0 if unknown

	// ShareDir, LibDir and BinDir are the tree's sharedir, pkglibdir and
	// bindir, relative to Root ("share", "lib", "bin" for a layout root).
	ShareDir, LibDir, BinDir string

	Extensions []Extension // sorted by name
	// Modules are the loadable modules in LibDir, by name without suffix.
	Modules []string
	// LoadOnly are modules that no extension of the tree references: a
	// library-only module (such as auto_explain) used with LOAD or
	// *_preload_libraries.
	LoadOnly []string
	// Preload are the modules that should go into
	// shared_preload_libraries: see Options.Preload.
	Preload []string
	// Programs are the programs in BinDir, by path below it ("pg_repack").
	Programs []string
	// Files are every file and symbolic link of the tree, sorted by Path;
	// those with no Target are left out of the image.
	Files []File
	// Package names the licenses directory (licenses/<Package>/).
	Package string
}

// Provides reports whether the tree holds anything PostgreSQL can use:
// an extension, a loadable module or a program.
func (t *Tree) Provides() bool {
	return len(t.Extensions)+len(t.Modules)+len(t.Programs) > 0
}

// Options tunes Discover. The zero value is ready to use.
type Options struct {
	// Package is the package name used for licenses/<Package>/. The
	// default is the name of the first extension in sorted order.
	Package string
	// Extensions selects the extensions to keep from a tree that holds
	// more (a server's own tree, say): only their control files, scripts,
	// script directories, the modules they use and those modules' bitcode
	// are mapped; other extensions, modules and programs are left out. A
	// name the tree does not provide is an error. Default: everything.
	Extensions []string
	// Preload names modules that must be listed in
	// shared_preload_libraries. Whether a module needs preloading cannot
	// be read from its files (it is whatever its _PG_init does), so
	// Discover uses a list of well-known modules that do (KnownPreload)
	// plus these names; a module is reported only if the tree holds it.
	Preload []string
}

// KnownPreload lists modules known to need shared_preload_libraries (they
// register hooks, shared memory or background workers in _PG_init). It is a
// heuristic: add others with Options.Preload.
var KnownPreload = []string{"auto_explain", "bgw_replstatus", "citus", "pg_cron", "pg_failover_slots",
	"pg_partman_bgw", "pg_qualstats", "pg_squeeze", "pg_stat_kcache", "pg_stat_monitor",
	"pg_stat_statements", "pg_wait_sampling", "pgaudit", "pgauditlogtofile", "pgautofailover", "pglogical", "pgsentinel",
	"timescaledb"}

// Discover examines dir, a layout root or a DESTDIR tree, and reports its
// extensions, modules and files with their places in the image root layout.
// It reads control files and scans SQL scripts; it never follows symbolic
// links, and refuses one whose target is absolute or leaves dir
// (ErrSymlinkEscape). A directory with no control file, or with control
// files under several share directories (two PostgreSQL majors, say), is
// ErrNotTree.
func Discover(ctx context.Context, dir string, opts Options) (*Tree, error) {
	root, err := resolveRoot(dir)
	if err != nil {
		return nil, err
	}
	files, err := walk(ctx, root)
	if err != nil {
		return nil, err
	}
	t := &Tree{Root: root, Files: files}
	if err := t.findDirs(); err != nil {
		return nil, err
	}
	t.classify()
	if err := t.readExtensions(ctx); err != nil {
		return nil, err
	}
	if len(opts.Extensions) > 0 {
		if err := t.selectExtensions(opts.Extensions); err != nil {
			return nil, err
		}
	}
	t.deriveModules(opts)
	t.derivePrograms()
	if !t.Provides() {
		return nil, fmt.Errorf("%w: %s holds nothing PostgreSQL can use: no extension, no loadable module in %s and no program in %s", ErrNotTree, t.Root, t.LibDir, t.BinDir)
	}
	t.Package = cmp.Or(opts.Package, t.defaultPackage())
	t.mapLicenses()
	return t, nil
}

// defaultPackage names a package after its main extension (the one the
// others of the tree require most: postgis among postgis_raster,
// postgis_topology and address_standardizer; ties go to the first
// name), else its first module, else its first program, without what
// follows a dot (slony1_funcs.2.2.11.so gives slony1_funcs).
func (t *Tree) defaultPackage() string {
	var name string
	switch {
	case len(t.Extensions) > 0:
		return t.mainExtension()
	case len(t.Modules) > 0:
		name = t.Modules[0]
	case len(t.Programs) > 0:
		name = path.Base(t.Programs[0])
	}
	name, _, _ = strings.Cut(name, ".")
	return name
}

// mainExtension is the extension the tree's other extensions require
// most, the first by name on a tie.
func (t *Tree) mainExtension() string {
	best, most := t.Extensions[0].Name, 0
	for _, e := range t.Extensions {
		n := 0
		for _, o := range t.Extensions {
			if slices.Contains(o.Control.Requires, e.Name) {
				n++
			}
		}
		if n > most {
			best, most = e.Name, n
		}
	}
	return best
}

// derivePrograms lists the mapped programs.
func (t *Tree) derivePrograms() {
	for _, f := range t.Files {
		if f.Kind == FileBin && f.Target != "" {
			t.Programs = append(t.Programs, strings.TrimPrefix(f.Target, DirBin+"/"))
		}
	}
}

func resolveRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(root)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%w: %s is not a directory", ErrNotTree, dir)
	}
	return root, nil
}

// walk lists the files and symbolic links under root, without following
// links, and checks that each link stays inside root.
func walk(ctx context.Context, root string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := File{Path: filepath.ToSlash(rel), Mode: info.Mode(), Size: info.Size()}
		if info.Mode()&fs.ModeSymlink != 0 {
			if f.Link, err = checkLink(p, f.Path); err != nil {
				return err
			}
		} else if !info.Mode().IsRegular() {
			return nil // devices, fifos, sockets are never part of an image
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// checkLink reads the link at p (rel inside the tree) and refuses absolute
// targets and targets that climb out of the tree.
func checkLink(p, rel string) (string, error) {
	target, err := os.Readlink(p)
	if err != nil {
		return "", err
	}
	target = filepath.ToSlash(target)
	if escapes(rel, target) {
		return "", fmt.Errorf("%w: %s -> %s", ErrSymlinkEscape, rel, target)
	}
	return target, nil
}

// escapes reports whether the link at rel with target leaves the tree,
// judged lexically.
func escapes(rel, target string) bool {
	if path.IsAbs(target) || target == "" {
		return true
	}
	j := path.Join(path.Dir(rel), target)
	return j == ".." || strings.HasPrefix(j, "../")
}

// under returns the part of p below dir, and whether p is below dir.
func under(p, dir string) (string, bool) {
	if dir == "" || dir == "." {
		return p, true
	}
	return strings.CutPrefix(p, dir+"/")
}

// classify gives every file its kind and layout path.
func (t *Tree) classify() {
	for i := range t.Files {
		f := &t.Files[i]
		f.Kind, f.Target = t.classifyOne(f.Path)
	}
}

func (t *Tree) classifyOne(p string) (FileKind, string) {
	if rel, ok := under(p, t.ShareDir); ok {
		target := DirShare + "/" + rel
		switch {
		case strings.HasSuffix(rel, ".control"):
			return FileControl, target
		case strings.HasSuffix(rel, ".sql"):
			return FileScript, target
		}
		return FileShare, target
	}
	if rel, ok := under(p, t.LibDir); ok {
		target := DirLib + "/" + rel
		switch {
		case strings.HasPrefix(rel, "bitcode/"):
			return FileBitcode, target
		case !strings.Contains(rel, "/") && moduleName(rel) != "":
			return FileModule, target
		}
		return FileLib, target
	}
	if rel, ok := under(p, t.BinDir); ok {
		return FileBin, DirBin + "/" + rel
	}
	if t.Kind == KindLayout {
		if _, ok := under(p, DirSystem); ok {
			return FileSystemLib, p
		}
		if _, ok := under(p, DirLicenses); ok {
			return FileLicense, p
		}
	}
	if isLicenseName(path.Base(p)) {
		return FileLicense, "" // placed by mapLicenses once the package is known
	}
	return FileOther, ""
}

// moduleName returns the module name of a loadable module file name
// ("hstore.so" -> "hstore"), or "" if the name is not one.
func moduleName(base string) string {
	for _, suf := range []string{".so", ".dylib", ".dll"} {
		if n, ok := strings.CutSuffix(base, suf); ok && n != "" {
			return n
		}
	}
	return ""
}

var licenseName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|copyright|notice|unlicense)([._-].*)?$`)

func isLicenseName(base string) bool { return licenseName.MatchString(base) }

// mapLicenses places license files found outside the known directories:
// usr/share/doc/<pkg>/copyright goes to licenses/<pkg>/copyright (the
// CloudNativePG convention), any other to licenses/<Package>/<name>.
func (t *Tree) mapLicenses() {
	for i := range t.Files {
		f := &t.Files[i]
		if f.Kind != FileLicense || f.Target != "" {
			continue
		}
		dir := path.Dir(f.Path)
		if path.Base(path.Dir(dir)) == "doc" {
			f.Target = LicensePath(path.Base(dir), path.Base(f.Path))
		} else {
			f.Target = LicensePath(t.Package, path.Base(f.Path))
		}
	}
}

// errNoExtension is wrapped when a tree has control files but none is a
// primary one.
var errNoExtension = errors.New("no primary control file")
