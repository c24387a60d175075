package unpack

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// blockSize is the tar block size: every body is padded to a multiple.
const blockSize = 512

// applier is the tar stage: it reads entries and applies them to the tree.
// It runs on the caller's goroutine and owns all filesystem state.
type applier struct {
	ctx   context.Context
	t     *tree
	opts  Options
	lim   Limits
	stats *Stats
	chown bool

	// layer holds every path this layer created or replaced, so an opaque
	// marker that comes after its siblings keeps them.
	layer map[string]bool
	// meta holds directory metadata applied at the end of the layer,
	// deepest first, so read-only directories can still be filled and
	// mtimes are not disturbed by later entries.
	meta map[string]dirMeta
	// touched holds directories whose contents changed (for Durable).
	touched map[string]bool
	// known indexes the keys of meta and touched by directory, for forget.
	known pathIndex
	// implied counts the directories created for entries' parent paths,
	// which count against Limits.Entries with the entries themselves.
	implied int64
	// src is the tar stream; file bodies are taken from it in place.
	src *chunkReader
	// tookBody is set when an entry's body (and padding) was read from
	// src directly, past the tar.Reader, which must then be replaced.
	tookBody bool
	// sums hashes file contents for Options.FileDigest on its own
	// goroutine; nil without it.
	sums *fileHasher
}

type dirMeta struct {
	mode     fs.FileMode
	mtime    time.Time // zero: leave as is
	uid, gid int       // -1: leave as is
}

func newApplier(ctx context.Context, root *os.Root, opts Options, st *Stats, src *chunkReader) *applier {
	a := &applier{
		ctx: ctx, t: newTree(root, !opts.NoSymlinkParents), opts: opts, lim: opts.Limits, stats: st,
		chown: opts.PreserveOwnership && os.Geteuid() == 0,
		layer: map[string]bool{}, meta: map[string]dirMeta{}, touched: map[string]bool{},
		known: pathIndex{},
		src:   src,
	}
	if opts.FileDigest != nil {
		a.sums = newFileHasher(opts.FileDigest)
	}
	a.t.onMkdir = func(p string) error {
		// Implied directories count against Entries too: otherwise each
		// entry could create Depth-1 of them, and the caps on entries and
		// bytes would not bound what lands on disk (or in a.meta).
		a.implied++
		if n := st.Entries + a.implied; over(n, a.lim.Entries) {
			return limitErr("Entries", n, a.lim.Entries)
		}
		st.Dirs++
		a.mark(p)
		a.touch(path.Dir(p))
		a.setMeta(p, dirMeta{mode: 0o755, uid: -1, gid: -1})
		return nil
	}
	a.t.onUnlock = func(p string, fi fs.FileInfo) {
		if _, ok := a.meta[p]; !ok {
			a.setMeta(p, dirMeta{mode: fi.Mode().Perm() | fi.Mode()&(fs.ModeSetgid|fs.ModeSetuid|fs.ModeSticky), mtime: fi.ModTime(), uid: -1, gid: -1})
		}
	}
	return a
}

// run applies every entry of the stream, then the deferred directory
// metadata.
func (a *applier) run() error {
	defer a.t.release()
	if a.sums != nil {
		defer a.sums.wait()
	}
	tr := tar.NewReader(a.src)
	for {
		if a.tookBody {
			// The last entry's body and padding were read past tr, which
			// keeps no other state between entries: the next header is
			// next in the stream, for a fresh reader.
			tr = tar.NewReader(a.src)
			a.tookBody = false
		}
		if err := a.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, tar.ErrInsecurePath) && hdr != nil {
			err = nil // we apply our own, stricter, name rules
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return tarErr(err)
		}
		a.stats.Entries++
		if n := a.stats.Entries + a.implied; over(n, a.lim.Entries) {
			return limitErr("Entries", n, a.lim.Entries)
		}
		if err := a.entry(hdr); err != nil {
			return entryErr(hdr.Name, tarErr(err))
		}
	}
	if err := a.finishDirs(); err != nil {
		return err
	}
	if a.opts.Durable {
		return a.syncDirs()
	}
	return nil
}

