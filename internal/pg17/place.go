package pg17

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"pgoci/internal/state"
	"pgoci/internal/tmpname"
)

// Place copies one file, or makes one link when link is set, to dst:
// written under a temporary name in the destination directory, then
// renamed.
func Place(src, dst, link string, durable bool) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("extension: install %s: %w", dst, err)
	}
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".pgoci-"+tmpname.Suffix())
	var err error
	if link != "" {
		err = os.Symlink(link, tmp)
	} else {
		err = copyFile(src, tmp, durable)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("extension: install %s: %w", dst, err)
	}
	if durable {
		return state.SyncDir(filepath.Dir(dst))
	}
	return nil
}

func copyFile(src, dst string, durable bool) error {
	in, err := os.OpenFile(src, os.O_RDONLY|state.NoFollow, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Chmod(fi.Mode().Perm())
	}
	if err == nil && durable {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// PruneDirs removes the recorded directories that are empty, children
// first, and returns those that remain.
func PruneDirs(dirs []string) []string {
	var kept []string
	for k := len(dirs) - 1; k >= 0; k-- {
		if err := os.Remove(dirs[k]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			kept = append(kept, dirs[k])
		}
	}
	slices.Sort(kept)
	return kept
}
