package layout

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// readExtensions parses the control files and sorts the scripts into
// extensions. A tree without control files (loadable modules or programs
// only) has no extension; one with control files but no primary one is
// an error.
func (t *Tree) readExtensions(ctx context.Context) error {
	byName := map[string]*Extension{}
	controls := map[string]string{} // extension name -> path of its primary control file
	var secondary []Control
	var found bool
	for _, f := range t.Files {
		if f.Kind != FileControl || f.Link != "" {
			continue
		}
		found = true
		c, err := t.parseControlFile(f.Path)
		if err != nil {
			return err
		}
		if c.Version != "" {
			secondary = append(secondary, c)
			continue
		}
		if path.Dir(f.Path) != path.Join(t.ShareDir, "extension") {
			continue // a primary control file is only found in extension/
		}
		if err := t.checkDirectory(f.Path, c); err != nil {
			return err
		}
		byName[c.Name] = &Extension{Name: c.Name, Control: c}
		controls[c.Name] = f.Path
	}
	if len(byName) == 0 {
		if found {
			return fmt.Errorf("%w: %s: %v", ErrNotTree, t.Root, errNoExtension)
		}
		return nil
	}
	t.unversionControls(byName, controls)
	for _, c := range secondary {
		if e := byName[c.Name]; e != nil {
			e.Secondary = append(e.Secondary, c)
		}
	}
	for _, f := range t.Files {
		if f.Kind == FileScript {
			t.addScript(byName, f.Path)
		}
	}
	scanned := map[string][]string{} // script file -> its module references
	for _, e := range byName {
		if err := t.scanModules(ctx, e, scanned); err != nil {
			return err
		}
		slices.SortFunc(e.Secondary, func(a, b Control) int { return CompareVersions(a.Version, b.Version) })
		slices.SortFunc(e.Versions, CompareVersions)
		slices.SortFunc(e.Upgrades, func(a, b Upgrade) int {
			if c := CompareVersions(a.From, b.From); c != 0 {
				return c
			}
			return CompareVersions(a.To, b.To)
		})
		t.Extensions = append(t.Extensions, *e)
	}
	slices.SortFunc(t.Extensions, func(a, b Extension) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// checkDirectory refuses a control file whose directory parameter the
// image layout cannot honour: an absolute path names a directory of the
// build machine, and one that climbs out of the share directory names
// nothing the image carries.
func (t *Tree) checkDirectory(file string, c Control) error {
	d := c.Directory
	if d == "" {
		return nil
	}
	if path.IsAbs(d) {
		return &ControlError{File: file, Err: ErrDirectory,
			Msg: fmt.Sprintf("directory = %q is absolute: an image can only carry scripts under share/ (make it relative to the share directory)", d)}
	}
	if j := path.Clean(d); j == "." || j == ".." || strings.HasPrefix(j, "../") {
		return &ControlError{File: file, Err: ErrDirectory,
			Msg: fmt.Sprintf("directory = %q does not name a directory under the share directory", d)}
	}
	return nil
}

// versionedControl matches the control file name of an extension packaged
// under a major-versioned name, such as Debian's postgis-3.
var versionedControl = regexp.MustCompile(`^(.+)-([0-9]+)$`)

// unversionControls renames the extensions whose control file carries a
// major suffix but whose scripts do not: Debian ships PostGIS as
// postgis-3.control beside postgis--3.3.2.sql and makes postgis.control a
// link to it when the package is installed. When <name>-<N>.control has
// no script of its own, <name>--*.sql scripts exist and no <name>.control
// does, the extension is <name>, and its control file goes to
// share/extension/<name>.control in the image.
func (t *Tree) unversionControls(byName map[string]*Extension, controls map[string]string) {
	scripted := map[string]bool{}
	for _, f := range t.Files {
		if f.Kind == FileScript {
			name, _, _ := strings.Cut(strings.TrimSuffix(path.Base(f.Path), ".sql"), "--")
			scripted[path.Join(path.Dir(f.Path), name)] = true
		}
	}
	for name, e := range byName {
		m := versionedControl.FindStringSubmatch(name)
		dir := t.scriptDir(e)
		if m == nil || scripted[path.Join(dir, name)] || !scripted[path.Join(dir, m[1])] || byName[m[1]] != nil {
			continue
		}
		delete(byName, name)
		e.Name, e.Control.Name = m[1], m[1]
		byName[m[1]] = e
		for i := range t.Files {
			if t.Files[i].Path == controls[name] {
				t.Files[i].Target = DirExtension + "/" + m[1] + ".control"
			}
		}
	}
}

func (t *Tree) parseControlFile(rel string) (Control, error) {
	f, err := os.Open(filepath.Join(t.Root, filepath.FromSlash(rel)))
	if err != nil {
		return Control{}, err
	}
	defer f.Close()
	return ParseControl(f, rel)
}

// scriptDir is where the server looks for the scripts of e: the control
// file's directory parameter, relative to the share directory, or
// share/extension.
func (t *Tree) scriptDir(e *Extension) string {
	d := e.Control.Directory
	if d == "" || path.IsAbs(d) {
		return path.Join(t.ShareDir, "extension")
	}
	return path.Join(t.ShareDir, d)
}

// addScript files the script rel under its extension if its name is
// name--version.sql or name--from--to.sql and it lies in the extension's
// script directory.
func (t *Tree) addScript(byName map[string]*Extension, rel string) {
	base := strings.TrimSuffix(path.Base(rel), ".sql")
	parts := strings.Split(base, "--")
	e := byName[parts[0]]
	if e == nil || path.Dir(rel) != t.scriptDir(e) {
		return
	}
	switch {
	case len(parts) == 2 && parts[1] != "":
		e.Versions = append(e.Versions, parts[1])
	case len(parts) == 3 && parts[1] != "" && parts[2] != "":
		e.Upgrades = append(e.Upgrades, Upgrade{From: parts[1], To: parts[2], Path: rel})
	}
}

// moduleRefs finds '$libdir/name' references and the obj_file of
// `AS 'obj_file', 'link_symbol'`, which only C functions have. They are
// compiled on first use, by pack: their counted repetitions make programs
// of thousands of instructions, some 4 ms that every process paid at
// start, pack or not.
var moduleRefs = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(`'\$libdir/([^'/\\\n]{1,255})'`),
		regexp.MustCompile(`(?i)\bAS\s+'([A-Za-z0-9_.-]{1,255})'\s*,\s*'`),
	}
})

