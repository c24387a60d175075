package unpack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// stagingPrefix starts the name of every staging directory, so
// [CleanStaging] can find leftovers of a crashed process.
const stagingPrefix = ".pgoci-staging-"

// Staging is a private directory next to a destination, where layers are
// applied before one atomic rename publishes them. Create it with [Stage];
// finish with [Staging.Commit] or [Staging.Discard] (safe to call after
// Commit, so `defer s.Discard()` is the idiom).
type Staging struct {
	dir  string
	dst  string
	root *os.Root
	done bool
}

// Stage creates an empty staging directory (mode 0700) in dst's parent
// directory, on the same filesystem so the final rename is atomic. dst must
// not exist yet ([ErrExist]).
func Stage(dst string) (*Staging, error) {
	dst = filepath.Clean(dst)
	if _, err := os.Lstat(dst); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrExist, dst)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	dir, err := os.MkdirTemp(filepath.Dir(dst), stagingPrefix+filepath.Base(dst)+"-*")
	if err != nil {
		return nil, fmt.Errorf("unpack: staging for %s: %w", dst, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	return &Staging{dir: dir, dst: dst, root: root}, nil
}

// Root is the staging directory, for [Layer] and for any files the caller
// adds before committing.
func (s *Staging) Root() *os.Root { return s.root }

// Dir is the staging directory's path.
func (s *Staging) Dir() string { return s.dir }

// Commit publishes the staging directory as the destination with one
// rename, after setting its mode to 0755. With durable set it fsyncs the
// staging directory before the rename and the parent directory after it;
// the files and directories inside are synced by [Layer] with
// [Options.Durable] (files you add yourself, sync yourself). It fails with
// [ErrExist] if the destination appeared meanwhile; the staging directory
// is then left for [Staging.Discard].
func (s *Staging) Commit(durable bool) error {
	if s.done {
		return errors.New("unpack: staging already committed or discarded")
	}
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return err
	}
	if durable {
		if err := syncDir(s.dir); err != nil {
			return fmt.Errorf("unpack: sync %s: %w", s.dir, err)
		}
	}
	if err := renameNoReplace(s.dir, s.dst); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExist, s.dst)
		}
		return fmt.Errorf("unpack: publish %s: %w", s.dst, err)
	}
	s.done = true
	s.root.Close()
	if durable {
		return syncDir(filepath.Dir(s.dst))
	}
	return nil
}

// Discard removes the staging directory and everything in it. It does
// nothing after a successful Commit, and may be called more than once.
func (s *Staging) Discard() error {
	if s.done {
		return nil
	}
	s.done = true
	s.root.Close()
	return removePath(s.dir) // layers may have left read-only directories
}

// CleanStaging removes staging directories that a crashed or killed process
// left in parent, if they are older than olderThan (pass a margin longer
// than any install takes: another process may be using a younger one). It
// returns the paths removed.
func CleanStaging(parent string, olderThan time.Duration) ([]string, error) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), stagingPrefix) {
			continue
		}
		fi, err := e.Info()
		if err != nil || time.Since(fi.ModTime()) < olderThan {
			continue
		}
		p := filepath.Join(parent, e.Name())
		if err := removePath(p); err != nil {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}

func syncDir(p string) error {
	f, err := os.OpenFile(p, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// LayerSource is one layer for [Apply]: its descriptor, the diff_id from
// the image config (optional; checked when set), and a way to open its blob.
type LayerSource struct {
	Descriptor ocispec.Descriptor
	DiffID     digest.Digest
	// Open returns the blob's bytes; Apply reads it to EOF and closes it.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Apply unpacks layers, in order, into a new directory dst: it stages them
// next to dst, verifies each one completely, and only then renames the
// staging directory to dst. On any error, dst does not exist and the
// staging directory is removed. Limits apply per layer; opts.DiffID is
// ignored in favour of each [LayerSource.DiffID]; opts.Progress sees the
// bytes of all layers against their summed sizes.
func Apply(ctx context.Context, dst string, layers []LayerSource, opts Options) (Stats, error) {
	var total Stats
	s, err := Stage(dst)
	if err != nil {
		return total, err
	}
	defer s.Discard()

	var sum, base int64
	for _, l := range layers {
		sum += l.Descriptor.Size
	}
	progress := opts.Progress
	for i, l := range layers {
		o := opts
		o.DiffID = l.DiffID
		if progress != nil {
			b := base
			o.Progress = func(done, _ int64) { progress(b+done, sum) }
		}
		st, err := applyOne(ctx, s.Root(), l, o)
		total.add(st)
		if err != nil {
			return total, &LayerError{Index: i, Digest: l.Descriptor.Digest, Err: err}
		}
		base += l.Descriptor.Size
	}
	if err := s.Commit(opts.Durable); err != nil {
		return total, err
	}
	return total, nil
}

func applyOne(ctx context.Context, root *os.Root, l LayerSource, opts Options) (Stats, error) {
	if l.Open == nil {
		return Stats{}, fmt.Errorf("%w: no Open function", ErrBadDescriptor)
	}
	rc, err := l.Open(ctx)
	if err != nil {
		return Stats{}, err
	}
	defer rc.Close()
	return Layer(ctx, root, rc, l.Descriptor, opts)
}

// renameCheck renames oldpath to newpath after checking that newpath does
// not exist. Between the two, another process could create newpath: an
// empty directory would then be replaced. renameNoReplace avoids that
// where the system can.
func renameCheck(oldpath, newpath string) error {
	if _, err := os.Lstat(newpath); err == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: os.ErrExist}
	}
	return os.Rename(oldpath, newpath)
}