// tarErr maps archive/tar and io errors to this package's sentinels; errors
// that already carry one (from the verifier, the limits, the pipe) pass.
func tarErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: tar: %v", ErrTruncated, err)
	case errors.Is(err, tar.ErrFieldTooLong):
		return detail(ErrInvalidName, "tar: a PAX or GNU long header is over 1 MiB")
	case errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("%w: tar: %v", ErrCorrupt, err)
	}
	return err
}

func (a *applier) entry(hdr *tar.Header) error {
	if hdr.Typeflag == tar.TypeGNUSparse || hasSparsePAX(hdr) {
		return ErrSparse
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		a.stats.Skipped++
		return nil
	}
	p, err := cleanName(hdr.Name, a.lim)
	if err != nil {
		return err
	}
	if p == "." {
		if hdr.Typeflag != tar.TypeDir {
			return detail(ErrInvalidName, "%q names the root but is not a directory", hdr.Name)
		}
		a.stats.Skipped++ // the root's own metadata belongs to the caller
		return nil
	}
	if path.Base(p) != whiteoutOpaque && (strings.HasPrefix(p, whiteoutMeta) || strings.Contains(p, "/"+whiteoutMeta)) {
		a.stats.Skipped++ // aufs metadata (.wh..wh.plnk/..., .wh..wh.aufs)
		return nil
	}
	if base := path.Base(p); strings.HasPrefix(base, whiteoutPrefix) {
		return a.whiteout(p, base)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return a.mkdir(p, hdr)
	case tar.TypeReg, '\x00', tar.TypeCont:
		return a.file(p, hdr)
	case tar.TypeSymlink:
		return a.symlink(p, hdr)
	case tar.TypeLink:
		return a.hardlink(p, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		a.stats.Skipped++ // never created: documented neutralisation
		return nil
	}
	return detail(ErrUnsupportedType, "type %q", hdr.Typeflag)
}

func hasSparsePAX(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// clear removes whatever is at base in ph, unless it is a directory and
// keepDir is set. It reports whether a directory was kept.
func (a *applier) clear(ph *handle, p, base string, keepDir bool) (bool, error) {
	fi, err := ph.Lstat(base)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fi.IsDir() {
		if keepDir {
			return true, nil
		}
		a.forget(p)
		return false, removeAll(ph.Root, base)
	}
	return false, ph.Remove(base)
}

// forget drops every cached fact about p and what is under it, in time
// proportional to what is recorded under p (not to all that is recorded:
// a layer of n removals would be quadratic).
func (a *applier) forget(p string) {
	a.t.forget(p)
	a.known.remove(p, func(q string) {
		delete(a.meta, q)
		delete(a.touched, q)
	})
}

// setMeta records deferred metadata for directory p.
func (a *applier) setMeta(p string, m dirMeta) {
	a.meta[p] = m
	a.known.add(p)
}

// touch records that directory d's entries changed.
func (a *applier) touch(d string) {
	a.touched[d] = true
	a.known.add(d)
}

// pathIndex is the set of paths that are keys of meta or touched, with
// their ancestors, as children per directory, so a subtree is found
// without a scan. A path's ancestors are always in the index.
type pathIndex map[string]map[string]struct{}

func (x pathIndex) add(p string) {
	for q := p; q != "."; q = path.Dir(q) {
		d := path.Dir(q)
		kids := x[d]
		if kids == nil {
			kids = map[string]struct{}{}
			x[d] = kids
		}
		if _, ok := kids[q]; ok {
			return // and so its ancestors
		}
		kids[q] = struct{}{}
	}
}

// remove calls f for p and every indexed path under it, and drops them.
func (x pathIndex) remove(p string, f func(string)) {
	if p != "." {
		if kids := x[path.Dir(p)]; kids != nil {
			delete(kids, p)
		}
	}
	x.drop(p, f)
}

func (x pathIndex) drop(p string, f func(string)) {
	f(p)
	for k := range x[p] {
		x.drop(k, f)
	}
	delete(x, p)
}

func (a *applier) created(p string) {
	a.mark(p)
	a.touch(path.Dir(p))
}

// mark records p as this layer's, with every directory above it: an
// existing (lower) directory this layer wrote into holds this layer's
// entries, which a later opaque marker higher up must keep (it then
// clears the lower entries inside instead of removing the directory). A
// marked path's ancestors are always marked, so the walk stops at the
// first marked one.
func (a *applier) mark(p string) {
	for q := p; q != "." && !a.layer[q]; q = path.Dir(q) {
		a.layer[q] = true
	}
}

// place resolves the parent of entry p (following in-root symlinks unless
// Options.NoSymlinkParents) and returns its handle, the entry's real
// root-relative path, and its last component, which is never followed.
func (a *applier) place(p string) (*handle, string, string, error) {
	ph, dir, base, err := a.t.parent(p)
	if err != nil {
		return nil, "", "", err
	}
	rp := join(dir, base)
	if rp != p {
		// Links may lead deeper than the name: cap the real path too.
		if err := checkShape(rp, a.lim); err != nil {
			return nil, "", "", err
		}
	}
	return ph, rp, base, nil
}

func (a *applier) mkdir(p string, hdr *tar.Header) error {
	ph, p, base, err := a.place(p)
	if err != nil {
		return err
	}
	// Try first: an existing name is the rare case, and one syscall per
	// entry matters when file creation is the bound.
	kept := false
	err = ph.Mkdir(base, 0o700)
	if errors.Is(err, fs.ErrExist) {
		if kept, err = a.clear(ph, p, base, true); err == nil && !kept {
			err = ph.Mkdir(base, 0o700)
		}
	}
	if err != nil {
		return err
	}
	if !kept {
		a.stats.Dirs++
	}
	a.created(p)
	uid, gid := a.owner(hdr)
	a.setMeta(p, dirMeta{mode: a.mode(hdr), mtime: clampTime(hdr.ModTime), uid: uid, gid: gid})
	return nil
}

func (a *applier) file(p string, hdr *tar.Header) error {
	if over(hdr.Size, a.lim.FileBytes) {
		return limitErr("FileBytes", hdr.Size, a.lim.FileBytes)
	}
	ph, p, base, err := a.place(p)
	if err != nil {
		return err
	}
	mode := a.mode(hdr)
	uid, gid := a.owner(hdr)
	// Create with the final mode when the umask cannot change it (the fd is
	// writable whatever the mode); otherwise fchmod after writing.
	direct := mode == mode.Perm() && mode&umask == 0 && uid < 0
	perm := fs.FileMode(0o600)
	if direct {
		perm = mode
	}
	// O_EXCL never follows a symlink; if the name exists (a duplicate, a
	// link, a directory), clear it and create again.
	f, err := createFile(ph, base, perm)
	if errors.Is(err, fs.ErrExist) {
		if _, err = a.clear(ph, p, base, false); err == nil {
			f, err = createFile(ph, base, perm)
		}
	}
	if err != nil {
		return err
	}
	a.created(p)
	last, err := a.body(f, hdr.Size)
	if err == nil && uid >= 0 {
		err = f.Chown(uid, gid)
	}
	if err == nil && !direct {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.setMtime(clampTime(hdr.ModTime))
	}
	if err == nil && a.opts.Durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if last.c != nil {
			last.c.release()
		}
		return err
	}
	a.stats.Files++
	if a.sums != nil {
		last.path, last.size, last.end = p, hdr.Size, true
		a.sums.ch <- last
	}
	return nil
}

// body writes the entry's size bytes of content to f straight from the
// stream's chunks (no copy on the way), and skips the padding after them;
// the tar.Reader is then replaced (see run). With FileDigest the same
// bytes go to the hasher; the last piece is returned, for the caller to
// send once the file is complete.
func (a *applier) body(f outFile, size int64) (fileSeg, error) {
	a.tookBody = true
	var last fileSeg
	for i, rest := 0, size; rest > 0; i++ {
		if i%16 == 15 {
			if err := a.ctx.Err(); err != nil {
				return last, err
			}
		}
		b, c, err := a.src.take(rest)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // as archive/tar says of a short body
		}
		if err != nil {
			return last, err
		}
		rest -= int64(len(b))
		if a.sums != nil {
			if last.c != nil {
				a.sums.ch <- last
			}
			c.refs.Add(1)
			last = fileSeg{b: b, c: c}
		}
		if _, err := f.Write(b); err != nil {
			return last, err
		}
	}
	// A stream that ends in the padding ends the archive, as archive/tar
	// has it: the next header read sees the end.
	if err := a.src.skip(-size & (blockSize - 1)); err != nil && err != io.EOF {
		return last, err
	}
	return last, nil
}

