package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"strings"

	"pgoci/extension"
	"pgoci/labels"
	"pgoci/resolve"
)

func packCommand() command {
	return command{
		name:  "pack",
		usage: []string{"[flags] DIR REF"},
		summary: "pack an installed extension tree (DESTDIR or image layout) into an image, push it, " +
			"and add it to the index tagged with REF's tag (default: the package version)",
		details: packDetails,
		setup:   setupPack,
	}
}

const packDetails = `DIR is a "make install DESTDIR=..." tree or an image root layout. The image goes to REF's repository; then the index tagged REF's tag gets it, replacing an entry built for the same PostgreSQL major, platform, libc and distro.

Adding to the index is a read-modify-write of the tag: two packs into one tag at the same time can lose one another's entry. Parallel build jobs should each pack with --no-index, which pushes the image by digest, prints the digest on stdout and leaves the tag alone, and one final job should assemble the index with pgoci index:

    d1=$(pgoci pack --no-index --platform linux/amd64 ... DIR1 REPO:1.0)  # job 1
    d2=$(pgoci pack --no-index --platform linux/arm64 ... DIR2 REPO:1.0)  # job 2
    pgoci index REPO:1.0 "$d1" "$d2"                                    # then`

// buildFlags are what pack is told about the build.
type buildFlags struct {
	major, versionNum                   int
	platform, libc, distro              string
	compression, pkg, version, pgConfig string
	detect, noIndex                     bool
	bundle, bundleSystem, noSBOM        bool
	annotations, only, libPath, preload multiFlag
}

func (f *buildFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.major, "pg-major", 0, "PostgreSQL major `N` the tree was built for (default: from the tree's paths or --detect)")
	fs.IntVar(&f.versionNum, "pg-version-num", 0, "exact PostgreSQL version `NUM` built against, e.g. 180004 (default: from --detect, else unstated)")
	fs.StringVar(&f.platform, "platform", "", "`os/arch[/variant]` the modules were compiled for; required unless --detect is given")
	fs.StringVar(&f.libc, "libc", "", "C library `family-version` built against, e.g. glibc-2.36 (default: from --detect, else unstated)")
	fs.StringVar(&f.distro, "distro", "", "distribution `id-version` built on, e.g. debian-12 (default: from --detect, else unstated)")
	fs.StringVar(&f.compression, "compression", "zstd", "layer compression `ALGORITHM`: zstd or gzip")
	fs.StringVar(&f.pkg, "package", "", "package `NAME` (default: the tree's first extension, else its first module or program)")
	fs.StringVar(&f.version, "package-version", "", "package `VERSION` (default: the default_version of the extension named like the package or of the only one, else REF's tag)")
	deprecate(fs, "version", "package-version")
	fs.BoolVar(&f.detect, "detect", false, "fill what the flags leave unstated (platform, PostgreSQL version, libc, distro) from this machine and pg_config")
	fs.StringVar(&f.pgConfig, "pg-config", "", "the pg_config program at `PATH` that --detect reads; implies --detect (default: pg_config on $PATH)")
	fs.Var(&f.annotations, "annotation", "add a manifest annotation and config label `key=value`, which cannot override a pgoci key (repeatable)")
	fs.Var(&f.preload, "preload", "module `NAME` that must be in shared_preload_libraries, beyond those pgoci knows (repeatable; it cannot be read from the files)")
	fs.Var(&f.only, "extension", "pack only extension `NAME` of the tree, with the scripts, modules and bitcode it uses (repeatable; default: all)")
	fs.BoolVar(&f.bundle, "bundle-libs", false, "carry in system/, in a layer of its own, every shared library the modules need that resolves through their RUNPATH or --lib-path (not the C runtime, not this machine's system libraries)")
	fs.Var(&f.libPath, "lib-path", "with --bundle-libs, also look for the libraries to bundle in `DIR` (repeatable), e.g. the server's own lib directory")
	fs.BoolVar(&f.bundleSystem, "bundle-system-libs", false, "with --bundle-libs, bundle libraries found through this machine's ld.so.cache and default directories too")
	fs.BoolVar(&f.noSBOM, "no-sbom", false, "do not attach the SPDX 2.3 SBOM (package, files with their hashes, libraries needed) as a referrer of the image (default: attached)")
	fs.BoolVar(&f.noIndex, "no-index", false, "push the image by digest only, print its digest on stdout and leave REF's tag alone (for parallel builds; see pgoci index)")
}

