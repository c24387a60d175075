package unpack

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
)

// tree is the unpacker's view of the root: handles to directories it has
// verified are real directories (not symlinks), keyed by their clean
// root-relative path. Every create, remove and link happens through the
// handle of the entry's real parent with a single-component name, so no
// operation ever resolves a symlink in the kernel: symlinks in a parent path
// are either resolved here, inside the root, or refused. Deep paths cost one
// map lookup, not one openat per component.
//
// A key of dirs is always a real path: each of its prefixes was a real
// directory when it was opened, and [tree.forget] drops every key at or under
// a path before it is removed or replaced, so a cached key never has a
// symlink among its prefixes.
type tree struct {
	root *handle
	dirs map[string]*handle

	// follow resolves symlinks in parent paths inside the root; when false
	// they are [ErrSymlinkParent] (Options.NoSymlinkParents).
	follow bool

	// onMkdir is told about each directory the tree is about to create
	// implicitly; an error refuses it.
	onMkdir func(p string) error
	// onUnlock is told the original mode of an existing directory the tree
	// had to make writable (mode 0555 from a lower layer), to restore it.
	onUnlock func(p string, fi fs.FileInfo)
}

// maxHandles bounds cached directory handles (each a descriptor); past it
// the cache is emptied at the next miss in [tree.dir].
const maxHandles = 256

// maxHops bounds the symlinks followed while resolving one path, like
// Linux's MAXSYMLINKS (40): past it the path is [ErrSymlinkLoop].
const maxHops = 40

func newTree(root *os.Root, follow bool) *tree {
	h := &handle{Root: root, fd: -1}
	return &tree{root: h, dirs: map[string]*handle{".": h}, follow: follow}
}

// handle is a verified real directory: its os.Root for most operations and,
// opened on first use, a descriptor for the raw file creation in
// sys_linux.go.
type handle struct {
	*os.Root
	dirFile *os.File // nil until fd is first needed
	fd      int
}

// close closes the handle, except the caller's root itself.
func (h *handle) close() {
	if h.dirFile != nil {
		h.dirFile.Close()
	}
	h.Root.Close()
}

// dir returns a handle to the real directory that clean root-relative path
// d names, and that directory's real path. With create, missing components
// are created (inside the root, at their resolved place); without it a
// missing component is an error wrapping fs.ErrNotExist.
//
// With follow, a component that is a symlink is resolved inside the root:
// an absolute target as if the root were "/", a relative one against the
// link's own (real) directory, ".." pops the real path resolved so far.
// Climbing above the root is [ErrLinkEscapes] (refused, never clamped), more
// than maxHops links is [ErrSymlinkLoop]. Without follow, a symlink
// component is [ErrSymlinkParent]. Either way a component that is neither is
// [ErrNotDir], and every directory is opened through its verified parent.
//
// The handle is valid until the next call of dir or parent: a miss with a
// full cache closes every cached handle first, so the descriptors held stay
// under maxHandles plus one walk's worth. Callers must not keep a handle
// across a call.
func (t *tree) dir(d string, create, follow bool) (*handle, string, error) {
	if h, ok := t.dirs[d]; ok {
		return h, d, nil
	}
	if len(t.dirs) > maxHandles {
		t.closeAll()
	}
	follow = follow && t.follow
	cur, h, rest := t.longestCached(d)
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		if c == ".." {
			// Only link targets bring ".." here (entry names are clean);
			// cur is real, so its lexical parent is its real parent.
			if cur == "." {
				return nil, "", detail(ErrLinkEscapes, "resolving %q climbs out of the root", d)
			}
			cur = path.Dir(cur)
			if h = t.dirs[cur]; h == nil { // evicted: walk cur again
				rest = append(split(cur), rest...)
				cur, h = ".", t.root
			}
			continue
		}
		next := join(cur, c)
		if nh, ok := t.dirs[next]; ok {
			cur, h = next, nh
			continue
		}
		nh, target, err := t.open(h, next, c, create)
		if err != nil {
			return nil, "", err
		}
		if nh != nil {
			cur, h = next, nh
			continue
		}
		// c is a symlink.
		if !follow {
			return nil, "", detail(ErrSymlinkParent, "%q is a symlink", next)
		}
		if hops++; hops > maxHops {
			return nil, "", detail(ErrSymlinkLoop, "resolving %q follows more than %d symlinks", d, maxHops)
		}
		if strings.HasPrefix(target, "/") {
			cur, h = ".", t.root // absolute: as if the root were "/"
		}
		rest = append(split(target), rest...)
	}
	return h, cur, nil
}

