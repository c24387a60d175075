package extension

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"pgoci/labels"
	"pgoci/layout"
	"pgoci/resolve"
	"pgoci/trust/sbom"
)

// Build is what the caller states about the environment an extension tree
// was built in. What the tree itself says (extension names, versions,
// requires, modules, preload hints) is read from it; a value set here wins
// over the tree's.
type Build struct {
	// Platform is the OCI platform the modules were compiled for.
	// Required unless [PackOptions.DetectHost] is set.
	Platform ocispec.Platform
	// Metadata holds the stated labels: at least the PostgreSQL major
	// (unless the tree's paths or DetectHost give it), and ideally the
	// exact version_num, libc, distro, base image and compiler. Package
	// name and version default to the tree's.
	Metadata labels.Metadata
}

// PackOptions tunes [Pack]. The zero value packs with zstd, mtime from
// SOURCE_DATE_EPOCH (else the Unix epoch), temporary files under
// [os.TempDir], and no host detection.
type PackOptions struct {
	// Compression of the layer. Default [Zstd].
	Compression Compression
	// ModTime is the mtime of every entry. Default: SOURCE_DATE_EPOCH
	// when set, else 1970-01-01T00:00:00Z, so that packing is
	// reproducible.
	ModTime time.Time
	// TempDir holds the compressed layer while it is hashed, before it is
	// pushed. Default [os.TempDir].
	TempDir string
	// Annotations are extra manifest annotations and config labels. They
	// cannot override a pgoci key.
	Annotations map[string]string
	// Preload adds module names to the shared_preload_libraries hint.
	Preload []string
	// Extensions packs only these extensions of the tree, with the
	// scripts, modules and bitcode they use (one image per extension of a
	// server's contrib, say). Default: everything the tree holds.
	Extensions []string
	// DefaultVersion is the package version when neither
	// Build.Metadata.Package.Version nor the tree (the default_version of
	// the extension named like the package, or of the only extension)
	// gives one: a tree of modules or programs only says none. Default:
	// such a tree is refused with ErrInvalidBuild.
	DefaultVersion string
	// BundleLibs copies into system/ every shared library the modules need
	// that resolves through their RUNPATH (with $ORIGIN at their place in
	// the tree) or LibPath, outside the C runtime, with the closure of
	// those libraries' own needs and their soname links, in a layer of
	// its own (see [linkage.PlanBundle]). Libraries found only through
	// this machine's system library path are left to the target's OS
	// (recorded in org.pgoci.os.requires) unless BundleSystemLibs.
	// Default: off.
	BundleLibs bool
	// LibPath lists directories searched for libraries to bundle, after
	// the modules' own RUNPATH.
	LibPath []string
	// BundleSystemLibs also bundles libraries found through this
	// machine's ld.so.cache and default directories.
	BundleSystemLibs bool
	// Events receives warnings (EventWarning): RUNPATHs into the build
	// machine, needed libraries found nowhere when bundling, a stated
	// compiler the binaries contradict; an EventPack per layer written
	// (Digest, Bytes compressed, Files) and an EventDone once the
	// manifest is pushed (Digest). Default: none.
	Events func(Event)
	// NoSBOM leaves out the SPDX 2.3 SBOM that Pack otherwise attaches to
	// the image as a referrer (Image.SBOM). Default: attached.
	NoSBOM bool
	// DetectHost fills what the caller left unknown (platform, PostgreSQL
	// version, libc, distro) from this machine, using PGConfig. A stated
	// PostgreSQL major that differs from pg_config's is an error. The
	// compiler is never guessed: state it in Build.Metadata.
	DetectHost bool
	// PGConfig is the pg_config program used by DetectHost. Default
	// "pg_config" on PATH.
	PGConfig string
}

