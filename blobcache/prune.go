package blobcache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// Blob is one cached blob.
type Blob struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
	// LastUsed is when the blob was last stored or read, give or take a
	// minute (its modification time; see "The bound").
	LastUsed time.Time `json:"lastUsed"`
}

// Usage is what a cache holds.
type Usage struct {
	// Blobs and Size count the cached blobs and their bytes: what the
	// bound applies to.
	Blobs int   `json:"blobs"`
	Size  int64 `json:"size"`
	// TempFiles and TempSize count the temporary files under tmp/: writes
	// in progress, or left by a process that crashed (removed after a
	// day). They are not part of Size.
	TempFiles int   `json:"tempFiles"`
	TempSize  int64 `json:"tempSize"`
}

// PruneResult is what [Cache.Prune] did.
type PruneResult struct {
	// Before is the cache as Prune found it; After, as it left it (other
	// processes may have added blobs meanwhile).
	Before Usage `json:"before"`
	After  Usage `json:"after"`
	// Removed lists the blobs removed, least recently used first.
	Removed []Blob `json:"removed"`
	// Busy lists the blobs that were not removed because a process had
	// them open: only on systems where an open file cannot be removed
	// (Windows). Elsewhere a reader keeps reading a removed blob.
	Busy []Blob `json:"busy,omitempty"`
	// TempRemoved counts the temporary files of crashed writes (older
	// than a day) that were removed.
	TempRemoved int `json:"tempRemoved"`
}

// entry is a blob found by scan.
type entry struct {
	Blob
	path  string
	mtime time.Time // as scanned, to tell a use since
}

// Usage returns the number and size of the cached blobs and of the
// temporary files.
func (c *Cache) Usage(ctx context.Context) (Usage, error) {
	s, err := c.scan(ctx)
	return s.u, err
}

// Prune removes the least recently used blobs until the cached blobs
// total at most maxSize bytes; 0 removes every blob. It also removes the
// temporary files of crashed writes. Blobs read or stored while Prune
// runs are kept (their use time changed since Prune looked), and a blob
// another process has open keeps being readable by it (see "Other
// systems"). Prune and Push may run in several processes at once: a blob
// another pruner removed first counts as gone, not as removed by this
// call.
//
// A blob that could not be removed for another reason does not stop
// Prune: the error lists each, and the result is filled either way.
func (c *Cache) Prune(ctx context.Context, maxSize int64) (PruneResult, error) {
	res := PruneResult{Removed: []Blob{}}
	if maxSize < 0 {
		return res, fmt.Errorf("blobcache: prune %s: maximum size %d is negative", c.dir, maxSize)
	}
	before, err := c.scan(ctx)
	if err != nil {
		return res, err
	}
	listed := time.Now()
	res.Before = before.u
	res.TempRemoved = c.removeStaleTemp()
	_, err = c.evict(ctx, before.entries, before.u.Size, maxSize, "", &res)
	after, aerr := c.scan(context.WithoutCancel(ctx))
	res.After = after.u
	c.setTotal(after.u.Size, listed, aerr)
	return res, errors.Join(err, aerr)
}

// shrink removes least recently used blobs while the cache is over
// maxSize, never keep.
func (c *Cache) shrink(ctx context.Context, maxSize int64, keep digest.Digest, res *PruneResult) (int64, error) {
	s, err := c.scan(ctx)
	if err != nil || s.u.Size <= maxSize {
		return s.u.Size, err
	}
	if res == nil {
		res = &PruneResult{}
	}
	return c.evict(ctx, s.entries, s.u.Size, maxSize, keep, res)
}

// evict removes entries, least recently used first, until total is at
// most maxSize, and returns the new total.
func (c *Cache) evict(ctx context.Context, entries []entry, total, maxSize int64, keep digest.Digest, res *PruneResult) (int64, error) {
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(a.mtime.Compare(b.mtime), cmp.Compare(a.Digest, b.Digest))
	})
	var errs []error
	for _, e := range entries {
		if total <= maxSize {
			break
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if e.Digest == keep {
			continue
		}
		// Looked at again just before: a blob used (or replaced) since
		// the scan is no longer the least recently used one.
		fi, err := os.Lstat(e.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			total -= e.Size // removed by another process
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("blobcache: prune %s: %w", e.path, err))
			continue
		case !fi.ModTime().Equal(e.mtime) || fi.Size() != e.Size:
			continue
		}
		err = os.Remove(e.path)
		switch {
		case err == nil:
			res.Removed = append(res.Removed, e.Blob)
			total -= e.Size
		case errors.Is(err, fs.ErrNotExist):
			total -= e.Size
		case isBusy(err):
			res.Busy = append(res.Busy, e.Blob)
		default:
			errs = append(errs, fmt.Errorf("blobcache: prune %s: %w", e.path, err))
		}
	}
	return total, errors.Join(errs...)
}

// scanned is what scan found.
type scanned struct {
	entries []entry
	u       Usage
}

// scan lists the blobs: regular files named by a valid digest in
// blobs/<algorithm>/ for an available algorithm. Anything else (a symbolic
// link, a stray file) is neither counted nor ever removed.
func (c *Cache) scan(ctx context.Context) (scanned, error) {
	var s scanned
	if err := ctx.Err(); err != nil {
		return s, err
	}
	if err := realDir(c.blobsDir()); err != nil {
		return s, err
	}
	algs, err := os.ReadDir(c.blobsDir())
	if err != nil {
		return s, fmt.Errorf("blobcache: %w", err)
	}
	for _, a := range algs {
		alg := digest.Algorithm(a.Name())
		if !a.IsDir() || a.Type()&fs.ModeSymlink != 0 || !alg.Available() {
			continue
		}
		dir := filepath.Join(c.blobsDir(), a.Name())
		names, err := os.ReadDir(dir)
		if err != nil {
			return s, fmt.Errorf("blobcache: %w", err)
		}
		for k, n := range names {
			if k%256 == 0 {
				if err := ctx.Err(); err != nil {
					return s, err
				}
			}
			if !n.Type().IsRegular() {
				continue
			}
			d := digest.NewDigestFromEncoded(alg, n.Name())
			if d.Validate() != nil {
				continue
			}
			fi, err := n.Info()
			if err != nil {
				continue // removed meanwhile
			}
			s.entries = append(s.entries, entry{
				Blob: Blob{Digest: d, Size: fi.Size(), LastUsed: fi.ModTime()},
				path: filepath.Join(dir, n.Name()), mtime: fi.ModTime(),
			})
			s.u.Blobs++
			s.u.Size += fi.Size()
		}
	}
	if tmps, err := os.ReadDir(c.tmpDir()); err == nil {
		for _, e := range tmps {
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
				s.u.TempFiles++
				s.u.TempSize += fi.Size()
			}
		}
	}
	return s, nil
}
