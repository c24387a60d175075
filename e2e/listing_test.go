//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// listing describes every entry under each dir, one line per entry: path,
// type, permissions, and the SHA-256 of a regular file or the target of a
// symbolic link. Modification times are left out: what matters is what a
// server would read. A missing dir lists as "<dir> missing".
func listing(t *testing.T, dirs ...string) []string {
	t.Helper()
	var lines []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			line, err := describe(path, d)
			lines = append(lines, line)
			return err
		})
		if errors.Is(err, fs.ErrNotExist) {
			lines = append(lines, dir+" missing")
			continue
		}
		if err != nil {
			t.Fatalf("listing %s: %v", dir, err)
		}
	}
	return lines
}

func describe(path string, d fs.DirEntry) (string, error) {
	info, err := d.Info()
	if err != nil {
		return "", err
	}
	switch {
	case d.Type()&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		return fmt.Sprintf("%s link -> %s", path, target), err
	case d.IsDir():
		return fmt.Sprintf("%s dir %v", path, info.Mode().Perm()), nil
	case d.Type().IsRegular():
		sum, err := fileSHA256(path)
		return fmt.Sprintf("%s file %v %d %s", path, info.Mode().Perm(), info.Size(), sum), err
	default:
		return fmt.Sprintf("%s %v", path, info.Mode().Type()), nil
	}
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sameListing fails the test when the dirs no longer list as before.
func sameListing(t *testing.T, what string, before []string, dirs ...string) {
	t.Helper()
	if diff := cmp.Diff(before, listing(t, dirs...)); diff != "" {
		t.Errorf("%s changed %v (-before +after):\n%s", what, dirs, diff)
	}
}
