package layout

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// selectExtensions keeps the named extensions of the tree and unmaps every
// file none of them uses: other extensions, modules that none of them
// references, programs and stray share files. License texts stay.
func (t *Tree) selectExtensions(names []string) error {
	var kept []Extension
	for _, n := range names {
		e := t.Extension(n)
		if e == nil {
			return fmt.Errorf("%w: %s provides no extension %q (it has %s)", ErrNotTree, t.Root, n, strings.Join(t.extensionNames(), ", "))
		}
		if !slices.ContainsFunc(kept, func(k Extension) bool { return k.Name == e.Name }) {
			kept = append(kept, *e)
		}
	}
	slices.SortFunc(kept, func(a, b Extension) int { return strings.Compare(a.Name, b.Name) })
	keep := func(f File) bool {
		if f.Kind == FileLicense {
			return true
		}
		return slices.ContainsFunc(kept, func(e Extension) bool { return t.uses(&e, f) })
	}
	for i := range t.Files {
		if !keep(t.Files[i]) {
			t.Files[i].Target = ""
		}
	}
	t.Extensions = kept
	return nil
}

// uses reports whether file f belongs to extension e: one of its control
// files or scripts, a file of its own script directory, one of the
// modules it references or their bitcode.
func (t *Tree) uses(e *Extension, f File) bool {
	switch f.Kind {
	case FileControl:
		name, _, _ := ParseControlFileName(f.Path)
		return name == e.Name || f.Target == DirExtension+"/"+e.Name+".control"
	case FileScript, FileShare:
		if e.Control.Directory != "" && path.Dir(f.Path) == t.scriptDir(e) {
			return true
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(path.Base(f.Path), ".sql"), "--")
		return f.Kind == FileScript && name == e.Name && path.Dir(f.Path) == t.scriptDir(e)
	case FileModule:
		return slices.Contains(e.Modules, moduleName(path.Base(f.Path)))
	case FileBitcode:
		rel := strings.TrimPrefix(f.Target, DirBitcode+"/")
		return slices.ContainsFunc(e.Modules, func(m string) bool {
			return rel == m+".index.bc" || strings.HasPrefix(rel, m+"/")
		})
	}
	return false
}

func (t *Tree) extensionNames() []string {
	names := make([]string, len(t.Extensions))
	for i, e := range t.Extensions {
		names[i] = e.Name
	}
	return names
}
