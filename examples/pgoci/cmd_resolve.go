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
		usage:   []string{"[flags] REF"},
		summary: "print the reference (name@digest) of the one image that fits the target server, or why none fits",
		details: "Only the reference goes to stdout, so that ref=$(pgoci resolve ...) works; " +
			"notes, and for a miss each candidate with the properties that did not fit, go to stderr.",
		setup: setupResolve,
	}
}

// registerVersionConstraint registers --version-constraint and its old
// spelling, --version, which pack uses for the package version.
func registerVersionConstraint(fs *flag.FlagSet, v *string) {
	fs.StringVar(v, "version-constraint", "", "pick the highest tag of REF's repository that satisfies `CONSTRAINT` "+
		"(1.4, >=1.2,<2, ~1.4, ^2 or latest), for a REF without tag or digest (default: the highest)")
	deprecate(fs, "version", "version-constraint")
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
	Signature string            `json:"signature,omitempty"`
}

func setupResolve(fs *flag.FlagSet) action {
	var tf targetFlags
	tf.register(fs)
	var version string
	registerVersionConstraint(fs, &version)
	asJSON := fs.Bool("json", false, "print the resolution (reference, digests, platform, target, labels, notes) as JSON")
	var tr trustFlags
	tr.register(fs)
	return func(ctx context.Context, e *env, args []string) error {
		if err := wantArgs(args, "REF"); err != nil {
			return err
		}
		if _, err := resolve.ParseReference(args[0]); err != nil {
			return usagef("%v", err)
		}
		target, policy, err := tf.target(ctx)
		if err != nil {
			return err
		}
		verifier, err := tr.verifier()
		if err != nil {
			return err
		}
		r, err := resolve.ResolveReference(ctx, args[0], target, resolve.Options{
			Policy: policy, Version: version, Remote: e.remoteOptions(), Verifier: verifier})
		if err != nil {
			return explainIncompatible(e, err)
		}
		printNotes(e, r)
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(resolution{Reference: r.Reference, Tag: r.Tag, Index: string(r.Index.Digest),
				Manifest: string(r.Manifest.Digest), Platform: resolve.PlatformString(r.Platform),
				Target: target, Metadata: r.Metadata, Report: r.Report, Signature: string(r.Signature)})
		}
		fmt.Fprintln(e.stdout, r.Reference)
		return nil
	}
}

// printNotes writes on stderr what the reference alone does not say:
// properties unknown or unchecked, and the candidates passed over.
func printNotes(e *env, r resolve.Resolved) {
	for _, f := range r.Report {
		fmt.Fprintf(e.stderr, "pgoci resolve: note: %s\n", f)
	}
	if n := len(r.Rejected); n > 0 {
		fmt.Fprintf(e.stderr, "pgoci resolve: note: %d other candidate(s) rejected\n", n)
	}
}

// explainIncompatible prints, for a compatibility rejection, each
// candidate's mismatches on stderr and returns a one-line error; other
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
	fmt.Fprintf(e.stderr, "no image fits %s (policy %s):\n", inc.Target, inc.Policy)
	for _, c := range inc.Candidates {
		fmt.Fprintf(e.stderr, "  %s %s\n", resolve.PlatformString(c.Platform), c.Descriptor.Digest)
		for _, f := range c.Findings {
			if f.Status == resolve.Mismatch {
				fmt.Fprintf(e.stderr, "    %s\n", f)
			}
		}
	}
}
