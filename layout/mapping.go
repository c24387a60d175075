package layout

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Entry is one item of the image root layout built from a tree: a
// directory, a regular file or a symbolic link.
type Entry struct {
	// Path is the slash-separated path in the layout, without a leading
	// slash ("share/extension/hstore.control").
	Path string
	// Source is the absolute path of the file on disk; "" for a directory.
	Source string
	// Kind is the role of the file; FileOther for a directory.
	Kind FileKind
	// Mode holds the type (fs.ModeDir, fs.ModeSymlink or none) and the
	// permission bits found on disk (0o755 for directories).
	Mode fs.FileMode
	// Size is the number of bytes Open yields (after any rewrite).
	Size int64
	// Link is the target of a symbolic link.
	Link string
	// Rewrite is true when Open rewrites `$libdir/` references
	// (control files and SQL scripts).
	Rewrite bool
}

// IsDir reports whether e is a directory.
func (e Entry) IsDir() bool { return e.Mode.IsDir() }

// Open opens the content of a regular-file entry, rewritten when
// e.Rewrite is set. The caller closes it. If the file changed on disk since
// Entries measured it, the content no longer matches Size: writers of tar
// headers should treat a length mismatch as an error.
func (e Entry) Open() (io.ReadCloser, error) {
	if !e.Mode.IsRegular() {
		return nil, fmt.Errorf("layout: %s is not a regular file", e.Path)
	}
	f, err := os.Open(e.Source)
	if err != nil {
		return nil, err
	}
	if !e.Rewrite {
		return f, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{RewriteLibdir(f), f}, nil
}

// MapOptions tunes Tree.Entries. The zero value is ready to use.
type MapOptions struct {
	// NoRewrite keeps control files and scripts byte for byte, without
	// the `$libdir/` rewrite (see RewriteLibdir).
	NoRewrite bool
}

// Entries maps the tree onto the image root layout: every file with a
// Target, plus the directories that hold them, sorted by Path (a parent
// before its children), ready to be streamed into a tar archive. For a
// DESTDIR tree, <sharedir>/... goes to share/..., <pkglibdir>/... to lib/...
// (bitcode included), <bindir>/... to bin/... and license texts to
// licenses/<package>/. Control files and scripts are rewritten unless
// opts.NoRewrite; their Size is measured by running the rewrite. Two files
// mapped to one path, and links that would leave the layout once moved, are
// errors.
func (t *Tree) Entries(ctx context.Context, opts MapOptions) ([]Entry, error) {
	var out []Entry
	seen := map[string]string{}
	dirs := map[string]bool{}
	for _, f := range t.Files {
		if f.Target == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if prev, dup := seen[f.Target]; dup {
			return nil, fmt.Errorf("layout: %s and %s both map to %s", prev, f.Path, f.Target)
		}
		seen[f.Target] = f.Path
		e, err := t.entry(f, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		for d := path.Dir(f.Target); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		if _, clash := seen[d]; clash {
			return nil, fmt.Errorf("layout: %s is both a file and a directory of the layout", d)
		}
		out = append(out, Entry{Path: d, Mode: fs.ModeDir | 0o755})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

func (t *Tree) entry(f File, opts MapOptions) (Entry, error) {
	e := Entry{
		Path:   f.Target,
		Source: filepath.Join(t.Root, filepath.FromSlash(f.Path)),
		Kind:   f.Kind,
		Mode:   f.Mode & (fs.ModeSymlink | fs.ModePerm),
		Size:   f.Size,
		Link:   f.Link,
	}
	if f.Link != "" {
		e.Size = 0
		if escapes(e.Path, f.Link) {
			return Entry{}, fmt.Errorf("%w: %s -> %s leaves the layout once mapped to %s", ErrSymlinkEscape, f.Path, f.Link, e.Path)
		}
		return e, nil
	}
	if (f.Kind == FileControl || f.Kind == FileScript) && !opts.NoRewrite {
		e.Rewrite = true
		n, err := rewrittenSize(e.Source)
		if err != nil {
			return Entry{}, fmt.Errorf("layout: rewriting %s: %w", f.Path, err)
		}
		e.Size = n
	}
	return e, nil
}

func rewrittenSize(file string) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(io.Discard, RewriteLibdir(f))
}