func (a *applier) symlink(p string, hdr *tar.Header) error {
	if err := checkRaw(hdr.Linkname); err != nil {
		return err
	}
	ph, p, base, err := a.place(p)
	if err != nil {
		return err
	}
	// The target is checked against where the link really is: "a -> ."
	// then "a/l -> ../x" would otherwise climb out from the root.
	target, err := symlinkTarget(p, hdr.Linkname, a.lim)
	if err != nil {
		return err
	}
	err = ph.Symlink(target, base)
	if errors.Is(err, fs.ErrExist) {
		if _, err = a.clear(ph, p, base, false); err == nil {
			err = ph.Symlink(target, base)
		}
	}
	if err != nil {
		return err
	}
	a.created(p)
	a.stats.Symlinks++
	if uid, gid := a.owner(hdr); uid >= 0 {
		return ph.Lchown(base, uid, gid)
	}
	return nil
}

func (a *applier) hardlink(p string, hdr *tar.Header) error {
	t, err := hardlinkTarget(hdr.Linkname, a.lim)
	if err != nil {
		return err
	}
	if t == p || t == "." {
		return detail(ErrHardlinkTarget, "%q links to itself or the root", p)
	}
	// The target's parents must be real directories: a hardlink through a
	// symlinked parent stays refused whatever Options.NoSymlinkParents says.
	th, _, err := a.t.dir(path.Dir(t), false, false)
	if errors.Is(err, fs.ErrNotExist) {
		return detail(ErrHardlinkTarget, "%q does not exist", t)
	}
	if err != nil {
		return err
	}
	fi, err := th.Lstat(path.Base(t))
	if errors.Is(err, fs.ErrNotExist) {
		return detail(ErrHardlinkTarget, "%q does not exist", t)
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return detail(ErrHardlinkTarget, "%q is a %s", t, kind(fi))
	}
	ph, p, base, err := a.place(p)
	if err != nil {
		return err
	}
	if t == p {
		return detail(ErrHardlinkTarget, "%q links to itself", p)
	}
	if _, err := a.clear(ph, p, base, false); err != nil {
		return err
	}
	// Both names are real paths, their parents just verified as real
	// directories (so os.Root follows nothing); linkat does not follow a symlink at the target. The
	// entry's own mode and owner are not applied: they would change the
	// target (CVE-2021-32760).
	if err := a.t.root.Root.Link(t, p); err != nil {
		return err
	}
	a.created(p)
	a.stats.Hardlinks++
	return nil
}