// scanModules collects the modules e references, from its control files
// and scripts. scanned holds the references of the files already read,
// by resolved path: PostGIS ships some 600 update scripts that are links
// to a few large files, each read once.
func (t *Tree) scanModules(ctx context.Context, e *Extension, scanned map[string][]string) error {
	mods := map[string]bool{}
	add := func(ref string) {
		if n := moduleRef(ref); n != "" {
			mods[n] = true
		}
	}
	add(e.Control.ModulePathname)
	for _, c := range e.Secondary {
		add(c.ModulePathname)
	}
	scripts := make([]string, 0, len(e.Versions)+len(e.Upgrades))
	for _, v := range e.Versions {
		scripts = append(scripts, path.Join(t.scriptDir(e), e.Name+"--"+v+".sql"))
	}
	for _, u := range e.Upgrades {
		scripts = append(scripts, u.Path)
	}
	for _, s := range scripts {
		file, err := filepath.EvalSymlinks(filepath.Join(t.Root, filepath.FromSlash(s)))
		if err != nil {
			return fmt.Errorf("layout: scanning %s: %w", s, err)
		}
		refs, ok := scanned[file]
		if !ok {
			if refs, err = scanScript(ctx, file); err != nil {
				return fmt.Errorf("layout: scanning %s: %w", s, err)
			}
			scanned[file] = refs
		}
		for _, r := range refs {
			add(r)
		}
	}
	e.Modules = slices.Sorted(mapKeys(mods))
	return nil
}

// moduleRef turns a module reference ("$libdir/hstore", "hstore.so",
// "MODULE_PATHNAME") into a module name, "" if it names none.
func moduleRef(ref string) string {
	ref = strings.TrimPrefix(ref, "$libdir/")
	if ref == "" || ref == "MODULE_PATHNAME" || strings.ContainsAny(ref, "/$") {
		return ""
	}
	if n := moduleName(ref); n != "" {
		return n
	}
	return ref
}

// scanScript returns the module references of one SQL script, reading it in
// chunks with an overlap so that no reference is cut in two.
func scanScript(ctx context.Context, file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const chunk, overlap = 64 << 10, 1 << 10
	buf := make([]byte, 0, chunk+overlap)
	var refs []string
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, rerr := io.ReadFull(f, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		for _, re := range moduleRefs() {
			for _, m := range re.FindAllSubmatch(buf, -1) {
				refs = append(refs, string(m[1]))
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return refs, nil
		}
		if rerr != nil {
			return nil, rerr
		}
		keep := min(overlap, len(buf))
		buf = append(buf[:0], buf[len(buf)-keep:]...)
	}
}

// deriveModules lists the tree's modules, those no extension references
// and the preload hints.
func (t *Tree) deriveModules(opts Options) {
	have := map[string]bool{}
	for _, f := range t.Files {
		if f.Kind == FileModule && f.Target != "" {
			have[moduleName(path.Base(f.Path))] = true
		}
	}
	t.Modules = slices.Sorted(mapKeys(have))
	used := map[string]bool{}
	for i := range t.Extensions {
		e := &t.Extensions[i]
		// A bare AS 'name' only counts when the tree has such a module.
		e.Modules = slices.DeleteFunc(e.Modules, func(m string) bool {
			return !have[m] && !strings.EqualFold(m, moduleRef(e.Control.ModulePathname))
		})
		for _, m := range e.Modules {
			used[m] = true
		}
	}
	for _, m := range t.Modules {
		if !used[m] {
			t.LoadOnly = append(t.LoadOnly, m)
		}
	}
	want := map[string]bool{}
	for _, m := range append(slices.Clone(KnownPreload), opts.Preload...) {
		if n := moduleRef(m); n != "" && have[n] {
			want[n] = true
		}
	}
	t.Preload = slices.Sorted(mapKeys(want))
}

// Extension returns the extension called name, or nil.
func (t *Tree) Extension(name string) *Extension {
	for i := range t.Extensions {
		if t.Extensions[i].Name == name {
			return &t.Extensions[i]
		}
	}
	return nil
}
