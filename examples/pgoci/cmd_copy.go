package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/extension"
	"pgoci/labels"
	"pgoci/resolve"
	"pgoci/trust"
)

func inspectCommand() command {
	return command{
		name:    "inspect",
		usage:   []string{"[flags] REF"},
		summary: "show an image index, its manifests, their labels, and referrers (signatures, SBOMs)",
		setup:   setupInspect,
	}
}

func copyCommand() command {
	return command{
		name:    "copy",
		usage:   []string{"[flags] SRC DST"},
		summary: "copy an image (index, manifests, blobs) between registries and OCI layouts, e.g. for air-gapped mirrors",
		setup:   setupCopy,
	}
}

func setupInspect(fs *flag.FlagSet) action {
	asJSON := fs.Bool("json", false, "print the inspection (descriptors, manifests, labels, referrers) as JSON")
	noReferrers := fs.Bool("no-referrers", false, "do not list referrers, saving one request per index and manifest (default: listed)")
	var tr trustFlags
	tr.register(fs)
	return func(ctx context.Context, e *env, args []string) error {
		if err := wantArgs(args, "REF"); err != nil {
			return err
		}
		policy, check, err := tr.trustPolicy()
		if err != nil {
			return err
		}
		in, err := extension.Inspect(ctx, args[0], extension.InspectOptions{Remote: e.remoteOptions(), NoReferrers: *noReferrers})
		if err != nil {
			return err
		}
		var checks map[string][]trust.Check
		if check {
			if checks, err = examine(ctx, e, args[0], in, policy); err != nil {
				return err
			}
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(inspection{Inspection: in, Trust: checks})
		}
		printInspection(e, in, checks)
		return nil
	}
}

// inspection is the JSON form of inspect: the SDK's, with the trust
// checks of each manifest (by digest) when keys or a policy were given.
type inspection struct {
	extension.Inspection
	Trust map[string][]trust.Check `json:"trust,omitempty"`
}

// examine checks the signatures and attestations of each manifest of the
// inspection (and of its index) against policy.
func examine(ctx context.Context, e *env, ref string, in extension.Inspection, policy trust.Policy) (map[string][]trust.Check, error) {
	src, r, err := resolve.Open(ctx, ref, e.remoteOptions())
	if err != nil {
		return nil, err
	}
	repo := ""
	if r.Layout == "" {
		repo = r.Registry + "/" + r.Repository
	}
	out := map[string][]trust.Check{}
	for _, m := range in.Manifests {
		t := trust.Target{Repository: repo, Manifest: m.Descriptor}
		if m.Index != "" {
			idx := in.Descriptor
			t.Index = &idx
		}
		checks, err := trust.Examine(ctx, src, t, policy, trust.Options{})
		if err != nil {
			return nil, err
		}
		out[m.Descriptor.Digest.String()] = checks
	}
	return out, nil
}

// printInspection writes the index, then per manifest its platform,
// package, extensions and referrers.
func printInspection(e *env, in extension.Inspection, checks map[string][]trust.Check) {
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
		printBinaries(e, l)
		for _, r := range m.Referrers {
			fmt.Fprintf(e.stdout, "    referrer %s %s\n", r.ArtifactType, r.Digest)
		}
		for _, c := range checks[m.Descriptor.Digest.String()] {
			printCheck(e, c)
		}
	}
}

// printCheck shows one signature or attestation and whether it verified.
func printCheck(e *env, c trust.Check) {
	what := c.Kind
	if c.Kind == trust.KindAttestation && c.PredicateType != "" {
		what += " " + c.PredicateType
	}
	status := "verified"
	if c.Signer != "" {
		status += ", signed by " + c.Signer
	}
	if c.Err != nil {
		status = "NOT verified: " + oneLine(c.Err)
	}
	fmt.Fprintf(e.stdout, "    %s (%s, on %s) %s: %s\n", what, c.Format, shortDigest(c.Subject.String()), c.Artifact.Digest, status)
}

// shortDigest cuts a digest to its algorithm and 12 hex digits.
func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// printBinaries shows what the image's binaries need to load, as packing
// read it from them: the C library they require and each object's needs.
func printBinaries(e *env, l labels.Metadata) {
	if l.Libc.Requires != "" {
		fmt.Fprintf(e.stdout, "    requires %s >= %s (from the binaries)\n", cmp.Or(l.Libc.Family, "glibc"), l.Libc.Requires)
	}
	if l.ICUMajor != 0 {
		fmt.Fprintf(e.stdout, "    links ICU %d\n", l.ICUMajor)
	}
	for _, o := range l.Objects {
		needs := strings.Join(o.Needs, " ")
		if needs == "" {
			needs = "no library"
		}
		fmt.Fprintf(e.stdout, "    %s: needs %s", o.Path, needs)
		if o.Glibc != "" {
			fmt.Fprintf(e.stdout, "; GLIBC_%s", o.Glibc)
		}
		if len(o.RunPath) > 0 {
			fmt.Fprintf(e.stdout, "; RUNPATH %s", strings.Join(o.RunPath, ":"))
		}
		fmt.Fprintln(e.stdout)
	}
	if len(l.OSRequires) > 0 {
		fmt.Fprintf(e.stdout, "    from the OS: %s\n", strings.Join(l.OSRequires, " "))
	}
}

func setupCopy(fs *flag.FlagSet) action {
	var platforms multiFlag
	fs.Var(&platforms, "platform", "copy only the manifests for `os/arch[/variant]`, into a new filtered index (repeatable; default: all, the index byte for byte)")
	noReferrers := fs.Bool("no-referrers", false, "copy the image alone, without the signatures, SBOMs and attestations attached to it (default: they come along)")
	fs.Bool("referrers", true, "deprecated: referrers are copied by default (see --no-referrers)")
	return func(ctx context.Context, e *env, args []string) error {
		if err := wantArgs(args, "SRC", "DST"); err != nil {
			return err
		}
		return copyImage(ctx, e, args[0], args[1], platforms, !*noReferrers)
	}
}

func copyImage(ctx context.Context, e *env, src, dst string, platforms []string, referrers bool) error {
	opts := extension.CopyOptions{Remote: e.remoteOptions(), NoReferrers: !referrers}
	for _, p := range platforms {
		pl, err := resolve.ParsePlatform(p)
		if err != nil {
			return usagef("--platform: %v", err)
		}
		opts.Platforms = append(opts.Platforms, pl)
	}
	p := newProgress(e, "copy")
	opts.Events = func(ev extension.Event) { p.update(ev.Bytes, ev.Total) }
	desc, err := extension.Copy(ctx, src, dst, opts)
	p.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "copied %s to %s: %s %s\n", src, dst, kind(desc), desc.Digest)
	return nil
}

func kind(d ocispec.Descriptor) string {
	if d.MediaType == ocispec.MediaTypeImageIndex {
		return "index"
	}
	return "manifest"
}
