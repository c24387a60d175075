package labels

import (
	digest "github.com/opencontainers/go-digest"
)

// Metadata is the parsed, validated label metadata of one extension image
// (one manifest). The zero value is empty; a writer fills the fields and
// calls [Metadata.Annotations].
//
// The platform (os, architecture, variant) is not part of Metadata: it lives
// in the OCI platform field of the manifest descriptor and the config, where
// every OCI tool already reads it. Callers that need it next to the labels
// carry it themselves.
type Metadata struct {
	// SchemaVersion is the value of org.pgoci.schema.version, or 0 when the
	// input held no org.pgoci.* key (an image labelled by anchors only).
	SchemaVersion int `json:"schemaVersion,omitempty"`

	Package    Package     `json:"package,omitzero"`
	Extensions []Extension `json:"extensions,omitempty"`
	PG         PG          `json:"pg,omitzero"`
	Libc       Libc        `json:"libc,omitzero"`
	Distro     Distro      `json:"distro,omitzero"`
	Base       Base        `json:"base,omitzero"`

	// Compiler names the compiler, e.g. "gcc 14.2.0".
	Compiler string `json:"compiler,omitempty"`
	// ICUMajor is the ICU major version the modules link, 0 when none.
	ICUMajor int `json:"icuMajor,omitempty"`
	// Objects lists what each ELF file needs to load.
	Objects []Object `json:"objects,omitempty"`
	// LayoutVersion is the image root layout version.
	LayoutVersion int `json:"layoutVersion,omitempty"`
	// Preload lists the libraries that must be in shared_preload_libraries.
	Preload []string `json:"preload,omitempty"`
	// Restart says whether installing requires a server restart; nil is
	// unknown.
	Restart *bool `json:"restart,omitempty"`
	// Modules lists the loadable modules in lib/, by name ("wal2json").
	Modules []string `json:"modules,omitempty"`
	// Programs lists the programs in bin/, by path below it ("pg_repack").
	Programs []string `json:"programs,omitempty"`
	// OSRequires lists OS packages the modules need at run time.
	OSRequires []string `json:"osRequires,omitempty"`
	// Licenses is an SPDX license expression.
	Licenses string `json:"licenses,omitempty"`

	// Sources records, for each value Parse set, which schema it came from,
	// keyed by the pgoci key of the value (for example KeyPGMajor, or
	// ExtensionKey("vector", ExtVersion)). A value the caller set has no
	// entry, which [Metadata.Annotations] treats like SourcePgoci.
	Sources map[string]Source `json:"sources,omitempty"`
	// Anchors holds every input key in an anchor namespace
	// (io.cloudnativepg.*, org.pgxn.trunk.*, org.opencontainers.image.*
	// except the licenses key), verbatim, whether or not it was mapped.
	Anchors map[string]string `json:"anchors,omitempty"`
	// Extra holds every other key Parse did not understand, verbatim:
	// foreign keys and org.pgoci.* keys of a newer schema version.
	Extra map[string]string `json:"extra,omitempty"`
}

// Package identifies the package an image holds.
type Package struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// Extension describes one SQL extension the package provides, from its
// control file. A nil flag is unknown (the key was absent).
type Extension struct {
	Name        string   `json:"name"`
	Version     string   `json:"version,omitempty"` // default_version
	Requires    []string `json:"requires,omitempty"`
	Trusted     *bool    `json:"trusted,omitempty"`
	Relocatable *bool    `json:"relocatable,omitempty"`
	Superuser   *bool    `json:"superuser,omitempty"`
	Schema      string   `json:"schema,omitempty"`
}

// PG is the PostgreSQL server the image was built against.
type PG struct {
	Major      int    `json:"major,omitempty"`
	VersionNum int    `json:"versionNum,omitempty"` // e.g. 180004
	Version    string `json:"version,omitempty"`    // e.g. "18.4"
}

// Libc is the C library of the build environment.
type Libc struct {
	Family  string `json:"family,omitempty"` // "glibc" or "musl"
	Version string `json:"version,omitempty"`
	// Requires is the highest symbol version of the C library the
	// binaries require ("2.34"), read from them.
	Requires string `json:"requires,omitempty"`
}

// Distro is the OS distribution of the build environment (os-release).
type Distro struct {
	ID       string `json:"id,omitempty"`       // ID, e.g. "debian"
	Version  string `json:"version,omitempty"`  // VERSION_ID, e.g. "12"
	Codename string `json:"codename,omitempty"` // VERSION_CODENAME, e.g. "bookworm"
}

// Base is the build environment image.
type Base struct {
	Name   string        `json:"name,omitempty"`
	Digest digest.Digest `json:"digest,omitempty"`
}

// Source says which schema a value was read from.
type Source uint8

// Sources, in precedence order: when several schemas carry the same value,
// the first present wins and the others must agree.
const (
	SourceNone          Source = iota // not read: set by the caller
	SourcePgoci                       // org.pgoci.* (and the OCI licenses key)
	SourceCloudNativePG               // io.cloudnativepg.image.*
	SourcePGXN                        // org.pgxn.trunk.*
	SourceOCI                         // org.opencontainers.image.*
)

var sourceNames = [...]string{"none", "pgoci", "cloudnativepg", "pgxn", "oci"}

// String returns the source's name as used in SPEC.md and the vectors.
func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Source) UnmarshalText(b []byte) error {
	for i, n := range sourceNames {
		if n == string(b) {
			*s = Source(i)
			return nil
		}
	}
	return &Problem{Value: string(b), Reason: "unknown source", Err: ErrInvalidValue}
}

// Extension returns the extension named name, if the package provides it.
func (m Metadata) Extension(name string) (Extension, bool) {
	for _, e := range m.Extensions {
		if e.Name == name {
			return e, true
		}
	}
	return Extension{}, false
}

// Source returns where the value of key came from (SourceNone when it was
// not read by Parse).
func (m Metadata) Source(key string) Source { return m.Sources[key] }
