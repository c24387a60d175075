package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"pgoci/extension"
	"pgoci/resolve"
)

// stateDirName is where the SDK keeps its records: <root>/.pgoci, or by
// default <sharedir>/.pgoci for PostgreSQL 17 and older.
const stateDirName = ".pgoci"

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

func (l *locationFlags) list() extension.ListOptions {
	return extension.ListOptions{Root: l.root, PGConfig: l.pgConfig, StateDir: l.state}
}

// mustExist fails when the location holds no pgoci state. The SDK reads
// a location without state as one with nothing installed, which would let
// a mistyped --root list nothing and verify "all installed files match".
func (l *locationFlags) mustExist(ctx context.Context) error {
	if l.root != "" {
		root, err := filepath.Abs(l.root)
		if err != nil {
			return err
		}
		if err := isDir(root); err != nil {
			return fmt.Errorf("no pgoci install root at %s: %w", root, err)
		}
		if err := isDir(filepath.Join(root, stateDirName)); err != nil {
			return fmt.Errorf("no pgoci install root at %s: no %s directory, nothing was ever installed there", root, stateDirName)
		}
		return nil
	}
	state := l.state
	if state == "" {
		cfg, err := resolve.ReadPGConfig(ctx, l.pgConfig)
		if err != nil {
			return err
		}
		state = filepath.Join(cfg.ShareDir, stateDirName)
	}
	if err := isDir(state); err != nil {
		return fmt.Errorf("no pgoci state at %s: %w (nothing was installed for this server, or pass --state DIR)", state, err)
	}
	return nil
}

// isDir returns nil for a directory, else a short reason.
func isDir(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("it does not exist")
	case err != nil:
		return err
	case !st.IsDir():
		return errors.New("it is not a directory")
	}
	return nil
}
