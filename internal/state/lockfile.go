package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/opencontainers/go-digest"
)

// LockFile is the lock file of pins: for each package name, the
// reference it was installed from and the digests it resolved to.
//
//	{"packages": {"cube": {"reference": "ghcr.io/acme/cube:1.5",
//	  "digest": "sha256:<manifest>", "index": "sha256:<index>"}}}
type LockFile struct {
	Packages map[string]Pin `json:"packages"`
}

// Pin pins one package. Digest is the manifest installed; Index, when the
// reference named an index, is the index it came from. A pin resolves
// through Index when set, so one lock file serves servers of several
// platforms, else through Digest.
type Pin struct {
	Reference string        `json:"reference"`
	Version   string        `json:"version,omitempty"`
	Digest    digest.Digest `json:"digest"`
	Index     digest.Digest `json:"index,omitempty"`
	// Signature is the digest of the signature that verified the image
	// at install (RootOptions.Verifier), "" without one.
	Signature digest.Digest `json:"signature,omitempty"`
}

// ReadLockFile reads a lock file; a missing one is empty. The caller
// adds its sentinel to an error: "lock file: <cause>" when the file does
// not read, "lock file <path>: <cause>" when it does not decode.
func ReadLockFile(path string) (LockFile, error) {
	lf := LockFile{Packages: map[string]Pin{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return lf, nil
	}
	if err != nil {
		return lf, fmt.Errorf("lock file: %w", err)
	}
	if err := json.Unmarshal(b, &lf); err != nil {
		return lf, fmt.Errorf("lock file %s: %w", path, err)
	}
	if lf.Packages == nil {
		lf.Packages = map[string]Pin{}
	}
	return lf, nil
}

// PinnedAs returns the package name and pin for ref and version (same
// reference and version constraint); of several, the first by name.
func (lf LockFile) PinnedAs(ref, version string) (string, Pin, bool) {
	for _, name := range slices.Sorted(maps.Keys(lf.Packages)) {
		if e := lf.Packages[name]; e.Reference == ref && e.Version == version {
			return name, e, true
		}
	}
	return "", Pin{}, false
}

// PinAs makes e the pin of package name, replacing any other pin of the
// same reference and version constraint.
func (lf LockFile) PinAs(name string, e Pin) {
	for other, o := range lf.Packages {
		if o.Reference == e.Reference && o.Version == e.Version {
			delete(lf.Packages, other)
		}
	}
	lf.Packages[name] = e
}

// WriteLockFile merges pins into the lock file lf, as read from path,
// and writes it there, durably. The caller holds the root's lock and
// read lf under it, so concurrent installs do not lose entries.
func WriteLockFile(path string, lf LockFile, pins map[string]Pin) error {
	for name, e := range pins {
		lf.Packages[name] = e
	}
	b, err := json.MarshalIndent(lf, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return WriteFile(path, append(b, '\n'), true) // small: always durable
}
