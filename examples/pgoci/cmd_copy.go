package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/extension"
	"pgoci/resolve"
)

func inspectCommand() command {
	return command{
		name:    "inspect",
		usage:   "inspect REF [--json] [--no-referrers]",
		summary: "show an image index, its manifests, their labels, and referrers (signatures, SBOMs)",
		run:     runInspect,
	}
}

func copyCommand() command {
	return command{
		name:    "copy",
		usage:   "copy SRC DST [--platform os/arch[/variant]]... [--referrers]",
		summary: "copy an image (index, manifests, blobs) between registries and OCI layouts, e.g. for air-gapped mirrors",
		run:     runCopy,
	}
}

func runInspect(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "")
	noReferrers := fs.Bool("no-referrers", false, "")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "REF"); err != nil {
		return err
	}
	in, err := extension.Inspect(ctx, pos[0], extension.InspectOptions{Remote: e.remoteOptions(), NoReferrers: *noReferrers})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	}
	fmt.Fprintf(e.stdout, "%s %s %s\n", in.Reference, in.Descriptor.MediaType, in.Descriptor.Digest)
	for _, m := range in.Manifests {
		l := m.Labels
		platform := "?"
		if m.Platform != nil {
			platform = resolve.PlatformString(*m.Platform)
		}
		fmt.Fprintf(e.stdout, "  %s %s: %s %s, PostgreSQL %d, %d layer(s)\n", platform, m.Descriptor.Digest,
			l.Package.Name, l.Package.Version, l.PG.Major, len(m.Manifest.Layers))
		if m.LabelsErr != nil {
			fmt.Fprintf(e.stdout, "    labels: %v\n", oneLine(m.LabelsErr))
		}
		for _, x := range l.Extensions {
			fmt.Fprintf(e.stdout, "    extension %s %s", x.Name, x.Version)
			if len(x.Requires) > 0 {
				fmt.Fprintf(e.stdout, " (requires %v)", x.Requires)
			}
			fmt.Fprintln(e.stdout)
		}
		for _, r := range m.Referrers {
			fmt.Fprintf(e.stdout, "    referrer %s %s\n", r.ArtifactType, r.Digest)
		}
	}
	return nil
}

func runCopy(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	var platforms multiFlag
	fs.Var(&platforms, "platform", "")
	referrers := fs.Bool("referrers", false, "")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "SRC", "DST"); err != nil {
		return err
	}
	opts := extension.CopyOptions{Remote: e.remoteOptions(), Referrers: *referrers}
	for _, p := range platforms {
		pl, err := resolve.ParsePlatform(p)
		if err != nil {
			return usagef("--platform: %v", err)
		}
		opts.Platforms = append(opts.Platforms, pl)
	}
	p := newProgress(e, "copy")
	opts.Progress = func(c extension.CopyProgress) { p.update(c.Total, 0) }
	desc, err := extension.Copy(ctx, pos[0], pos[1], opts)
	p.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "copied %s to %s: %s %s\n", pos[0], pos[1], kind(desc), desc.Digest)
	return nil
}

func kind(d ocispec.Descriptor) string {
	if d.MediaType == ocispec.MediaTypeImageIndex {
		return "index"
	}
	return "manifest"
}
