package extension

import (
	"context"
	"errors"

	"pgoci/layout"
	"pgoci/resolve"
)

// InstallOptions tunes [Install]. Exactly one install location is needed:
// Root (PostgreSQL 18 and newer) or PGConfig (PostgreSQL 17 and older);
// every other field has a documented default.
type InstallOptions struct {
	// Root is the install root (PostgreSQL 18 mode): packages go to
	// <Root>/packages/<name>/, the merged view to <Root>/share/extension,
	// <Root>/lib, <Root>/system and <Root>/bin, state to <Root>/.pgoci/.
	// The server needs extension_control_path = '$system:<Root>/share'
	// and dynamic_library_path = '$libdir:<Root>/lib' ([Result.Settings]).
	Root string
	// PGConfig is the server's pg_config program. Without Root it selects
	// PostgreSQL 17 mode: files go into its sharedir/extension and
	// pkglibdir. With Root it only tells which extensions the server
	// already ships (see ServerShareDir). Default: none.
	PGConfig string
	// StateDir holds the records and the lock in PostgreSQL 17 mode.
	// Default: <sharedir>/.pgoci. Ignored with Root (always
	// <Root>/.pgoci).
	StateDir string
	// ServerShareDir is the server's sharedir: a required extension with
	// a <ServerShareDir>/extension/<name>.control is provided by the
	// server and not fetched. Default: pg_config's sharedir when PGConfig
	// is set; otherwise unknown, and required extensions not installed by
	// pgoci are always fetched.
	ServerShareDir string
	// CacheDir is the content-addressed blob cache. Default:
	// os.UserCacheDir()/pgoci; "-" disables the cache. OCI layout
	// references (oci:DIR) are never cached: they are local already.
	CacheDir string
	// Policy is the compatibility policy. Default: [resolve.Default].
	Policy resolve.Policy
	// Version is a version constraint for a reference without tag or
	// digest (see [resolve.ParseConstraint]). Default: the highest.
	Version string
	// Remote configures registry access (credentials, plain HTTP).
	Remote resolve.RemoteOptions
	// NoDeps installs the package without its required extensions.
	// Default: dependencies are installed first.
	NoDeps bool
	// DependencyRef gives the reference to install a required extension
	// from, knowing the reference of the package that requires it.
	// Default [DefaultDependencyRef]: the same registry and repository
	// namespace, the last path element replaced by the extension name,
	// no tag (the highest version).
	DependencyRef func(ext string, from resolve.Reference) (string, error)
	// LockFile pins references to digests. Default: <state dir>/lock.json
	// (<Root>/.pgoci/lock.json); "-" disables it.
	LockFile string
	// UpdateLock re-resolves references pinned by the lock file and
	// records the new digests. Default: pins are honoured.
	UpdateLock bool
	// Durable fsyncs unpacked files, records and directories so that a
	// power loss after Install returns cannot lose the install. Default:
	// off.
	Durable bool
	// Events receives progress; it is called from the installing
	// goroutine and must return quickly. Default: none.
	Events func(Event)
}

// Action says what [Install] did to one package.
type Action string

// Actions of a [PackageResult].
const (
	// ActionInstalled: the package was not installed before.
	ActionInstalled Action = "installed"
	// ActionUpgraded: another digest of the package was replaced
	// (upgrade, downgrade or rebuild).
	ActionUpgraded Action = "upgraded"
	// ActionUnchanged: the package was already installed at this digest.
	ActionUnchanged Action = "unchanged"
)

// PackageResult is what happened to one package.
type PackageResult struct {
	Installed
	Action Action
	// Previous is the version replaced by an upgrade ("" otherwise, or
	// when it had none).
	Previous string
}

// Result is what [Install] did.
type Result struct {
	// Packages lists the dependencies installed first, in the order
	// installed, then the package asked for, last.
	Packages []PackageResult
	// Settings are the server settings for the root (PostgreSQL 18 mode;
	// zero in PostgreSQL 17 mode). They never change between installs.
	Settings layout.Settings
}

// Install installs the extension package that ref names
// ("host[:port]/repo[:tag][@digest]" or "oci:DIR[:tag|@digest]") for the
// server described by target. See the package documentation, "Installing".
func Install(ctx context.Context, ref string, target resolve.Target, opts InstallOptions) (Result, error) {
	return Result{}, errors.New("extension: Install: not implemented")
}

// DefaultDependencyRef is the default [InstallOptions.DependencyRef]: the
// required extension ext is looked for in the repository next to the one
// of the package requiring it, with the last path element replaced by ext
// and no tag (so the highest version is installed):
//
//	ghcr.io/acme/earthdistance:1.2   requires cube -> ghcr.io/acme/cube
//	oci:/mirror/earthdistance:1.2    requires cube -> oci:/mirror/cube
//
// An OCI layout is taken as one repository, so dependencies come from
// sibling layout directories named after the extension.
func DefaultDependencyRef(ext string, from resolve.Reference) (string, error) {
	return "", errors.New("extension: DefaultDependencyRef: not implemented")
}
