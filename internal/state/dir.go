package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DirName is the state directory inside an install root.
const DirName = ".pgoci"

// Dir is a state directory: <root>/.pgoci, or the PostgreSQL 17 mode
// state directory.
type Dir string

// Records is the directory of install records.
func (d Dir) Records() string { return filepath.Join(string(d), "installed") }

// Tmp is the directory of install workspaces.
func (d Dir) Tmp() string { return filepath.Join(string(d), "tmp") }

// Lock is the file whose flock serialises the commits of installers.
func (d Dir) Lock() string { return filepath.Join(string(d), "lock") }

// Record is the file of name's install record.
func (d Dir) Record(name string) string {
	return filepath.Join(d.Records(), name+".json")
}

// Prepare creates the state directories.
func (d Dir) Prepare() error {
	for _, p := range []string{d.Records(), d.Tmp()} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("extension: state directory: %w", err)
		}
	}
	return nil
}

// ValidName reports whether a package name is usable as a file name: a
// record's, and a package directory's. The grammar is
// [A-Za-z0-9_][A-Za-z0-9_.+-]{0,127} without "..", checked by a loop: as a
// regular expression, the counted repetition cost every process a
// millisecond at start.
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > 128 || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
		case (c == '.' || c == '+' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
