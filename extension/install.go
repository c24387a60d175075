package extension

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/state"
	"pgoci/labels"
	"pgoci/layout"
	"pgoci/linkage"
	"pgoci/resolve"
	"pgoci/unpack"
)

// InstallOptions tunes one [Root.Install]. The zero value installs the
// highest version with its dependencies, honouring the lock file and
// refusing a module that cannot load.
type InstallOptions struct {
	// Version is a version constraint for a reference without tag or
	// digest (see [resolve.ParseConstraint]). Default: the highest.
	Version string
	// NoDeps installs the package without its required extensions.
	// Default: dependencies are installed first.
	NoDeps bool
	// Dependencies maps a required extension to the reference of the
	// package providing it, for packages whose repository is not named
	// after the extension (postgis from .../postgis-3, pgq_node from
	// .../pgq-node). It is used only when no installed package and not
	// the server provide the extension. Default: none.
	Dependencies map[string]string
	// DependencyRef gives the reference to install a required extension
	// from, knowing the reference of the package that requires it, when
	// Dependencies has no entry for it.
	// Default [DefaultDependencyRef]: the same registry and repository
	// namespace, the last path element replaced by the extension name,
	// no tag (the highest version).
	DependencyRef func(ext string, from resolve.Reference) (string, error)
	// UpdateLock re-resolves references pinned by the lock file and
	// records the new digests. Default: pins are honoured.
	UpdateLock bool
	// SkipLinkCheck installs a package even when one of its modules
	// cannot load (see package linkage); the findings are in
	// PackageResult.Findings. Default: such a package is refused with
	// the *linkage.LoadError naming the module, the missing library or
	// symbol and where each was looked for.
	SkipLinkCheck bool
}

// Action says what [Root.Install] did to one package.
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
	// Findings are what the link check found that did not refuse the
	// package: symbols it could not check without the server executable
	// and, with SkipLinkCheck, the problems it would have refused.
	Findings []linkage.Finding
}

// Result is what [Root.Install] did.
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
// root's target, after the packages providing the extensions it
// requires. See the package documentation, "Installing", for the
// layout of a root, the PostgreSQL 17 mode, the blob cache, the lock file
// and the guarantees under concurrency and crashes.
//
// An image that fits no target is a *[resolve.IncompatibleError]
// (errors.As), unchanged. On error, packages already installed by this
// call (dependencies) stay installed and are listed in the Result; the
// package that failed left nothing behind.
func (r *Root) Install(ctx context.Context, ref string, opts InstallOptions) (Result, error) {
	i, err := r.newInstaller(ctx, opts)
	if err != nil {
		return Result{}, err
	}
	defer i.close()
	err = i.install(ctx, ref, opts.Version, nil, false)
	if lerr := i.saveLock(ctx); err == nil {
		err = lerr
	}
	res := Result{Packages: i.done}
	if !r.loc.pg17() {
		var serr error
		if res.Settings, serr = layout.PathSettings([]string{r.loc.root}); err == nil {
			err = serr
		}
	}
	return res, err
}

// installer carries one Install call, dependencies included.
type installer struct {
	r      *Root
	loc    location
	target resolve.Target
	opts   InstallOptions
	cache  *blobCache
	lock   state.LockFile
	// pins are the lock file entries to write at the end.
	pins map[string]state.Pin
	ws   *state.Workspace
	done []PackageResult
	// stack holds the packages whose dependencies are being installed,
	// outermost first, for cycle detection.
	stack []frame
	// linkCache holds the ELF files the link checks of this call read.
	linkCache *linkage.Cache
	// planned holds images a sync plan resolved already, by reference
	// and version constraint.
	planned map[string]planResolution
}

// frame is a package whose dependencies are being installed: the
// extensions it provides.
type frame struct{ exts []string }

func (r *Root) newInstaller(ctx context.Context, opts InstallOptions) (*installer, error) {
	target, err := r.Target(ctx)
	if err != nil {
		return nil, err
	}
	// The state directory is made when the first layer is staged, the
	// root's own directories (packages/, the view) by the first commit: an
	// install refused before (an image that does not fit, a signature
	// missing) leaves a new root as empty as it found it.
	r.loc.cleanTmp(r.logCleanup)
	cache, err := r.blobCache()
	if err != nil {
		return nil, err
	}
	i := &installer{r: r, loc: r.loc, target: target, opts: opts, cache: cache, pins: map[string]state.Pin{}}
	if p := i.lockPath(); p != "" {
		lf, err := readLockFile(p)
		if err != nil {
			return nil, err
		}
		i.lock = lf
	}
	return i, nil
}

