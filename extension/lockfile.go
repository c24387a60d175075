package extension

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"pgoci/resolve"
)

// lockFileData is the lock file: for each package name, the reference it
// was installed from and the digests it resolved to.
//
//	{"packages": {"cube": {"reference": "ghcr.io/acme/cube:1.5",
//	  "digest": "sha256:<manifest>", "index": "sha256:<index>"}}}
type lockFileData struct {
	Packages map[string]lockEntry `json:"packages"`
}

// lockEntry pins one package. Digest is the manifest installed; Index,
// when the reference named an index, is the index it came from. A pin
// resolves through Index when set, so one lock file serves servers of
// several platforms, else through Digest.
type lockEntry struct {
	Reference string        `json:"reference"`
	Version   string        `json:"version,omitempty"`
	Digest    digest.Digest `json:"digest"`
	Index     digest.Digest `json:"index,omitempty"`
	// Signature is the digest of the signature that verified the image
	// at install (RootOptions.Verifier), "" without one.
	Signature digest.Digest `json:"signature,omitempty"`
}

// readLockFile reads a lock file; a missing one is empty.
func readLockFile(path string) (lockFileData, error) {
	lf := lockFileData{Packages: map[string]lockEntry{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return lf, nil
	}
	if err != nil {
		return lf, fmt.Errorf("%w: lock file: %w", ErrState, err)
	}
	if err := json.Unmarshal(b, &lf); err != nil {
		return lf, fmt.Errorf("%w: lock file %s: %w", ErrState, path, err)
	}
	if lf.Packages == nil {
		lf.Packages = map[string]lockEntry{}
	}
	return lf, nil
}

// pinnedAs returns the package name and entry of the pin for ref and
// version (same reference and version constraint).
func (lf lockFileData) pinnedAs(ref, version string) (string, lockEntry, bool) {
	for _, name := range keysSorted(lf.Packages) {
		if e := lf.Packages[name]; e.Reference == ref && e.Version == version {
			return name, e, true
		}
	}
	return "", lockEntry{}, false
}

// pinAs makes e the pin of package name, replacing any other pin of the
// same reference and version constraint.
func (lf lockFileData) pinAs(name string, e lockEntry) {
	for other, o := range lf.Packages {
		if o.Reference == e.Reference && o.Version == e.Version {
			delete(lf.Packages, other)
		}
	}
	lf.Packages[name] = e
}

// pinned returns the reference to resolve instead of ref when the lock
// file pins it (same reference and version constraint): ref with the
// pinned digest.
func (lf lockFileData) pinned(ref, version string) (string, lockEntry, bool) {
	if _, e, ok := lf.pinnedAs(ref, version); ok {
		r, err := resolve.ParseReference(ref)
		if err != nil {
			return "", lockEntry{}, false
		}
		r.Digest = e.Digest
		if e.Index != "" {
			r.Digest = e.Index
		}
		if r.Digest.Validate() != nil {
			return "", lockEntry{}, false
		}
		return r.String(), e, true
	}
	return "", lockEntry{}, false
}

// updateLockFile merges entries into the lock file at path. The caller
// holds the root's lock, so concurrent installs do not lose entries.
func updateLockFile(path string, entries map[string]lockEntry) error {
	if len(entries) == 0 {
		return nil
	}
	lf, err := readLockFile(path)
	if err != nil {
		return err
	}
	for name, e := range entries {
		lf.Packages[name] = e
	}
	b, err := json.MarshalIndent(lf, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return stateWriteFile(path, append(b, '\n'), true) // small: always durable
}