// open opens component c (real path p) in the real directory h: a handle if
// it is a directory (created when missing and create is set), or its
// target if it is a symlink.
func (t *tree) open(h *handle, p, c string, create bool) (*handle, string, error) {
	fi, err := h.Lstat(c)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		if t.onMkdir != nil {
			// Before creating: it may refuse (a limit).
			if err := t.onMkdir(p); err != nil {
				return nil, "", err
			}
		}
		if err := h.Mkdir(c, 0o700); err != nil {
			return nil, "", err
		}
		fi = nil
	case err != nil:
		return nil, "", err
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := h.Readlink(c)
		if err == nil && target == "" {
			err = detail(ErrInvalidName, "symlink %q has an empty target", p)
		}
		return nil, target, err
	case !fi.IsDir():
		return nil, "", detail(ErrNotDir, "%q is a %s", p, kind(fi))
	case fi.Mode().Perm()&0o300 != 0o300:
		// A lower layer left it read-only; we must be able to write into it.
		if err := h.Chmod(c, fi.Mode().Perm()|0o700); err != nil {
			return nil, "", err
		}
		if t.onUnlock != nil {
			t.onUnlock(p, fi)
		}
	}
	r, err := h.OpenRoot(c)
	if err != nil {
		return nil, "", err
	}
	// os.Root would follow a symlink swapped in since the Lstat: the
	// handle must be the directory we checked (or, created, a directory).
	hfi, err := r.Stat(".")
	if err != nil || (fi != nil && !os.SameFile(fi, hfi)) || !hfi.IsDir() {
		r.Close()
		return nil, "", detail(ErrSymlinkParent, "%q changed while being opened", p)
	}
	nh := &handle{Root: r, fd: -1}
	t.dirs[p] = nh
	return nh, "", nil
}

// longestCached splits clean path p into its longest cached (so real)
// prefix, that prefix's handle, and the components left to walk.
func (t *tree) longestCached(p string) (string, *handle, []string) {
	for q := p; q != "."; q = path.Dir(q) {
		if h, ok := t.dirs[q]; ok {
			return q, h, split(p[len(q):])
		}
	}
	return ".", t.root, split(p)
}

// parent returns the handle of p's real parent directory (created if
// missing), that parent's real path, and p's last component, which is never
// followed.
func (t *tree) parent(p string) (*handle, string, string, error) {
	h, dir, err := t.dir(path.Dir(p), true, true)
	return h, dir, path.Base(p), err
}

// forget drops cached handles at or under p, before p is removed or
// replaced.
func (t *tree) forget(p string) {
	for d, h := range t.dirs {
		if d != "." && under(d, p) {
			h.close()
			delete(t.dirs, d)
		}
	}
}

// release closes every handle the tree opened, leaving the caller's root
// open.
func (t *tree) release() {
	t.closeAll()
	if t.root.dirFile != nil {
		t.root.dirFile.Close()
		t.root.dirFile, t.root.fd = nil, -1
	}
}

func (t *tree) closeAll() {
	for d, h := range t.dirs {
		if d != "." {
			h.close()
			delete(t.dirs, d)
		}
	}
}

// join appends component c to the clean root-relative directory dir.
func join(dir, c string) string {
	if dir == "." {
		return c
	}
	return dir + "/" + c
}

// split returns the non-empty, non-"." components of p.
func split(p string) []string {
	var out []string
	for c := range strings.SplitSeq(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
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