func (i *installer) close() {
	if i.ws != nil {
		i.ws.Close(i.r.logCleanup)
	}
}

// lockPath is the lock file, "" when disabled.
func (i *installer) lockPath() string {
	switch i.r.opts.LockFile {
	case "-":
		return ""
	case "":
		return filepath.Join(i.loc.state, "lock.json")
	}
	return i.r.opts.LockFile
}

func (i *installer) emit(e Event) { i.r.emit(e) }

// install installs ref (with the version constraint version) and its
// dependencies. chain is the requirement chain that led to it.
func (i *installer) install(ctx context.Context, ref, version string, chain []string, dep bool) error {
	res, src, err := i.resolve(ctx, ref, version)
	if err != nil {
		return err
	}
	if err := i.loc.fitsMajor(res); err != nil {
		return err
	}
	var pre *staged
	if !listsContent(res.Metadata) {
		if pre, err = i.stageUnlabelled(ctx, ref, &res, src); err != nil {
			return err
		}
		defer i.removeStaged(pre.dir)
	}
	name, err := packageName(res.Metadata)
	if err != nil {
		return fmt.Errorf("%w (%s)", err, res.Reference)
	}
	i.emit(Event{Kind: EventResolve, Package: name, Version: res.Metadata.Package.Version, Reference: ref, Digest: res.Manifest.Digest})
	if !i.opts.NoDeps {
		if len(chain) == 0 {
			chain = []string{name}
		}
		i.stack = append(i.stack, frame{exts: extensionNames(res.Metadata)})
		err := i.installDeps(ctx, ref, res.Metadata, chain)
		i.stack = i.stack[:len(i.stack)-1]
		if err != nil {
			return err
		}
	}
	return i.installResolved(ctx, ref, version, name, res, src, dep, pre)
}

// listsContent reports whether labels say what an image provides:
// extensions, loadable modules or programs.
func listsContent(m labels.Metadata) bool {
	return len(m.Extensions)+len(m.Modules)+len(m.Programs) > 0
}

// stageUnlabelled handles an image whose labels do not list what it
// provides, such as a CloudNativePG extension image built by its own
// tooling: it is fetched and unpacked first, and its extensions (default
// versions, requires), modules and programs are read from its content, so
// that its dependencies can be installed before it is committed. A
// package with no name in its labels is named after its only extension,
// else after its repository (CloudNativePG's convention).
func (i *installer) stageUnlabelled(ctx context.Context, ref string, res *resolve.Resolved, src resolve.Source) (*staged, error) {
	if err := i.workspace(ctx); err != nil {
		return nil, err
	}
	name := cmp.Or(res.Metadata.Package.Name, repositoryName(ref))
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, res.Reference)
	}
	st, err := i.stage(ctx, ref, name, *res, src)
	if err != nil {
		return nil, err
	}
	tree, err := layout.Discover(ctx, st.dir, layout.Options{})
	if err != nil {
		i.removeStaged(st.dir)
		return nil, fmt.Errorf("%w: %s: its labels list nothing it provides, and its content says nothing either: %w",
			ErrNotInstallable, res.Reference, err)
	}
	for _, e := range tree.Extensions {
		res.Metadata.Extensions = append(res.Metadata.Extensions, extensionLabels(e.Control))
	}
	res.Metadata.Modules, res.Metadata.Programs = tree.Modules, tree.Programs
	if res.Metadata.Package.Name == "" && len(tree.Extensions) == 1 {
		name = tree.Extensions[0].Name
	}
	res.Metadata.Package.Name = name
	st.rec = newRecord(ref, name, *res, st.rec.Files)
	return st, nil
}

