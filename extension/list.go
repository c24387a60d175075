package extension

import (
	"context"
)

// ListOptions names an install location for [List] and [Verify], as in
// [InstallOptions]: Root, or PGConfig with an optional StateDir.
type ListOptions struct {
	// Root is the install root (PostgreSQL 18 mode).
	Root string
	// PGConfig is the server's pg_config (PostgreSQL 17 mode, without
	// Root).
	PGConfig string
	// StateDir is the state directory of PostgreSQL 17 mode. Default:
	// <sharedir>/.pgoci.
	StateDir string
	// Postgres and LibraryPath describe the server for the link check
	// [Verify] re-runs, as in [InstallOptions]. Default: pg_config's
	// bindir/postgres when PGConfig is set; <Root>/system.
	Postgres    string
	LibraryPath []string
}

// List returns the records of the installed packages, sorted by name:
// name, version, digests, extensions, preload and restart needs, files.
// A location with no state is ErrNoState. List takes no lock: records
// are replaced atomically, so it sees each one before or after an install.
// Records that do not read are a *[DamagedError], returned with the
// records that do.
func List(ctx context.Context, opts ListOptions) ([]Installed, error) {
	loc, err := openLocation(ctx, opts.Root, opts.PGConfig, opts.StateDir, "")
	if err != nil {
		return nil, err
	}
	if err := loc.hasState(); err != nil {
		return nil, err
	}
	recs, damaged, err := loc.readState()
	if err != nil {
		return nil, err
	}
	out := make([]Installed, 0, len(recs))
	for _, name := range keysSorted(recs) {
		out = append(out, recs[name])
	}
	if len(damaged) > 0 {
		return out, &DamagedError{Records: damaged}
	}
	return out, nil
}