// whiteout applies ".wh.<name>" (remove name) or ".wh..wh..opq" (hide
// everything lower layers put in the directory).
func (a *applier) whiteout(p, base string) error {
	dir := path.Dir(p)
	if base == whiteoutOpaque {
		return a.opaque(dir)
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." {
		return detail(ErrWhiteout, "%q names no entry", base)
	}
	// Never through a symlinked parent, whatever Options.NoSymlinkParents
	// says: a whiteout removes, and removal must not be redirected.
	dh, _, err := a.t.dir(dir, false, false)
	if errors.Is(err, fs.ErrNotExist) {
		a.stats.Whiteouts++ // nothing below to hide
		return nil
	}
	if err != nil {
		return err
	}
	victim := path.Join(dir, name)
	if _, err := dh.Lstat(name); err == nil {
		a.forget(victim)
		if err := removeAll(dh.Root, name); err != nil {
			return err
		}
		a.touch(dir)
	}
	a.stats.Whiteouts++
	return nil
}

func (a *applier) opaque(dir string) error {
	dh, _, err := a.t.dir(dir, true, false)
	if err != nil {
		return err
	}
	a.created(dir)
	a.stats.Whiteouts++
	return a.hideLower(dir, dh)
}

// hideLower removes what lower layers left under dir, keeping what this
// layer created (recursively, for directories this layer kept). dh is
// looked up again for each name: the recursion may have evicted it.
func (a *applier) hideLower(dir string, dh *handle) error {
	f, err := dh.Open(".")
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, n := range names {
		if dh, _, err = a.t.dir(dir, false, false); err != nil {
			return err
		}
		p := path.Join(dir, n)
		if !a.layer[p] {
			a.forget(p)
			if err := removeAll(dh.Root, n); err != nil {
				return err
			}
			a.touch(dir)
			continue
		}
		fi, err := dh.Lstat(n)
		if err != nil || !fi.IsDir() {
			continue
		}
		sub, _, err := a.t.dir(p, false, false)
		if err != nil {
			return err
		}
		if err := a.hideLower(p, sub); err != nil {
			return err
		}
	}
	return nil
}

