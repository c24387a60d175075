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
		name:    "pack",
		usage:   "pack DIR REF [--pg-major N] [--pg-version-num N] [--platform os/arch[/variant]] [--libc glibc-2.36]\n                  [--distro debian-12] [--compression zstd|gzip] [--annotation k=v]...\n                  [--package NAME] [--version V] [--extension NAME]... [--detect [--pg-config PATH]]",
		summary: "pack an installed extension tree (DESTDIR or image layout) into an image, push it, and add it to the index tagged with REF's tag (default: the package version)",
		run:     runPack,
	}
}

func runPack(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("pack", flag.ContinueOnError)
	var (
		major, versionNum         int
		platform, libc, distro    string
		compression, pkg, version string
		pgConfig                  string
		detect                    bool
		annotations, only         multiFlag
	)
	fs.IntVar(&major, "pg-major", 0, "")
	fs.IntVar(&versionNum, "pg-version-num", 0, "")
	fs.StringVar(&platform, "platform", "", "")
	fs.StringVar(&libc, "libc", "", "")
	fs.StringVar(&distro, "distro", "", "")
	fs.StringVar(&compression, "compression", "zstd", "")
	fs.StringVar(&pkg, "package", "", "")
	fs.StringVar(&version, "version", "", "")
	fs.BoolVar(&detect, "detect", false, "")
	fs.StringVar(&pgConfig, "pg-config", "", "")
	fs.Var(&annotations, "annotation", "")
	fs.Var(&only, "extension", "")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "DIR", "REF"); err != nil {
		return err
	}
	b := extension.Build{Metadata: labels.Metadata{
		Package: labels.Package{Name: pkg, Version: version},
		PG:      labels.PG{Major: major, VersionNum: versionNum},
	}}
	if libc != "" {
		b.Metadata.Libc.Family, b.Metadata.Libc.Version = splitDash(libc)
	}
	if distro != "" {
		b.Metadata.Distro.ID, b.Metadata.Distro.Version = splitDash(distro)
	}
	switch {
	case platform != "":
		if b.Platform, err = resolve.ParsePlatform(platform); err != nil {
			return usagef("--platform: %v", err)
		}
	case !detect:
		return usagef("--platform is required unless --detect is given")
	}
	extra := map[string]string{}
	for _, a := range annotations {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return usagef("--annotation %q: want key=value", a)
		}
		extra[k] = v
	}
	dst, ref, err := openTarget(e, pos[1])
	if err != nil {
		return err
	}
	opts := extension.PackOptions{Compression: extension.Compression(compression), Annotations: extra,
		DetectHost: detect || pgConfig != "", PGConfig: pgConfig, Extensions: only}
	if t, ok := resolve.ParseTag(ref.Tag); ok {
		// A tree with no extension states no version; the tag asked for
		// does, when it reads as one.
		opts.DefaultVersion = t.Version.Raw
	}
	img, err := extension.Pack(ctx, dst, pos[0], b, opts)
	if err != nil {
		return err
	}
	m := img.Metadata
	fmt.Fprintf(e.stdout, "packed %s %s for PostgreSQL %d %s: %s\n", m.Package.Name, m.Package.Version,
		m.PG.Major, resolve.PlatformString(*img.Manifest.Platform), img.Manifest.Digest)
	tag := cmp.Or(ref.Tag, m.Package.Version)
	idx, err := extension.MergeIndex(ctx, dst, tag, []extension.Image{img})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "pushed %s:%s %s\n", ref.Name(), tag, idx.Digest)
	return nil
}