// fitsMajor refuses, in an install root, an image built for PostgreSQL 17
// or older: a root works through extension_control_path, which older
// servers lack, so such an image could only be installed there by
// mistake (a target that did not state its major).
func (l location) fitsMajor(res resolve.Resolved) error {
	major := res.Metadata.PG.Major
	if major == 0 && res.Metadata.PG.VersionNum >= 100000 {
		major = res.Metadata.PG.VersionNum / 10000
	}
	if l.pg17() || major == 0 || major >= 18 {
		return nil
	}
	return fmt.Errorf("%w: %s is built for PostgreSQL %d; an install root is for PostgreSQL 18 and newer (extension_control_path): install it into a PostgreSQL %d server's own directories (PGConfig, pgoci install --pg-config)",
		ErrNotInstallable, res.Reference, major, major)
}

// repositoryName is the last element of ref's repository (or of its OCI
// layout directory).
func repositoryName(ref string) string {
	r, err := resolve.ParseReference(ref)
	if err != nil {
		return ""
	}
	if r.Layout != "" {
		return filepath.Base(r.Layout)
	}
	return path.Base(r.Repository)
}

// resolve resolves ref for the target through the blob cache, or the
// digest the lock file pins for it.
func (i *installer) resolve(ctx context.Context, ref, version string) (resolve.Resolved, resolve.Source, error) {
	if pr, ok := i.planned[ref+"\x00"+version]; ok {
		return pr.res, pr.src, nil
	}
	target, pinnedVersion := ref, version
	pin, entry, pinned := pinnedRef(i.lock, ref, version)
	if pinned && !i.opts.UpdateLock {
		target, pinnedVersion = pin, ""
	}
	src, r, err := resolve.Open(ctx, target, i.r.opts.Remote)
	if err != nil {
		return resolve.Resolved{}, nil, err
	}
	if i.cache != nil && !installIsLayout(target) {
		src = &cachedSource{src: src, cache: i.cache}
	}
	// The config is read for its diff_ids, which the unpacker verifies.
	res, err := resolve.Resolve(ctx, src, r, i.target, resolve.Options{Policy: i.r.opts.Policy, Version: pinnedVersion, Remote: i.r.opts.Remote,
		FetchConfig: true, Verifier: i.r.opts.Verifier})
	if err != nil && pinned && !i.opts.UpdateLock {
		return res, nil, fmt.Errorf("%w: %s is pinned to %s by the lock file %s (install with UpdateLock to re-resolve): %w",
			ErrPinned, ref, entry.Digest, i.lockPath(), err)
	}
	return res, src, err
}

// packageName is the package's name from its labels, else the name of
// its only extension.
func packageName(m labels.Metadata) (string, error) {
	name := m.Package.Name
	if name == "" && len(m.Extensions) == 1 {
		name = m.Extensions[0].Name
	}
	if name == "" {
		return "", fmt.Errorf("%w: the image names no package (org.pgoci.package.name) and not exactly one extension", ErrNotInstallable)
	}
	return name, checkName(name)
}

func extensionNames(m labels.Metadata) []string {
	names := make([]string, len(m.Extensions))
	for k, e := range m.Extensions {
		names[k] = e.Name
	}
	return names
}

// installResolved fetches, unpacks and commits one resolved package.
// pre, when not nil, is the package already staged by stageUnlabelled.
func (i *installer) installResolved(ctx context.Context, ref, version, name string, res resolve.Resolved, src resolve.Source, dep bool, pre *staged) error {
	if rec, err := i.loc.readRecord(name); err == nil && rec.Manifest == res.Manifest.Digest && !rec.Pending {
		if dep || !rec.Dependency {
			i.skip(ref, version, rec, res)
			return nil
		}
		return i.adopt(ctx, ref, version, name, res)
	}
	st := pre
	if st == nil {
		if err := i.workspace(ctx); err != nil {
			return err
		}
		var err error
		if st, err = i.stage(ctx, ref, name, res, src); err != nil {
			return err
		}
		defer i.removeStaged(st.dir)
	}
	st.rec.Dependency = dep
	findings, err := i.checkLinks(ctx, st)
	if err != nil {
		return err
	}
	lk, err := i.lockState(ctx)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	if err := i.loc.recoverPending(); err != nil {
		return err
	}
	if !i.opts.NoDeps {
		if err := i.requiresStillMet(st.rec); err != nil {
			return err
		}
	}
	prev, err := i.loc.readRecord(name)
	hasPrev := err == nil
	if err != nil && !errors.Is(err, ErrNotInstalled) {
		return err
	}
	if hasPrev && prev.Manifest == st.rec.Manifest && !prev.Pending {
		if !dep && prev.Dependency {
			prev.Dependency = false
			if err := i.loc.writeRecord(prev); err != nil {
				return err
			}
		}
		i.skip(ref, version, prev, res)
		return nil
	}
	if hasPrev {
		st.rec.Dependency = dep && prev.Dependency
	}
	i.emit(Event{Kind: EventCommit, Package: name, Version: st.rec.Version, Reference: ref, Digest: st.rec.Manifest})
	var prevp *Installed
	if hasPrev {
		prevp = &prev
	}
	var rec Installed
	if i.loc.pg17() {
		rec, err = i.commit17(st, prevp)
	} else {
		rec, err = i.commit18(st, prevp)
	}
	if err != nil {
		return err
	}
	action, previous := ActionInstalled, ""
	if hasPrev {
		action, previous = ActionUpgraded, prev.Version
	}
	i.pin(ref, version, rec)
	i.done = append(i.done, PackageResult{Installed: rec, Action: action, Previous: previous, Findings: findings})
	i.emit(Event{Kind: EventDone, Package: name, Version: rec.Version, Reference: ref, Digest: rec.Manifest, Files: int64(len(rec.Files))})
	return nil
}

