package extension

import (
	"slices"
	"time"

	"github.com/opencontainers/go-digest"

	"pgoci/labels"
)

// Installed is the record of one installed package, as [Root.Install] writes it
// under the state directory (installed/<name>.json) and [Root.List] returns it.
type Installed struct {
	// Name is the package name (labels: package name; else the name of
	// its only extension).
	Name string `json:"name"`
	// Version is the package version, when the labels say.
	Version string `json:"version,omitempty"`
	// Reference is the reference the package was installed from, as given
	// to Install (or derived for a dependency).
	Reference string `json:"reference"`
	// Resolved is "name@digest" of the manifest installed.
	Resolved string `json:"resolved"`
	// Index is the digest of the image index the reference named, "" when
	// it named a manifest.
	Index digest.Digest `json:"index,omitempty"`
	// Signature is the digest of the signature that verified the image at
	// install (RootOptions.Verifier), "" without one.
	Signature digest.Digest `json:"signature,omitempty"`
	// Manifest is the digest of the manifest installed.
	Manifest digest.Digest `json:"manifest"`
	// Platform is the image's platform, os/arch[/variant].
	Platform string `json:"platform"`
	// PGMajor is the PostgreSQL major the image was built for.
	PGMajor int `json:"pgMajor,omitempty"`
	// Extensions are the SQL extensions the package provides, with their
	// requires.
	Extensions []labels.Extension `json:"extensions,omitempty"`
	// Modules are the loadable modules the package provides (lib/), by
	// name: those its extensions use and those loaded on their own
	// (output plugins, preload-only libraries).
	Modules []string `json:"modules,omitempty"`
	// Programs are the programs the package provides (bin/).
	Programs []string `json:"programs,omitempty"`
	// Preload lists the libraries that must be in
	// shared_preload_libraries.
	Preload []string `json:"preload,omitempty"`
	// Restart says the server must be restarted before the package works
	// (labels, or implied by Preload).
	Restart bool `json:"restart,omitempty"`
	// Dependency is true when the package was installed to satisfy
	// another package's requires rather than asked for.
	Dependency bool `json:"dependency,omitempty"`
	// Dir is the package directory, relative to the root (PostgreSQL 18
	// mode: "packages/<name>/<digest prefix>"); "" in PostgreSQL 17 mode.
	Dir string `json:"dir,omitempty"`
	// Files are the installed files with their hashes, for [Root.Verify] and
	// exact removal. In PostgreSQL 18 mode their paths are relative to
	// Dir; in PostgreSQL 17 mode they are absolute.
	Files []InstalledFile `json:"files"`
	// View lists the merged-view links of the package (PostgreSQL 18
	// mode), relative to the root: "share/extension/x.control",
	// "lib/x.so".
	View []string `json:"view,omitempty"`
	// Dirs are the directories the package created in the server's
	// directories (PostgreSQL 17 mode), removed by Uninstall when empty.
	Dirs []string `json:"dirs,omitempty"`
	// Pending is set while the package is being committed; a record left
	// pending by a crash lists every file the interrupted commit may have
	// written, so that the next install or uninstall can finish the job.
	Pending bool `json:"pending,omitempty"`
	// Previous is, in a pending record, the record it replaces (PostgreSQL
	// 18 mode): what a commit interrupted before its switch rolls back to.
	Previous *Installed `json:"previous,omitempty"`
	// Repaired is set on a record [Root.Repair] rebuilt from the files on disk:
	// Reference, Resolved and the digests are then unknown; installing
	// the package again restores them.
	Repaired bool `json:"repaired,omitempty"`
	// InstalledAt is when the commit finished.
	InstalledAt time.Time `json:"installedAt"`
}

// metadata is the part of the labels a record keeps.
func (rec Installed) metadata() labels.Metadata {
	return labels.Metadata{Extensions: rec.Extensions, Modules: rec.Modules, Programs: rec.Programs, Preload: rec.Preload}
}

// InstalledFile is one installed file: a regular file with its size and
// SHA-256, or a symbolic link with its target.
type InstalledFile struct {
	Path   string        `json:"path"`
	Size   int64         `json:"size,omitempty"`
	Digest digest.Digest `json:"digest,omitempty"`
	Link   string        `json:"link,omitempty"`
}

// keysSorted returns the keys of m in order.
func keysSorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
