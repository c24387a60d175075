package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"pgoci/extension"
)

func syncCommand() command {
	return command{
		name:  "sync",
		usage: []string{"[flags] FILE --root DIR", "[flags] FILE --pg-config PATH   (PostgreSQL 17 and older)"},
		summary: "make the installed packages what FILE lists: install, upgrade or downgrade them, " +
			"and remove what is neither listed nor required",
		details: "FILE (YAML or JSON; - for stdin) lists the wanted packages:\n\n" +
			"  repository: registry.example.com/extensions   # where names are looked up\n" +
			"  extensions:\n" +
			"    - name: postgis\n" +
			"      version: \"~3.5\"          # optional constraint\n" +
			"    - name: pg_trgm\n" +
			"      image: registry.example.com/contrib/pg_trgm:1.6   # optional explicit reference\n\n" +
			"The plan is printed on stdout, one line per step, then carried out; --dry-run prints it and changes nothing. " +
			"With the lock file, a location already as FILE says costs no registry request. " +
			"A failed step stops the sync: the steps before it stay done, and running sync again continues.",
		setup: setupSync,
	}
}

func setupSync(fs *flag.FlagSet) action {
	var tf targetFlags
	tf.register(fs)
	fs.Lookup("pg-config").Usage = "the server's pg_config program at `PATH`: detect the target from it and this machine " +
		"(explicit target flags override), and without --root sync that server's directories (PostgreSQL 17 and older)"
	var loc locationFlags
	loc.register(fs, false)
	var ro rootFlags
	ro.register(fs)
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	jobs := fs.Int("jobs", 0, "install at most `N` packages at once (default: 4)")
	return func(ctx context.Context, e *env, args []string) error {
		if err := wantArgs(args, "FILE"); err != nil {
			return err
		}
		if *jobs < 0 {
			return usagef("--jobs must be positive")
		}
		d, err := readDesired(args[0], e.stdin)
		if err != nil {
			return err
		}
		p := newProgress(e, "fetch")
		defer p.done()
		ro.o.Concurrency = *jobs
		root, err := ro.open(ctx, e, &tf, &loc, func(ev extension.Event) { renderEvent(e, p, ev) })
		if err != nil {
			return err
		}
		plan, err := root.Plan(ctx, d)
		if err != nil {
			return explainIncompatible(e, err)
		}
		if err := printPlan(e, plan, *asJSON); err != nil {
			return err
		}
		if *dryRun || plan.Empty() {
			return nil
		}
		res, err := root.Apply(ctx, plan)
		p.done()
		for _, pkg := range res.Installed {
			fmt.Fprintf(e.stderr, "%s %s %s (%s)\n", pkg.Action, pkg.Name, pkg.Version, pkg.Manifest)
			reportFindings(e, pkg)
		}
		for _, r := range res.Removed {
			fmt.Fprintf(e.stderr, "removed %s %s\n", r.Name, r.Version)
		}
		return explainIncompatible(e, err)
	}
}

func printPlan(e *env, plan extension.Plan, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(plan)
	}
	_, err := io.WriteString(e.stdout, plan.String())
	return err
}

// maxDesiredSize bounds a sync file: a list of extensions is small.
const maxDesiredSize = 1 << 20

// readDesired reads a sync file, YAML or JSON (JSON is YAML), refusing
// unknown keys so that a misspelt one is not silently ignored.
func readDesired(path string, stdin io.Reader) (extension.Desired, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return extension.Desired{}, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxDesiredSize+1))
	if err != nil {
		return extension.Desired{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxDesiredSize {
		return extension.Desired{}, fmt.Errorf("%s: larger than %d bytes", path, maxDesiredSize)
	}
	var d extension.Desired
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil && !errors.Is(err, io.EOF) {
		return extension.Desired{}, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

func pruneCommand() command {
	return command{
		name:    "prune",
		usage:   []string{"[flags] " + locationUsage},
		summary: "uninstall the packages installed as dependencies that no installed package requires any more",
		setup:   setupPrune,
	}
}

func setupPrune(fs *flag.FlagSet) action {
	var loc locationFlags
	loc.register(fs, true)
	return func(ctx context.Context, e *env, args []string) error {
		root, err := openLocation(ctx, &loc, args)
		if err != nil {
			return err
		}
		removed, err := root.Prune(ctx)
		for _, r := range removed {
			fmt.Fprintf(e.stdout, "removed %s %s (%d files)\n", r.Name, r.Version, len(r.Files))
		}
		if err == nil && len(removed) == 0 {
			fmt.Fprintln(e.stdout, "no orphaned dependency")
		}
		return err
	}
}