// adopt marks package name, installed as a dependency at the digest
// asked for, as installed for itself: nothing to fetch, only its record
// to change, under the lock.
func (i *installer) adopt(ctx context.Context, ref, version, name string, res resolve.Resolved) error {
	lk, err := i.lockState(ctx)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	rec, err := i.loc.readRecord(name)
	if err != nil {
		return err
	}
	if rec.Dependency {
		rec.Dependency = false
		if err := i.loc.writeRecord(rec); err != nil {
			return err
		}
	}
	i.skip(ref, version, rec, res)
	return nil
}

func (i *installer) skip(ref, version string, rec Installed, res resolve.Resolved) {
	if res.Signature != "" {
		rec.Signature = res.Signature // verified again just now
	}
	i.pin(ref, version, rec)
	i.done = append(i.done, PackageResult{Installed: rec, Action: ActionUnchanged})
	i.emit(Event{Kind: EventSkip, Package: rec.Name, Version: rec.Version, Reference: ref, Digest: res.Manifest.Digest})
}

func (i *installer) pin(ref, version string, rec Installed) {
	i.pins[rec.Name] = state.Pin{Reference: ref, Version: version, Digest: rec.Manifest, Index: rec.Index, Signature: rec.Signature}
}

// saveLock writes the pins of this call into the lock file, under the
// root's lock.
func (i *installer) saveLock(ctx context.Context) error {
	p := i.lockPath()
	if p == "" || len(i.pins) == 0 {
		return nil
	}
	lk, err := i.lockState(ctx)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	return updateLockFile(p, i.pins)
}

// removeStaged removes a staged package; the workspace's removal at the
// end of the call, or the next install's cleanTmp, retries what fails.
func (i *installer) removeStaged(dir string) {
	i.r.logCleanup("remove staged package", dir, unpack.RemoveAll(dir))
}

// lockState takes the location's lock, making the state directory first.
func (i *installer) lockState(ctx context.Context) (*state.Flock, error) {
	if err := i.loc.prepare(); err != nil {
		return nil, err
	}
	return lockFile(ctx, i.loc.lockPath())
}

func (i *installer) workspace(ctx context.Context) error {
	if i.ws != nil {
		return nil
	}
	if err := i.loc.prepare(); err != nil {
		return err
	}
	ws, err := i.loc.newWorkspace(ctx)
	if err != nil {
		return err
	}
	i.ws = ws
	return nil
}

// staged is a package unpacked and verified in the workspace, with its
// record filled but for the location-specific fields.
type staged struct {
	dir string
	rec Installed
}

