package main

import (
	"context"
	"flag"

	"pgoci/extension"
)

// locationFlags name an install location: --root, or --pg-config with
// an optional --state.
type locationFlags struct{ root, pgConfig, state string }

func (l *locationFlags) register(fs *flag.FlagSet, withPGConfig bool) {
	fs.StringVar(&l.root, "root", "", "install root `DIR` of a PostgreSQL 18+ server (state in DIR/.pgoci); required unless --pg-config is given")
	fs.StringVar(&l.state, "state", "", "state `DIR` of PostgreSQL 17 mode, ignored with --root (default: the server's sharedir/.pgoci)")
	if withPGConfig {
		fs.StringVar(&l.pgConfig, "pg-config", "", "the server's pg_config program at `PATH`: without --root, work on the server's own directories (PostgreSQL 17 and older)")
	}
}

func (l *locationFlags) check() error {
	if l.root == "" && l.pgConfig == "" {
		return usagef("--root DIR (PostgreSQL 18+) or --pg-config PATH (PostgreSQL 17 and older) is required")
	}
	return nil
}

// open opens the location with the other options of o.
func (l *locationFlags) open(ctx context.Context, o extension.RootOptions) (*extension.Root, error) {
	o.Root, o.PGConfig, o.StateDir = l.root, l.pgConfig, l.state
	return extension.Open(ctx, o)
}
