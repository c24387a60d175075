package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"pgoci/resolve"
)

func resolveCommand() command {
	return command{
		name:    "resolve",
		usage:   "resolve REF [--version CONSTRAINT] [target flags] [--json]",
		summary: "print the digest of the one image that fits the target server, or why none fits",
		run:     runResolve,
	}
}

// resolution is the JSON form of a resolve.
type resolution struct {
	Reference string            `json:"reference"`
	Tag       string            `json:"tag,omitempty"`
	Index     string            `json:"index,omitempty"`
	Manifest  string            `json:"manifest"`
	Platform  string            `json:"platform"`
	Target    resolve.Target    `json:"target"`
	Metadata  any               `json:"metadata"`
	Report    []resolve.Finding `json:"report,omitempty"`
}

func runResolve(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("resolve", flag.ContinueOnError)
	var tf targetFlags
	tf.register(fs)
	version := fs.String("version", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "REF"); err != nil {
		return err
	}
	if _, err := resolve.ParseReference(pos[0]); err != nil {
		return usagef("%v", err)
	}
	target, policy, err := tf.target(ctx)
	if err != nil {
		return err
	}
	r, err := resolve.ResolveReference(ctx, pos[0], target, resolve.Options{
		Policy: policy, Version: *version, Remote: e.remoteOptions()})
	if err != nil {
		return explainIncompatible(e, err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(resolution{Reference: r.Reference, Tag: r.Tag, Index: string(r.Index.Digest),
			Manifest: string(r.Manifest.Digest), Platform: resolve.PlatformString(r.Platform),
			Target: target, Metadata: r.Metadata, Report: r.Report})
	}
	fmt.Fprintln(e.stdout, r.Reference)
	for _, f := range r.Report {
		fmt.Fprintf(e.stdout, "  note: %s\n", f)
	}
	return nil
}

// explainIncompatible prints, for a compatibility rejection, each
// candidate's mismatches on stdout and returns a one-line error; other
// errors pass through.
func explainIncompatible(e *env, err error) error {
	var inc *resolve.IncompatibleError
	if !errors.As(err, &inc) {
		return err
	}
	printCandidates(e, inc)
	return fmt.Errorf("no image fits %s (%d candidates rejected, listed above)", inc.Target, len(inc.Candidates))
}

// printCandidates lists, per candidate, each property that did not fit.
func printCandidates(e *env, inc *resolve.IncompatibleError) {
	fmt.Fprintf(e.stdout, "no image fits %s (policy %s):\n", inc.Target, inc.Policy)
	for _, c := range inc.Candidates {
		fmt.Fprintf(e.stdout, "  %s %s\n", resolve.PlatformString(c.Platform), c.Descriptor.Digest)
		for _, f := range c.Findings {
			if f.Status == resolve.Mismatch {
				fmt.Fprintf(e.stdout, "    %s\n", f)
			}
		}
	}
}
