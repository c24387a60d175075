package extension

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"pgoci/internal/state"
)

// fileSum is a regular file's size and SHA-256, as the unpacker hashed it
// while writing it.
type fileSum struct {
	size int64
	sum  digest.Digest
}

// hashTree lists the regular files and symbolic links under dir, sorted
// by path, with the SHA-256 and size of each file and the target of each
// link. A file known (by path, with the size found) takes its digest from
// known instead of being read again.
func hashTree(ctx context.Context, dir string, known map[string]fileSum) ([]InstalledFile, error) {
	var files []InstalledFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || d.IsDir() {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			files = append(files, InstalledFile{Path: rel, Link: target})
		case d.Type().IsRegular():
			if k, ok := known[rel]; ok {
				if fi, err := d.Info(); err == nil && fi.Size() == k.size {
					files = append(files, InstalledFile{Path: rel, Size: k.size, Digest: k.sum})
					return nil
				}
			}
			size, sum, err := hashFile(p)
			if err != nil {
				return err
			}
			files = append(files, InstalledFile{Path: rel, Size: size, Digest: sum})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("extension: hashing %s: %w", dir, err)
	}
	return files, nil
}

// hashFile returns the size and SHA-256 of a regular file, without
// following a symbolic link.
func hashFile(p string) (int64, digest.Digest, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|state.NoFollow, 0)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, digest.NewDigest(digest.SHA256, h), nil
}