// Pack packs the extension tree at dir (a `make install DESTDIR=...` tree
// or an image root layout) into one image and pushes its blobs and manifest
// to dst: an OCI layout store, a remote repository or any oras-go target.
// It does not tag: group the images of one package version with [PushIndex].
//
// Packing is reproducible: the same tree, build and options give the same
// manifest digest.
func Pack(ctx context.Context, dst content.Pusher, dir string, b Build, opts PackOptions) (Image, error) {
	tree, err := layout.Discover(ctx, dir, layout.Options{Preload: opts.Preload, Extensions: opts.Extensions})
	if err != nil {
		return Image{}, err
	}
	entries, err := tree.Entries(ctx, layout.MapOptions{})
	if err != nil {
		return Image{}, err
	}
	warn := func(msg string) { emit(opts.Events, Event{Kind: EventWarning, Message: msg}) }
	bins, err := readBinaries(ctx, entries)
	if err != nil {
		return Image{}, err
	}
	var system []layerFile
	if opts.BundleLibs {
		var sysBins []binary
		if system, sysBins, err = bundleLibs(ctx, entries, opts, warn); err != nil {
			return Image{}, err
		}
		bins = append(bins, sysBins...)
	}
	meta, platform, err := packMetadata(ctx, tree, b, opts, bins, warn)
	if err != nil {
		return Image{}, err
	}
	mtime, err := modTime(opts.ModTime)
	if err != nil {
		return Image{}, err
	}
	// Bundled libraries go first, in a layer of their own: a new version
	// of the extension built against the same libraries gives the same
	// layer digest, which registries and caches keep.
	var layers []ocispec.Descriptor
	var diffIDs []digest.Digest
	var sums []sbom.File
	for _, files := range [][]layerFile{system, layerFiles(entries)} {
		if len(files) == 0 {
			continue
		}
		blob, err := buildLayer(ctx, files, opts.Compression, mtime, opts.TempDir)
		if err != nil {
			return Image{}, err
		}
		err = pushLayer(ctx, dst, blob)
		blob.remove()
		if err != nil {
			return Image{}, err
		}
		layers, diffIDs = append(layers, blob.Desc), append(diffIDs, blob.DiffID)
		sums = append(sums, blob.Files...)
		emit(opts.Events, Event{Kind: EventPack, Package: meta.Package.Name, Version: meta.Package.Version,
			Digest: blob.Desc.Digest, Bytes: blob.Desc.Size, Files: int64(len(blob.Files))})
	}
	img, err := pushImage(ctx, dst, layers, diffIDs, meta, platform, opts.Annotations)
	if err != nil {
		return img, err
	}
	emit(opts.Events, Event{Kind: EventDone, Package: meta.Package.Name, Version: meta.Package.Version, Digest: img.Manifest.Digest})
	if opts.NoSBOM {
		return img, nil
	}
	img.SBOM, err = attachSBOM(ctx, dst, img, sums, mtime)
	return img, err
}

// attachSBOM writes the image's SPDX 2.3 SBOM (the package, the
// PostgreSQL it was built for, every file with its hashes, the libraries
// and OS packages it needs) as a referrer of its manifest, with the
// artifact type scanners look for (Trivy's --sbom-sources oci). It is
// reproducible: its creation time is the layers' mtime.
func attachSBOM(ctx context.Context, dst content.Pusher, img Image, files []sbom.File, mtime time.Time) (ocispec.Descriptor, error) {
	m := img.Metadata
	doc, err := sbom.Build(sbom.Package{
		Name: m.Package.Name, Version: m.Package.Version, Licenses: m.Licenses,
		PostgreSQL: cmp.Or(m.PG.Version, strconv.Itoa(m.PG.Major)), Files: files,
		Libraries: m.OSRequires, Created: mtime,
	})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("extension: SBOM of %s: %w", m.Package.Name, err)
	}
	d, err := sbom.Attach(ctx, dst, img.Manifest, doc, mtime)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("extension: attach the SBOM of %s: %w", m.Package.Name, err)
	}
	return d, nil
}

func pushLayer(ctx context.Context, dst content.Pusher, blob layerBlob) error {
	f, err := blob.open()
	if err != nil {
		return fmt.Errorf("extension: reopen layer: %w", err)
	}
	defer f.Close()
	return pushBlob(ctx, dst, blob.Desc, f)
}

// layerFiles adapts the layout's entries to the layer writer.
func layerFiles(entries []layout.Entry) []layerFile {
	files := make([]layerFile, len(entries))
	for i, e := range entries {
		files[i] = layerFile{Name: e.Path, Mode: e.Mode, Size: e.Size, Linkname: e.Link, Open: e.Open}
	}
	return files
}

