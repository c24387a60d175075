package extension

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"pgoci/labels"
	"pgoci/resolve"
)

// RootOptions names an install location and describes the server it
// serves, for [Open]. Exactly one location is needed: Root (PostgreSQL 18
// and newer) or PGConfig (PostgreSQL 17 and older); every other field has
// a documented default.
type RootOptions struct {
	// Root is the install root (PostgreSQL 18 mode): packages go to
	// <Root>/packages/<name>/, the merged view to <Root>/share/extension,
	// <Root>/lib, <Root>/system and <Root>/bin, state to <Root>/.pgoci/.
	// The server needs extension_control_path = '$system:<Root>/share'
	// and dynamic_library_path = '$libdir:<Root>/lib' ([Root.Settings]).
	Root string
	// PGConfig is the server's pg_config program, run once by [Open].
	// Without Root it selects PostgreSQL 17 mode: files go into its
	// sharedir/extension and pkglibdir. With Root it tells which
	// extensions the server already ships (see ServerShareDir), where
	// the server executable is (the link check), and the target.
	// Default: none.
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
	// Target describes the server images are chosen for. Default: when
	// PGConfig is set, [resolve.Detect] with its output (PostgreSQL
	// version, this machine's platform, C library and distribution);
	// otherwise nothing is known, and an index with images for several
	// PostgreSQL majors is ambiguous ([ErrAmbiguous]).
	Target resolve.Target
	// Postgres is the server executable the link check loads each module
	// into (its dynamic symbol table and libraries). Default:
	// <pg_config bindir>/postgres when PGConfig is set; otherwise
	// unknown, and a symbol nothing else defines is reported unchecked
	// (PackageResult.Findings), never passed silently.
	Postgres string
	// LibraryPath lists directories on the server's LD_LIBRARY_PATH
	// beyond <Root>/system, for the link check. Default: none.
	LibraryPath []string
	// CacheDir is the content-addressed blob cache, a [blobcache.Cache]
	// without a bound. Default: [blobcache.DefaultDir] ($PGOCI_CACHE_DIR,
	// else os.UserCacheDir()/pgoci, else a private directory under
	// os.TempDir()); "-" disables the cache. OCI layout references
	// (oci:DIR) are never cached: they are local already.
	CacheDir string
	// Cache, when set, is the blob cache, and CacheDir is ignored: a
	// [blobcache.Cache] opened with a bound, or another [BlobCache].
	Cache BlobCache
	// Remote configures registry access (credentials, plain HTTP).
	Remote resolve.RemoteOptions
	// Policy is the compatibility policy. Default: [resolve.Default].
	Policy resolve.Policy
	// Verifier checks each image resolved, dependencies included, before
	// the first layer byte is fetched: signatures and attestations against
	// a policy (trust.NewVerifier). A refusal leaves the location as it
	// was; the digest of the signature that verified is recorded
	// (Installed.Signature, the lock file). Default: none.
	Verifier resolve.Verifier
	// LockFile pins references to digests. Default: <state dir>/lock.json
	// (<Root>/.pgoci/lock.json); "-" disables it.
	LockFile string
	// Durable fsyncs the unpacked files and their directories so that a
	// power loss after an install returns cannot lose it. Default: off.
	// Records and the lock file are always written durably: they are
	// small, and a record lost would leave files nobody owns.
	Durable bool
	// Concurrency is how many installs [Root.Apply] runs at once.
	// Default: 4.
	Concurrency int
	// Events receives progress of installs, removals and syncs. It is
	// called from one goroutine at a time, not always the one that called
	// the method (fetch progress comes from the unpacker's), and must
	// return quickly. Default: none.
	Events func(Event)
	// Logger receives what pgoci cannot report through a method's error:
	// a temporary directory or an old cache file it failed to remove.
	// Default: none.
	Logger *slog.Logger
}

// Root is an install location opened once: pg_config run, the target
// known, the options checked. Its methods install, remove, list, verify,
// repair and synchronise the packages there. A Root is safe for
// concurrent use, and so are several processes working on the same
// location: every change happens under the location's lock file.
// Records are read again by each call, since another process may have
// changed them.
type Root struct {
	loc  location
	opts RootOptions

	targetOnce sync.Once
	target     resolve.Target
	targetErr  error

	cacheOnce sync.Once
	cache     *blobCache
	cacheErr  error
	events    sync.Mutex
}

// Open opens the install location opts names. It runs pg_config when
// opts.PGConfig is set (once: the Root keeps what it printed). A location where
// nothing was installed yet opens: [Root.Install] creates its state, and
// [Root.List] and the other readers report [ErrNoState].
func Open(ctx context.Context, opts RootOptions) (*Root, error) {
	loc, err := openLocation(ctx, opts.Root, opts.PGConfig, opts.StateDir, opts.ServerShareDir)
	if err != nil {
		return nil, err
	}
	major := opts.Target.PG.Major
	if major == 0 && loc.pgConfig != nil && targetUnset(opts.Target) {
		major = loc.pgConfig.PG.Major
	}
	if !loc.pg17() && major != 0 && major < 18 {
		return nil, fmt.Errorf("%w: an install root needs PostgreSQL 18 or newer (extension_control_path), the target is %d: use PGConfig", ErrLocation, major)
	}
	return &Root{loc: loc, opts: opts}, nil
}

// Target is the server images are chosen for: RootOptions.Target when
// set, else, with PGConfig, what [resolve.Detect] finds from its output and
// this machine (detected once, on first use: a Root that only lists never
// runs it).
func (r *Root) Target(ctx context.Context) (resolve.Target, error) {
	r.targetOnce.Do(func() {
		r.target = r.opts.Target
		if targetUnset(r.target) && r.loc.pgConfig != nil {
			r.target, r.targetErr = resolve.Detect(ctx, resolve.DetectOptions{Config: r.loc.pgConfig})
		}
	})
	return r.target, r.targetErr
}

// targetUnset reports whether nothing at all is said about the target.
func targetUnset(t resolve.Target) bool {
	return t.PG == (labels.PG{}) && t.Platform.OS == "" && t.Platform.Architecture == "" &&
		t.Libc == (labels.Libc{}) && t.Distro == (labels.Distro{})
}

// blobCache opens the blob cache on first use (a Root only listing never
// creates it).
func (r *Root) blobCache() (*blobCache, error) {
	r.cacheOnce.Do(func() {
		if r.opts.Cache != nil {
			r.cache = &blobCache{c: r.opts.Cache}
			return
		}
		if r.opts.CacheDir == "-" {
			return
		}
		dir := r.opts.CacheDir
		if dir == "" {
			if dir, r.cacheErr = defaultCacheDir(); r.cacheErr != nil {
				return
			}
		}
		r.cache, r.cacheErr = openCache(dir)
	})
	return r.cache, r.cacheErr
}

// emit sends e to RootOptions.Events, one call at a time.
func (r *Root) emit(e Event) {
	if r.opts.Events == nil {
		return
	}
	r.events.Lock()
	defer r.events.Unlock()
	r.opts.Events(e)
}

// logCleanup reports a failed cleanup to RootOptions.Logger.
func (r *Root) logCleanup(what, path string, err error) {
	if err != nil && r.opts.Logger != nil {
		r.opts.Logger.Warn("pgoci: cleanup failed", "what", what, "path", path, "err", err)
	}
}
