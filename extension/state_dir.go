package extension

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"pgoci/internal/state"
	"pgoci/resolve"
)

// location is where packages are installed and their state kept.
type location struct {
	// root is the install root of PostgreSQL 18 mode; "" in PostgreSQL 17
	// mode.
	root string
	// shareDir, pkgLibDir and binDir are the server's directories in
	// PostgreSQL 17 mode.
	shareDir, pkgLibDir, binDir string
	// serverShare is the server's sharedir, for dependency checks; ""
	// when unknown.
	serverShare string
	// serverMajor is the server's PostgreSQL major from pg_config, 0 when
	// unknown.
	serverMajor int
	// serverBin and serverLib are the server's bindir and pkglibdir from
	// pg_config, "" when unknown: the link check loads modules into
	// serverBin/postgres, and finds the modules of the extensions the
	// server provides in serverLib.
	serverBin, serverLib string
	// state is the state directory: <root>/.pgoci, or the PostgreSQL 17
	// mode state directory.
	state string
	// pgConfig is pg_config's output, nil without PGConfig.
	pgConfig *resolve.PGConfig
}

// openLocation works out the install location from [RootOptions], running
// pg_config once.
func openLocation(ctx context.Context, root, pgConfig, stateDir, serverShare string) (location, error) {
	l := location{serverShare: serverShare}
	var cfg resolve.PGConfig
	if pgConfig != "" {
		var err error
		if cfg, err = resolve.ReadPGConfig(ctx, pgConfig); err != nil {
			return location{}, fmt.Errorf("%w: %w", ErrLocation, err)
		}
		l.pgConfig = &cfg
		l.serverMajor = cfg.PG.Major
		if filepath.IsAbs(cfg.BinDir) {
			l.serverBin = filepath.Clean(cfg.BinDir)
		}
		if filepath.IsAbs(cfg.PkgLibDir) {
			l.serverLib = filepath.Clean(cfg.PkgLibDir)
		}
		if l.serverShare == "" {
			l.serverShare = cfg.ShareDir
		}
	}
	switch {
	case root != "":
		abs, err := filepath.Abs(root)
		if err != nil {
			return location{}, fmt.Errorf("%w: root %s: %w", ErrLocation, root, err)
		}
		l.root = abs
		l.state = filepath.Join(abs, state.DirName)
	case pgConfig != "":
		if !filepath.IsAbs(cfg.ShareDir) || !filepath.IsAbs(cfg.PkgLibDir) {
			return location{}, fmt.Errorf("%w: pg_config %s gives a relative SHAREDIR %q or PKGLIBDIR %q", ErrLocation, pgConfig, cfg.ShareDir, cfg.PkgLibDir)
		}
		l.shareDir, l.pkgLibDir = filepath.Clean(cfg.ShareDir), filepath.Clean(cfg.PkgLibDir)
		if filepath.IsAbs(cfg.BinDir) {
			l.binDir = filepath.Clean(cfg.BinDir)
		}
		l.state = stateDir
		if l.state == "" {
			l.state = filepath.Join(l.shareDir, state.DirName)
		}
		abs, err := filepath.Abs(l.state)
		if err != nil {
			return location{}, fmt.Errorf("%w: state directory %s: %w", ErrLocation, l.state, err)
		}
		l.state = abs
	default:
		return location{}, fmt.Errorf("%w: set Root (PostgreSQL 18 and newer) or PGConfig (PostgreSQL 17 and older)", ErrLocation)
	}
	return l, nil
}

func (l location) pg17() bool         { return l.root == "" }
func (l location) dir() state.Dir     { return state.Dir(l.state) }
func (l location) recordsDir() string { return l.dir().Records() }
func (l location) tmpDir() string     { return l.dir().Tmp() }
func (l location) lockPath() string   { return l.dir().Lock() }
func (l location) recordPath(name string) string {
	return l.dir().Record(name)
}

// prepare creates the state directories.
func (l location) prepare() error { return l.dir().Prepare() }

func checkName(name string) error {
	if !state.ValidName(name) {
		return fmt.Errorf("%w: package name %q is not usable as a file name", ErrNotInstallable, name)
	}
	return nil
}

// readRecords reads every install record that reads; a missing state is
// no record. Damaged records (see readState) are left out: their files
// are then owned by nobody pgoci knows, which every check refuses to
// touch.
func (l location) readRecords() (map[string]Installed, error) {
	recs, _, err := l.readState()
	return recs, err
}

// readState reads every install record, and says why each damaged one
// (truncated by a power loss, say) does not read, by package name.
func (l location) readState() (recs map[string]Installed, damaged map[string]error, err error) {
	names, err := l.dir().RecordNames()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	recs = make(map[string]Installed, len(names))
	for _, name := range names {
		rec, err := l.readRecord(name)
		switch {
		case errors.Is(err, ErrNotInstalled): // removed meanwhile
		case err != nil:
			if damaged == nil {
				damaged = map[string]error{}
			}
			damaged[name] = err
		default:
			recs[name] = rec
		}
	}
	return recs, damaged, nil
}

// readRecord reads one install record; ok is false when there is none.
func (l location) readRecord(name string) (Installed, error) {
	var rec Installed
	if err := l.dir().ReadRecord(name, &rec); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Installed{}, fmt.Errorf("%w: %q", ErrNotInstalled, name)
		}
		return Installed{}, fmt.Errorf("%w: %w", ErrState, err)
	}
	if rec.Name != name {
		return Installed{}, fmt.Errorf("%w: %s records package %q", ErrState, l.recordPath(name), rec.Name)
	}
	return rec, nil
}

// writeRecord replaces rec's record durably (file and directory synced,
// whatever RootOptions.Durable says): records are small, and one lost
// to a power loss would leave files nobody owns.
func (l location) writeRecord(rec Installed) error { return l.dir().WriteRecord(rec.Name, rec) }

// removeRecord removes name's record, durably.
func (l location) removeRecord(name string) error { return l.dir().RemoveRecord(name) }

// newWorkspace creates and locks a workspace, named after this process
// and a random suffix.
func (l location) newWorkspace(ctx context.Context) (*state.Workspace, error) {
	id := fmt.Sprintf("%d-%s", os.Getpid(), cacheRandom())
	return state.NewWorkspace(ctx, l.tmpDir(), id)
}

// cleanTmp removes what killed installs left in <state>/tmp (see
// state.CleanTmp) and returns the paths removed; what it fails to remove
// goes to logf.
func (l location) cleanTmp(logf func(what, path string, err error)) []string {
	return state.CleanTmp(l.tmpDir(), logf)
}

// lockFile takes the exclusive lock at path (see state.Lock); off Unix
// it fails with ErrLocation, since installing needs flock(2).
func lockFile(ctx context.Context, path string) (*state.Flock, error) {
	lk, err := state.Lock(ctx, path)
	if errors.Is(err, state.ErrNoLocks) {
		return nil, fmt.Errorf("%w: file locks need a Unix system", ErrLocation)
	}
	return lk, err
}