// build turns the flags into the SDK's Build and PackOptions.
func (f *buildFlags) build() (extension.Build, extension.PackOptions, error) {
	b := extension.Build{Metadata: labels.Metadata{
		Package: labels.Package{Name: f.pkg, Version: f.version},
		PG:      labels.PG{Major: f.major, VersionNum: f.versionNum},
	}}
	if f.libc != "" {
		b.Metadata.Libc.Family, b.Metadata.Libc.Version = splitDash(f.libc)
	}
	if f.distro != "" {
		b.Metadata.Distro.ID, b.Metadata.Distro.Version = splitDash(f.distro)
	}
	var err error
	switch {
	case f.platform != "":
		if b.Platform, err = resolve.ParsePlatform(f.platform); err != nil {
			return b, extension.PackOptions{}, usagef("--platform: %v", err)
		}
	case !f.detect:
		return b, extension.PackOptions{}, usagef("--platform is required unless --detect is given")
	}
	extra := map[string]string{}
	for _, a := range f.annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return b, extension.PackOptions{}, usagef("--annotation %q: want key=value", a)
		}
		extra[k] = v
	}
	if (len(f.libPath) > 0 || f.bundleSystem) && !f.bundle {
		return b, extension.PackOptions{}, usagef("--lib-path and --bundle-system-libs need --bundle-libs")
	}
	return b, extension.PackOptions{Compression: extension.Compression(f.compression), Annotations: extra,
		DetectHost: f.detect || f.pgConfig != "", PGConfig: f.pgConfig, Extensions: f.only,
		BundleLibs: f.bundle, LibPath: f.libPath, BundleSystemLibs: f.bundleSystem, NoSBOM: f.noSBOM, Preload: f.preload}, nil
}

func setupPack(fs *flag.FlagSet) action {
	var f buildFlags
	f.register(fs)
	return func(ctx context.Context, e *env, args []string) error {
		if err := wantArgs(args, "DIR", "REF"); err != nil {
			return err
		}
		b, opts, err := f.build()
		if err != nil {
			return err
		}
		dst, ref, err := openTarget(e, args[1])
		if err != nil {
			return err
		}
		if t, ok := resolve.ParseTag(ref.Tag); ok {
			// A tree with no extension states no version; the tag asked
			// for does, when it reads as one.
			opts.DefaultVersion = t.Version.Raw
		}
		opts.Events = func(ev extension.Event) {
			if ev.Kind == extension.EventWarning {
				fmt.Fprintln(e.stderr, "warning:", ev.Message)
			}
		}
		img, err := extension.Pack(ctx, dst, args[0], b, opts)
		if err != nil {
			return err
		}
		m := img.Metadata
		packed := fmt.Sprintf("packed %s %s for PostgreSQL %d %s: %s", m.Package.Name, m.Package.Version,
			m.PG.Major, resolve.PlatformString(*img.Manifest.Platform), img.Manifest.Digest)
		if f.noIndex {
			// The digest alone is the result, for d=$(pgoci pack --no-index ...).
			fmt.Fprintln(e.stderr, packed)
			fmt.Fprintln(e.stdout, img.Manifest.Digest)
			return nil
		}
		fmt.Fprintln(e.stdout, packed)
		tag := cmp.Or(ref.Tag, m.Package.Version)
		idx, err := extension.MergeIndex(ctx, dst, tag, []extension.Image{img})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "pushed %s:%s %s\n", ref.Name(), tag, idx.Digest)
		return nil
	}
}
