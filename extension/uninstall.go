package extension

import (
	"context"
	"errors"
)

// UninstallOptions tunes [Uninstall]. Root, or PGConfig (with StateDir),
// name the install location as in [InstallOptions].
type UninstallOptions struct {
	// Root is the install root (PostgreSQL 18 mode).
	Root string
	// PGConfig is the server's pg_config (PostgreSQL 17 mode, without
	// Root).
	PGConfig string
	// StateDir is the state directory of PostgreSQL 17 mode. Default:
	// <sharedir>/.pgoci.
	StateDir string
	// Force removes the package even when installed packages require
	// one of its extensions. Default: refused with an *[InUseError].
	Force bool
	// Durable fsyncs the changed directories. Default: off.
	Durable bool
	// Events receives an EventRemove. Default: none.
	Events func(Event)
}

// Uninstall removes the installed package name and returns its record:
// exactly the files it installed, its merged-view links and its record,
// under the root's lock. Files it did not install are never touched.
// A package that is not installed is [ErrNotInstalled].
func Uninstall(ctx context.Context, name string, opts UninstallOptions) (Installed, error) {
	return Installed{}, errors.New("extension: Uninstall: not implemented")
}
