package unpack

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
)

// tree is the unpacker's view of the root: handles to directories it has
// verified are real directories (not symlinks), keyed by clean
// root-relative path. Every create, remove and link happens through the
// handle of the entry's parent with a single-component name, so no
// operation resolves a symlink in a parent: writes through symlinks are
// impossible by construction, and deep paths cost one openat, not one per
// component.
type tree struct {
	root *os.Root
	dirs map[string]*os.Root

	// onMkdir is told about each directory the tree creates implicitly.
	onMkdir func(p string)
	// onUnlock is told the original mode of an existing directory the tree
	// had to make writable (mode 0555 from a lower layer), to restore it.
	onUnlock func(p string, fi fs.FileInfo)
}

// maxHandles bounds open directory handles; past it the cache is emptied.
const maxHandles = 256

func newTree(root *os.Root) *tree {
	return &tree{root: root, dirs: map[string]*os.Root{".": root}}
}

// dir returns a handle to directory d, creating missing components when
// create is set. It refuses a component that is a symlink
// ([ErrSymlinkParent]) or not a directory ([ErrNotDir]); without create, a
// missing component is an error wrapping fs.ErrNotExist.
func (t *tree) dir(d string, create bool) (*os.Root, error) {
	if h, ok := t.dirs[d]; ok {
		return h, nil
	}
	ph, err := t.dir(path.Dir(d), create)
	if err != nil {
		return nil, err
	}
	base := path.Base(d)
	fi, err := ph.Lstat(base)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		if err := ph.Mkdir(base, 0o700); err != nil {
			return nil, err
		}
		if t.onMkdir != nil {
			t.onMkdir(d)
		}
	case err != nil:
		return nil, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, detail(ErrSymlinkParent, "%q is a symlink", d)
	case !fi.IsDir():
		return nil, detail(ErrNotDir, "%q is a %s", d, kind(fi))
	case fi.Mode().Perm()&0o300 != 0o300:
		// A lower layer left it read-only; we must be able to write into it.
		if err := ph.Chmod(base, fi.Mode().Perm()|0o700); err != nil {
			return nil, err
		}
		if t.onUnlock != nil {
			t.onUnlock(d, fi)
		}
	}
	h, err := ph.OpenRoot(base)
	if err != nil {
		return nil, err
	}
	if fi != nil {
		// Belt and braces: the handle must be the directory we checked.
		hfi, err := h.Stat(".")
		if err != nil || !os.SameFile(fi, hfi) {
			h.Close()
			return nil, detail(ErrSymlinkParent, "%q changed while being opened", d)
		}
	}
	t.dirs[d] = h
	return h, nil
}

// parent returns the handle of p's parent directory (created if missing)
// and p's last component.
func (t *tree) parent(p string) (*os.Root, string, error) {
	if len(t.dirs) > maxHandles {
		t.closeAll()
	}
	h, err := t.dir(path.Dir(p), true)
	return h, path.Base(p), err
}

// forget drops cached handles at or under p, before p is removed or
// replaced.
func (t *tree) forget(p string) {
	for d, h := range t.dirs {
		if d != "." && under(d, p) {
			h.Close()
			delete(t.dirs, d)
		}
	}
}

func (t *tree) closeAll() {
	for d, h := range t.dirs {
		if d != "." {
			h.Close()
			delete(t.dirs, d)
		}
	}
}

// under reports whether p is q or inside q (both clean, root-relative).
func under(p, q string) bool {
	return q == "." || p == q || strings.HasPrefix(p, q+"/")
}

func kind(fi fs.FileInfo) string {
	switch m := fi.Mode(); {
	case m.IsRegular():
		return "regular file"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsDir():
		return "directory"
	default:
		return "special file"
	}
}
