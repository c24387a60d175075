package extension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"pgoci/resolve"
	"pgoci/unpack"
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

// stateDirName is the state directory inside an install root.
const stateDirName = ".pgoci"

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
		l.state = filepath.Join(abs, stateDirName)
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
			l.state = filepath.Join(l.shareDir, stateDirName)
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
func (l location) recordsDir() string { return filepath.Join(l.state, "installed") }
func (l location) tmpDir() string     { return filepath.Join(l.state, "tmp") }
func (l location) lockPath() string   { return filepath.Join(l.state, "lock") }
func (l location) recordPath(name string) string {
	return filepath.Join(l.recordsDir(), name+".json")
}

// prepare creates the state directories.
func (l location) prepare() error {
	for _, d := range []string{l.recordsDir(), l.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("extension: state directory: %w", err)
		}
	}
	return nil
}

// validName matches package names usable as a file name.
var validName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$`)

func checkName(name string) error {
	if !validName.MatchString(name) || strings.Contains(name, "..") {
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
	entries, err := os.ReadDir(l.recordsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Installed{}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	recs = make(map[string]Installed, len(entries))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !e.Type().IsRegular() || checkName(name) != nil {
			continue
		}
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
	b, err := os.ReadFile(l.recordPath(name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Installed{}, fmt.Errorf("%w: %q", ErrNotInstalled, name)
		}
		return Installed{}, fmt.Errorf("%w: %w", ErrState, err)
	}
	var rec Installed
	if err := json.Unmarshal(b, &rec); err != nil {
		return Installed{}, fmt.Errorf("%w: %s: %w", ErrState, l.recordPath(name), err)
	}
	if rec.Name != name {
		return Installed{}, fmt.Errorf("%w: %s records package %q", ErrState, l.recordPath(name), rec.Name)
	}
	return rec, nil
}

// writeRecord replaces rec's record durably (file and directory synced,
// whatever RootOptions.Durable says): records are small, and one lost
// to a power loss would leave files nobody owns.
func (l location) writeRecord(rec Installed) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return stateWriteFile(l.recordPath(rec.Name), append(b, '\n'), true)
}

// removeRecord removes name's record, durably.
func (l location) removeRecord(name string) error {
	if err := os.Remove(l.recordPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return stateSyncDir(l.recordsDir())
}

// stateWriteFile writes data to a temporary file next to path and renames
// it over path, so readers see the old or the new content, never a part.
func stateWriteFile(path string, data []byte, durable bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && durable {
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("extension: write %s: %w", path, err)
	}
	if durable {
		return stateSyncDir(filepath.Dir(path))
	}
	return nil
}

func stateSyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// workspace is one install's private corner of <state>/tmp: a lock file
// held for the whole install (so cleaners know it is alive, across
// processes and PID namespaces) and the directories named after its id.
type workspace struct {
	dir, id string
	lock    *flock
}

// orphanAge is how old an unlocked leftover without a lock file must be
// before a cleaner removes it.
const orphanAge = time.Hour

// newWorkspace creates and locks a workspace. The lock file is created
// under a temporary name, locked, then renamed, so a cleaner never sees
// an unlocked lock file of a live install.
func (l location) newWorkspace(ctx context.Context) (*workspace, error) {
	id := fmt.Sprintf("%d-%s", os.Getpid(), cacheRandom())
	tmp := filepath.Join(l.tmpDir(), id+".locking")
	lk, err := lockFile(ctx, tmp)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(l.tmpDir(), id+".lock")); err != nil {
		lk.unlock()
		os.Remove(tmp)
		return nil, fmt.Errorf("extension: workspace: %w", err)
	}
	return &workspace{dir: l.tmpDir(), id: id, lock: lk}, nil
}

// path returns a path in the workspace named by id and suffix.
func (w *workspace) path(suffix string) string {
	return filepath.Join(w.dir, w.id+"."+suffix)
}

// close removes everything of the workspace and releases its lock;
// failures go to logf.
func (w *workspace) close(logf func(what, path string, err error)) {
	removeWorkspace(w.dir, w.id, logf)
	w.lock.unlock()
}

// removeWorkspace removes the entries of workspace id, the lock file last.
// What it cannot remove is left to the next install's cleanTmp, and
// reported to logf.
func removeWorkspace(dir, id string, logf func(what, path string, err error)) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), id) && e.Name() != id+".lock" {
			p := filepath.Join(dir, e.Name())
			logf("remove install workspace", p, unpack.RemoveAll(p))
		}
	}
	p := filepath.Join(dir, id+".lock")
	logf("remove install workspace lock", p, os.Remove(p))
}

// cleanTmp removes what killed installs left in <state>/tmp: workspaces
// whose lock file nobody holds (its process is gone), staging directories
// (unpack.CleanStaging) and other entries older than orphanAge. It
// returns the paths removed; what it fails to remove goes to logf.
func (l location) cleanTmp(logf func(what, path string, err error)) []string {
	var removed []string
	entries, err := os.ReadDir(l.tmpDir())
	if err != nil {
		return nil
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok {
			continue
		}
		lk, ok := tryLock(filepath.Join(l.tmpDir(), e.Name()))
		if !ok {
			continue
		}
		removeWorkspace(l.tmpDir(), id, logf)
		lk.unlock()
		removed = append(removed, filepath.Join(l.tmpDir(), id))
	}
	// Staging directories carry their workspace's id in their name, so the
	// loop below keeps those of live workspaces however old they are.
	entries, _ = os.ReadDir(l.tmpDir())
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".lock") {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > orphanAge {
			if p := filepath.Join(l.tmpDir(), e.Name()); !hasLiveLock(l.tmpDir(), e.Name()) {
				logf("remove leftover of an interrupted install", p, unpack.RemoveAll(p))
				removed = append(removed, p)
			}
		}
	}
	return removed
}

// hasLiveLock reports whether entry belongs to a workspace whose lock file
// exists (it is then held: cleanTmp removed the unheld ones).
func hasLiveLock(dir, entry string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".lock"); ok && strings.Contains(entry, id) {
			return true
		}
	}
	return false
}