// finishDirs applies deferred directory metadata, deepest first.
func (a *applier) finishDirs() error {
	dirs := make([]string, 0, len(a.meta))
	for d := range a.meta {
		dirs = append(dirs, d)
	}
	slices.SortFunc(dirs, func(x, y string) int {
		return strings.Count(y, "/") - strings.Count(x, "/")
	})
	for _, d := range dirs {
		if err := a.dirMeta(d, a.meta[d]); err != nil {
			return entryErr(d, err)
		}
	}
	return nil
}

func (a *applier) dirMeta(d string, m dirMeta) error {
	ph, _, err := a.t.dir(path.Dir(d), false, false)
	if err != nil {
		return err
	}
	base := path.Base(d)
	fi, err := ph.Lstat(base)
	if err != nil || !fi.IsDir() {
		return nil // replaced later in the layer: nothing to apply
	}
	if m.uid >= 0 {
		if err := ph.Lchown(base, m.uid, m.gid); err != nil {
			return err
		}
	}
	if err := ph.Chmod(base, m.mode); err != nil {
		return err
	}
	if !m.mtime.IsZero() {
		return ph.Chtimes(base, m.mtime, m.mtime)
	}
	return nil
}

// syncDirs fsyncs every directory whose entries changed, for Durable.
func (a *applier) syncDirs() error {
	for d := range a.touched {
		h, _, err := a.t.dir(d, false, false)
		if err != nil {
			continue // removed later in the layer
		}
		f, err := h.Open(".")
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// mode is the entry's permission bits, with setuid/setgid/sticky only when
// asked for.
func (a *applier) mode(hdr *tar.Header) fs.FileMode {
	m := fs.FileMode(hdr.Mode) & fs.ModePerm
	if a.opts.KeepSpecialBits {
		if hdr.Mode&0o4000 != 0 {
			m |= fs.ModeSetuid
		}
		if hdr.Mode&0o2000 != 0 {
			m |= fs.ModeSetgid
		}
		if hdr.Mode&0o1000 != 0 {
			m |= fs.ModeSticky
		}
	}
	return m
}

// owner returns the uid/gid to apply, or -1, -1 when ownership is not
// applied (not asked, not root, or out of range).
func (a *applier) owner(hdr *tar.Header) (int, int) {
	const maxID = 1<<32 - 2 // (uid_t)-1 means "unchanged"
	if !a.chown || hdr.Uid < 0 || hdr.Gid < 0 || hdr.Uid > maxID || hdr.Gid > maxID {
		return -1, -1
	}
	return hdr.Uid, hdr.Gid
}

var (
	minTime = time.Unix(0, 0)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// clampTime keeps mtimes in [1970, 2200): tar allows any, filesystems and
// tools do not.
func clampTime(t time.Time) time.Time {
	switch {
	case t.Before(minTime):
		return minTime
	case !t.Before(maxTime):
		return maxTime
	}
	return t
}
