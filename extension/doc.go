// Package extension is the lifecycle SDK for PostgreSQL extensions shipped
// as OCI images: it packs an installed extension tree into images and
// pushes them to any OCI registry or image layout directory.
//
// # How do I use this package?
//
// Build the extension as usual, install it into a staging directory
// (`make install DESTDIR=/tmp/stage`), then pack that tree once per
// platform and PostgreSQL major and group the images in one index:
//
//	store, _ := ocilayout.New("/tmp/oci")      // or remote.NewRepository("ghcr.io/acme/postgis")
//	img, err := extension.Pack(ctx, store, "/tmp/stage", extension.Build{
//		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
//		Metadata: labels.Metadata{PG: labels.PG{Major: 18}, Libc: labels.Libc{Family: "glibc", Version: "2.36"}},
//	}, extension.PackOptions{})
//	idx, err := extension.PushIndex(ctx, store, []extension.Image{img /*, the arm64 one ... */}, "3.5.2")
//
// [Pack] reads the tree with [layout.Discover] (a DESTDIR tree or an image
// root layout), maps it onto the CloudNativePG-compatible image root
// (share/extension, lib, system, licenses), rewrites '$libdir/' module
// references so the image works under dynamic_library_path, and derives the
// labels (extensions, default versions, requires, preload hints) from the
// control files. What the tree cannot say (platform, libc, distro, exact
// PostgreSQL version, base image, compiler) comes from [Build], or from this
// machine with [PackOptions.DetectHost]. The labels are validated with
// [labels.Metadata.Validate] before anything is written.
//
// # Reproducible images
//
// A layer is a tar with entries sorted by path, every mtime set to
// SOURCE_DATE_EPOCH (or the Unix epoch, or [PackOptions.ModTime]), uid and
// gid 0 with no user or group names, and permissions normalised to 0755 or
// 0644. Compression uses fixed settings (zstd by default, gzip on request),
// so packing the same tree twice gives the same digests, and [PushIndex]
// orders its entries by PostgreSQL major, platform and digest whatever
// order the images came in.
//
// # Where labels go
//
// Every label is written to the manifest annotations and to the config's
// labels; the index entry of each manifest carries its platform and the
// selection subset ([labels.Metadata.SelectionAnnotations]) so that a
// resolver picks a manifest from the index alone. See labels/SPEC.md.
//
// # Streaming
//
// The layer streams tar -> diff ID hash -> compressor -> blob hash into a
// temporary file (never into memory), because a registry push needs the
// digest and size before the first byte. The file is removed when the
// push ends, whether it succeeded or not.
//
// # Inspecting
//
// [Inspect] reads what a reference names: the index, every manifest under
// it (platform, size, digest, layers) with its labels parsed by
// [labels.Parse], and the referrers of the index and of each manifest
// (signatures, SBOMs, attestations) as the OCI referrers API lists them;
// for an OCI layout, the index.json manifests whose subject they are.
// Everything is verified as resolve verifies it (digest and size, 4 MiB
// for manifests and configs, media type against content). Labels that do
// not parse are kept per manifest ([InspectedManifest].LabelsErr) rather
// than failing the inspection. An [Inspection] marshals to the JSON that
// `pgoci inspect --json` prints.
//
// # Copying for air-gapped sites
//
// [Copy] copies an index or manifest, with everything under it, between
// registries and OCI image layout directories ("oci:DIR[:tag]"). Every
// blob is hashed against its descriptor as it is read, a layout
// destination verifies again as it writes, and the tag is written last:
// a failed copy leaves the destination's tags unchanged. Layouts are
// written through pgoci's own store, safe under concurrent writers in
// several processes (index.json updated under flock and replaced by
// rename). Without [CopyOptions].Platforms an index is copied byte for
// byte and digests round-trip (registry -> layout -> registry); with it,
// the destination gets a new index of the selected entries, with a new
// digest. Signatures, SBOMs and attestations attached to what is copied
// (referrers, and cosign's legacy tags) come along unless
// [CopyOptions].NoReferrers.
//
// [CopyAll] fills a mirror with several repositories. Each keeps its last
// path element as its name, so the installer finds a dependency next to
// the package requiring it, as it does in the source registry:
//
//	ghcr.io/acme/cube:1.5       -> oci:/mirror/cube:1.5  (the layout /mirror/cube)
//	ghcr.io/acme/earthdistance  -> oci:/mirror/earthdistance, every tag
//	ghcr.io/acme/cube:1.5       -> registry.local/pg/cube:1.5
//
// A mirror directory is thus a directory of OCI layouts, one per
// repository, whose tags are the source's tags: skopeo, oras and resolve
// read each of them unchanged.
//
// # Installing
//
// [Open] opens an install location once, a [Root]: pg_config run, the
// server's [resolve.Target] given or detected, the options checked. Its
// methods do the rest. [Root.Install] puts an extension package on a
// server's machine: it resolves the reference for the target (an image
// that does not fit is a *[resolve.IncompatibleError], unchanged),
// installs the packages of the extensions it requires first, fetches the
// layers through a blob cache, verifies and unpacks them into a staging
// directory, checks that every module can load (package linkage), and
// publishes the result under a file lock. [Root.Uninstall],
// [Root.List], [Root.Verify], [Root.Repair] and [Root.Settings] work on
// the records it keeps; [Root.Plan], [Root.Apply] and [Root.Sync]
// converge the location to a desired list (see "Synchronising").
//
//	root, err := extension.Open(ctx, extension.RootOptions{
//		Root: "/var/lib/pgoci", PGConfig: "/usr/lib/postgresql/18/bin/pg_config"})
//	res, err := root.Install(ctx, "ghcr.io/acme/earthdistance:1.2", extension.InstallOptions{})
//	fmt.Print(res.Settings.PostgresqlConf()) // once, in postgresql.conf
//
// PostgreSQL 18 and newer (RootOptions.Root): each package lives in
// <root>/packages/<name>/<first 16 hex digits of the manifest digest>/ (the
// unpacked image root: share/extension, lib, system, bin, licenses), and
// <root>/packages/<name>/current is a relative symlink to it. The merged
// view, <root>/share/extension/<file>, <root>/lib/<file> (lib/bitcode/...
// included), <root>/system/<file> and <root>/bin/<file>, holds relative
// symlinks through packages/<name>/current. So the server settings
//
//	extension_control_path = '$system:<root>/share'
//	dynamic_library_path = '$libdir:<root>/lib'
//
// ([layout.PathSettings], returned in [Result.Settings]) never change: a
// new package is usable by CREATE EXTENSION with no restart and no reload
// (a package that needs shared_preload_libraries still needs its restart;
// [Installed.Restart] says so). A view file already owned by another
// package, or by nobody pgoci knows, is a *[ConflictError] naming the file
// and both parties, found before anything changes. An upgrade (any other
// manifest digest) is unpacked side by side, current is switched with one
// rename, view links are added for new files and removed for files the new
// version lacks, and the old directory is removed. State lives in
// <root>/.pgoci/ only: lock (the flock(2) serialising commits),
// installed/<name>.json (the records, replaced atomically), lock.json and
// tmp/ (staging). Nothing else appears in the root.
//
// PostgreSQL 17 and older (RootOptions.PGConfig without Root): files go
// into the server's own directories, read from pg_config once:
// share/extension into sharedir/extension, share/<directory> (a control
// file's directory parameter) into sharedir/<directory>, lib into
// pkglibdir (lib/bitcode into pkglibdir/bitcode), bin into bindir (the
// programs that ship beside an extension: pg_repack, repmgr, ...), and
// licenses into <state>/licenses/<name>/. A destination that exists and
// is not this package's, by the records, is a *[ConflictError]: server
// files and other packages' files are never overwritten. Modules,
// scripts and programs are written first and control files last, each
// under a temporary name then renamed, so CREATE EXTENSION sees an
// extension only when it is complete; an uninstall removes the control
// files first, then exactly the recorded files and the directories the
// package created, and keeps a recorded file whose bytes changed since
// the install (someone else wrote it), listing it in [Removed].Kept. An
// image holding system/ libraries is refused ([ErrNotInstallable]):
// without an install root there is no LD_LIBRARY_PATH entry the server
// would find them in. The state directory defaults to <sharedir>/.pgoci.
//
// # What an image may hold
//
// An image need not hold an extension: a logical decoding output plugin
// (wal2json), a library loaded only through shared_preload_libraries
// (hooks, background workers) or a package of programs installs, lists,
// verifies and uninstalls like any other; its labels say what it
// provides (org.pgoci.modules, org.pgoci.programs, labels/SPEC.md).
//
// Beyond the unpacker's checks, the installer refuses (ErrNotInstallable,
// before anything changes) content it could not place safely: a symbolic
// link other than a relative one that stays in its own top directory,
// goes through real directories only and ends at one of the package's
// regular files (lib/plugins/pre_prepare.so -> ../pre_prepare.so and
// libfoo.so -> libfoo.so.1 are fine; a link to a directory, out of the
// package or to another link would let a later file be written through
// it), a control file whose directory parameter is absolute or leaves
// share/, paths deeper than 32 levels or longer than 1024 bytes, and names
// over 200 bytes (the commit needs room for temporary names and view
// links). Layers are unpacked with unpack's NoSymlinkParents and checked
// against the config's diff_ids. At commit, under the lock, the package's
// requires are checked again: a dependency another process removed
// meanwhile fails the install with ErrMissingDependency.
//
// # Will it load?
//
// Labels can be absent or wrong, so before a package is committed every
// module (lib/**.so) is checked the way the dynamic loader would load it
// into this server (a [linkage.Checker]): each needed library found where
// the server will look (the module's RUNPATH with $ORIGIN taken at its
// installed place, <Root>/system, RootOptions.LibraryPath, the system's
// library directories), every undefined symbol defined by the server
// executable (RootOptions.Postgres) or a loaded library, the C library
// new enough. A module that cannot load is refused with a
// *[linkage.LoadError] naming the library or symbol, and the location is
// left as it was; [Root.Verify] runs the same check again later (a
// library removed by an OS upgrade). No code is executed: ELF is read
// with debug/elf. PackOptions.BundleLibs copies the libraries a module
// needs into system/ at pack time, in a layer of its own.
//
// # Trust
//
// RootOptions.Verifier (package trust: cosign signatures, keyed or
// keyless, and signed attestations, under a policy by registry prefix)
// checks every resolved image, dependencies included, after resolve and
// before the first layer byte is fetched; a refusal changes nothing, and
// the digest of the signature that verified is recorded in the
// [Installed] record and the lock file. [Pack] attaches an SPDX 2.3 SBOM of the
// package's files to every image as a referrer (Image.SBOM), and
// trust.Sign signs an image with a key.
//
// # Synchronising
//
// An operator holds a desired list, not a sequence of commands.
// [Root.Plan] compares a [Desired] list with the records and returns the
// steps that reach it: install what is missing, move packages to the
// wanted version (up or down), remove what is not wanted and dependencies
// nothing needs any more, providers before the packages that require them
// and requirers removed before what they require. [Root.Apply] runs the
// plan, RootOptions.Concurrency independent packages at a time, installing
// exactly the digests the plan resolved; a failed step leaves every
// completed step recorded and the next sync continues from there. A sync
// of a satisfied location changes nothing and, with a lock file, makes no
// registry request. [Root.Prune] removes dependencies nothing requires.
//
// # Damaged records
//
// Records and the lock file are always written durably. A record that
// does not read (a power loss can leave one empty) does not lock the
// location: [Root.List] and [Root.Verify] report it with a
// *[DamagedError] and go on, and [Root.Repair] rebuilds it from the
// package directory or quarantines it.
//
// # Dependencies
//
// Each extension named in a requires list that the package itself, an
// installed package or the server does not provide is installed first,
// from InstallOptions.DependencyRef (default [DefaultDependencyRef]: the
// repository next to the package's, named after the extension, highest
// version), depth first, so dependencies are committed before their
// dependents. The server provides an extension when
// <sharedir>/extension/<name>.control exists in InstallOptions.ServerShareDir
// (or pg_config's sharedir); without either, required extensions not
// installed by pgoci are always fetched. A cycle is ErrDependencyCycle and
// a dependency that cannot be installed ErrMissingDependency, both as a
// *[DependencyError] whose chain reads "earthdistance -> cube -> ...".
// InstallOptions.NoDeps skips all this.
//
// # Cache and lock file
//
// Blobs, manifests and indexes are cached by digest in a
// [blobcache.Cache] in RootOptions.CacheDir ("-" for none), by default
// [blobcache.DefaultDir]: $PGOCI_CACHE_DIR, else os.UserCacheDir()/pgoci,
// else a directory private to the user under os.TempDir() (a container
// with no HOME). RootOptions.Cache takes a cache opened with a size
// bound (least recently used blobs go first), or any other [BlobCache].
// Bytes are streamed into the cache while they are verified and kept only
// when they hashed right, so processes may share a cache. The installer
// trusts no cache: what it reads from one is verified again (layers by
// the unpacker, which hashes them once anyway), and a blob that no longer
// hashes right is deleted. A repeated install of a digest reference makes
// no request; one by tag makes one (the tag's manifest or index). OCI
// layout references are not cached.
//
// Every install records name -> reference -> digests in a lock file
// (<state>/lock.json by default). A later install of the same reference
// and version constraint resolves the pinned digest (the index when there
// is one, so a lock file serves several platforms) even after the tag
// moved; a pin that no longer fits the target is ErrPinned. Set
// InstallOptions.UpdateLock to re-resolve, LockFile "-" to do without.
// Uninstall leaves pins in place.
//
// # Crashes and concurrency
//
// Downloads and unpacking run outside the lock, in a private workspace
// under <state>/tmp whose own lock file tells cleaners it is alive; only
// the commit (renames, links, records) holds the root's lock, so installs
// from many goroutines or processes overlap and a package installed by
// several at once is committed once. A process killed before its commit
// leaves nothing visible, and the next install removes its workspace (its
// lock file is no longer held, whatever the PID namespace). A record is
// marked pending during its commit: a failure or a crash inside those
// milliseconds rolls back when it came before the switch of current and
// forward after it, at the next install or uninstall, and [Root.Verify]
// reports the pending record meanwhile. RootOptions.Durable adds the fsyncs that make a finished install
// survive a power loss. The SDK never prints: progress goes to
// RootOptions.Events (one [Event] type for Pack, Copy, Unpack and a
// Root's methods), and failures to clean up go to RootOptions.Logger.
package extension