// modTime picks the entries' mtime: the option, else SOURCE_DATE_EPOCH,
// else the Unix epoch.
func modTime(t time.Time) (time.Time, error) {
	if !t.IsZero() {
		return t.UTC(), nil
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil || sec < 0 {
			return time.Time{}, fmt.Errorf("%w: SOURCE_DATE_EPOCH=%q (want seconds since 1970)", ErrInvalidBuild, s)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Unix(0, 0).UTC(), nil
}

// packMetadata merges what the tree says, what the caller states and, when
// asked, what the host says, in that order of increasing precedence for
// the caller's values, and validates the result.
func packMetadata(ctx context.Context, tree *layout.Tree, b Build, opts PackOptions, bins []binary, warn func(string)) (labels.Metadata, ocispec.Platform, error) {
	meta, platform := b.Metadata, b.Platform
	meta.SchemaVersion = labels.SchemaVersion
	meta.LayoutVersion = layout.LayoutVersion
	if err := fromTree(&meta, tree, opts.DefaultVersion); err != nil {
		return meta, platform, err
	}
	if opts.DetectHost {
		if err := fromHost(ctx, &meta, &platform, opts.PGConfig); err != nil {
			return meta, platform, err
		}
	}
	if platform.OS == "" || platform.Architecture == "" {
		return meta, platform, fmt.Errorf("%w: platform is not set (want os/arch, or DetectHost)", ErrInvalidBuild)
	}
	if err := fromBinaries(&meta, platform, bins, warn); err != nil {
		return meta, platform, err
	}
	if err := meta.Validate(); err != nil {
		return meta, platform, fmt.Errorf("%w: %w", ErrInvalidBuild, err)
	}
	return meta, platform, nil
}

func fromTree(m *labels.Metadata, tree *layout.Tree, defaultVersion string) error {
	if m.Package.Name == "" {
		m.Package.Name = tree.Package
	}
	switch {
	case m.PG.Major == 0:
		m.PG.Major = tree.PGMajor
	case tree.PGMajor != 0 && tree.PGMajor != m.PG.Major:
		// A tree installed for one major and labelled for another is the
		// mismatch that crashes servers: refuse it here.
		return fmt.Errorf("%w: stated PostgreSQL major %d, but the tree %s is laid out for PostgreSQL %d",
			ErrInvalidBuild, m.PG.Major, tree.Root, tree.PGMajor)
	}
	if len(m.Extensions) == 0 {
		for _, e := range tree.Extensions {
			m.Extensions = append(m.Extensions, extensionLabels(e.Control))
		}
	}
	if m.Package.Version == "" {
		m.Package.Version = cmp.Or(packageVersion(m.Package.Name, m.Extensions), defaultVersion)
	}
	if m.Package.Version == "" {
		return fmt.Errorf("%w: the tree %s does not say its package version (no extension named %q, and not exactly one extension): state it in Build.Metadata.Package.Version or PackOptions.DefaultVersion",
			ErrInvalidBuild, tree.Root, m.Package.Name)
	}
	if len(m.Modules) == 0 {
		m.Modules = tree.Modules
	}
	if len(m.Programs) == 0 {
		m.Programs = tree.Programs
	}
	if len(m.Preload) == 0 && len(tree.Preload) > 0 {
		m.Preload = tree.Preload
	}
	if m.Restart == nil && len(m.Preload) > 0 {
		m.Restart = ptr(true) // shared_preload_libraries is read at start only
	}
	return nil
}

func extensionLabels(c layout.Control) labels.Extension {
	return labels.Extension{
		Name: c.Name, Version: c.DefaultVersion, Requires: c.Requires, Schema: c.Schema,
		Trusted: ptr(c.Trusted), Relocatable: ptr(c.Relocatable), Superuser: ptr(c.Superuser),
	}
}

// packageVersion is the default_version of the extension named like the
// package, or of the only extension.
func packageVersion(pkg string, exts []labels.Extension) string {
	for _, e := range exts {
		if e.Name == pkg {
			return e.Version
		}
	}
	if len(exts) == 1 {
		return exts[0].Version
	}
	return ""
}

func fromHost(ctx context.Context, m *labels.Metadata, platform *ocispec.Platform, pgConfig string) error {
	t, err := resolve.Detect(ctx, resolve.DetectOptions{PGConfig: pgConfig})
	if err != nil {
		return err
	}
	if platform.OS == "" {
		*platform = t.Platform
	}
	switch m.PG.Major {
	case 0:
		m.PG = t.PG
	case t.PG.Major:
		m.PG.VersionNum = cmp.Or(m.PG.VersionNum, t.PG.VersionNum)
		m.PG.Version = cmp.Or(m.PG.Version, t.PG.Version)
	default:
		return fmt.Errorf("%w: stated PostgreSQL major %d, but %s is PostgreSQL %d",
			ErrInvalidBuild, m.PG.Major, cmp.Or(pgConfig, "pg_config"), t.PG.Major)
	}
	if m.Libc.Family == "" {
		m.Libc = t.Libc
	}
	if m.Distro.ID == "" {
		m.Distro = t.Distro
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