// stage fetches the layers through the cache and unpacks them into the
// workspace, verified, then hashes the files for the record.
func (i *installer) stage(ctx context.Context, ref, name string, res resolve.Resolved, src resolve.Source) (*staged, error) {
	layers := res.ManifestBody.Layers
	var total int64
	for _, l := range layers {
		if !unpack.MediaTypeSupported(l.MediaType) {
			return nil, fmt.Errorf("%w: %s: layer %s has media type %q", ErrNotInstallable, res.Reference, l.Digest, l.MediaType)
		}
		total += l.Size
	}
	dir := i.ws.Path(name + "-" + res.Manifest.Digest.Encoded()[:16])
	s, err := unpack.Stage(dir)
	if err != nil {
		return nil, err
	}
	defer s.Discard()
	diffIDs, err := layerDiffIDs(res)
	if err != nil {
		return nil, err
	}
	var base, files int64
	// The unpacker hashes each file as it writes it: the record's digests
	// come from there, not from reading the files again.
	sums := map[string]fileSum{}
	record := func(p string, size int64, d digest.Digest) { sums[p] = fileSum{size, d} }
	for k, l := range layers {
		st, err := i.layer(ctx, s, src, l, diffIDs[k], record, name, ref, res, base, total)
		if err != nil {
			return nil, fmt.Errorf("extension: install %s: layer %s: %w", name, l.Digest, err)
		}
		base += l.Size
		files += st.Files
	}
	if err := s.Commit(i.r.opts.Durable); err != nil {
		return nil, err
	}
	i.emit(Event{Kind: EventUnpack, Package: name, Version: res.Metadata.Package.Version, Reference: ref, Digest: res.Manifest.Digest, Files: files})
	fl, err := hashTree(ctx, dir, sums)
	if err != nil {
		i.removeStaged(dir)
		return nil, err
	}
	if err := i.checkContent(dir, fl); err != nil {
		i.removeStaged(dir)
		return nil, fmt.Errorf("%w (%s)", err, res.Reference)
	}
	return &staged{dir: dir, rec: newRecord(ref, name, res, fl)}, nil
}

func (i *installer) layer(ctx context.Context, s *unpack.Staging, src resolve.Source, l ocispec.Descriptor, diffID digest.Digest,
	record func(string, int64, digest.Digest), name, ref string, res resolve.Resolved, base, total int64) (unpack.Stats, error) {
	var (
		rc   io.ReadCloser
		done = func(err error) error { return err }
		err  error
	)
	if cs, ok := src.(*cachedSource); ok {
		rc, done, err = cs.layerReader(ctx, l)
	} else {
		rc, err = src.Fetch(ctx, l)
	}
	if err != nil {
		return unpack.Stats{}, err
	}
	defer rc.Close()
	progress := func(done, _ int64) {
		i.emit(Event{Kind: EventFetch, Package: name, Version: res.Metadata.Package.Version, Reference: ref, Digest: res.Manifest.Digest, Bytes: base + done, Total: total})
	}
	// An extension image never needs a symlinked parent directory (that is
	// for usrmerge base images), so the strict mode refuses them. The
	// unpacker verifies digest, size and diff_id as it reads: the only
	// hash of these bytes.
	opts := unpack.Options{Durable: i.r.opts.Durable, Progress: progress, NoSymlinkParents: true, DiffID: diffID, FileDigest: record}
	st, err := unpack.Layer(ctx, s.Root(), rc, l, opts)
	return st, done(err)
}

// layerDiffIDs are the config's rootfs.diff_ids, one per layer: the
// digest each layer's uncompressed tar must have. An image whose config
// does not list one per layer is refused.
func layerDiffIDs(res resolve.Resolved) ([]digest.Digest, error) {
	n := len(res.ManifestBody.Layers)
	if res.Image == nil || len(res.Image.RootFS.DiffIDs) != n {
		got := 0
		if res.Image != nil {
			got = len(res.Image.RootFS.DiffIDs)
		}
		return nil, fmt.Errorf("%w: %s: the config lists %d diff_ids for %d layers", ErrNotInstallable, res.Reference, got, n)
	}
	return res.Image.RootFS.DiffIDs, nil
}

func newRecord(ref, name string, res resolve.Resolved, files []InstalledFile) Installed {
	m := res.Metadata
	rec := Installed{
		Name: name, Version: m.Package.Version, Reference: ref, Resolved: res.Reference,
		Manifest: res.Manifest.Digest, Signature: res.Signature, Platform: resolve.PlatformString(res.Platform),
		PGMajor: m.PG.Major, Extensions: m.Extensions, Modules: m.Modules, Programs: m.Programs, Preload: m.Preload,
		Restart: len(m.Preload) > 0 || (m.Restart != nil && *m.Restart), Files: files,
		InstalledAt: time.Now().UTC().Truncate(time.Second),
	}
	if res.Index.Digest != "" {
		rec.Index = res.Index.Digest
	}
	return rec
}
