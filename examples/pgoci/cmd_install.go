package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"pgoci/extension"
)

func installCommand() command {
	return command{
		name:    "install",
		usage:   []string{"[flags] REF --root DIR", "[flags] REF --pg-config PATH   (PostgreSQL 17 and older)"},
		summary: "resolve, verify and install an extension (and the extensions it requires) so that CREATE EXTENSION works without a restart",
		details: "With --root, packages go under DIR for a PostgreSQL 18+ server (see pgoci settings). " +
			"With --pg-config alone, files go into that server's own directories (PostgreSQL 17 and older). " +
			"The installed packages are listed on stdout; progress and dependency decisions go to stderr.",
		setup: setupInstall,
	}
}

func setupInstall(fs *flag.FlagSet) action {
	var tf targetFlags
	tf.register(fs) // registers --pg-config, shared with the location
	fs.Lookup("pg-config").Usage = "the server's pg_config program at `PATH`: detect the target from it and this machine " +
		"(explicit target flags override), and without --root install into its directories (PostgreSQL 17 and older)"
	var loc locationFlags
	loc.register(fs, false)
	var o extension.InstallOptions
	registerVersionConstraint(fs, &o.Version)
	var ro rootFlags
	ro.register(fs)
	fs.BoolVar(&o.NoDeps, "no-deps", false, "install the package without the extensions it requires (default: those are installed first)")
	fs.BoolVar(&o.UpdateLock, "update-lock", false, "re-resolve references pinned by the lock file and record the new digests (default: pins are honoured)")
	fs.BoolVar(&o.SkipLinkCheck, "skip-link-check", false, "install even a module the link check says cannot load, printing the findings (default: such a package is refused)")
	var deps multiFlag
	fs.Var(&deps, "dep", "install the required extension EXTENSION from REF, for repositories not named after the extension (`EXTENSION=REF`, repeatable)")
	return func(ctx context.Context, e *env, args []string) error {
		if err := wantArgs(args, "REF"); err != nil {
			return err
		}
		var err error
		if o.Dependencies, err = parseDeps(deps); err != nil {
			return err
		}
		p := newProgress(e, "fetch")
		defer p.done()
		root, err := ro.open(ctx, e, &tf, &loc, func(ev extension.Event) { renderEvent(e, p, ev) })
		if err != nil {
			return err
		}
		return install(ctx, e, root, p, args[0], o)
	}
}

func parseDeps(deps []string) (map[string]string, error) {
	refs := map[string]string{}
	for _, d := range deps {
		ext, ref, ok := strings.Cut(d, "=")
		if !ok || ext == "" || ref == "" {
			return nil, usagef("--dep %q: want EXTENSION=REF, e.g. --dep postgis=registry.example.com/deb/postgis-3", d)
		}
		refs[ext] = ref
	}
	return refs, nil
}

func install(ctx context.Context, e *env, root *extension.Root, p *progress, ref string, o extension.InstallOptions) error {
	res, err := root.Install(ctx, ref, o)
	p.done()
	if err != nil {
		return explainIncompatible(e, err)
	}
	for _, pkg := range res.Packages {
		line := fmt.Sprintf("%s %s %s (%s)", pkg.Action, pkg.Name, pkg.Version, pkg.Manifest)
		if pkg.Previous != "" {
			line += ", was " + pkg.Previous
		}
		if pkg.Dependency {
			line += ", as a dependency"
		}
		if pkg.Signature != "" {
			line += ", signature " + pkg.Signature.String() + " verified"
		}
		if pkg.Restart {
			line += "; needs shared_preload_libraries and a server restart"
		}
		fmt.Fprintln(e.stdout, line)
		reportFindings(e, pkg)
	}
	return nil
}

// reportFindings tells, on stderr, what the link check could not prove
// (the server's own symbols without the server executable) or, with
// --skip-link-check, what it would have refused.
func reportFindings(e *env, pkg extension.PackageResult) {
	var unchecked []string
	for _, f := range pkg.Findings {
		if f.Fatal() {
			fmt.Fprintf(e.stderr, "warning: %s: %s (installed anyway: --skip-link-check)\n", pkg.Name, f)
			continue
		}
		unchecked = append(unchecked, f.Symbol)
	}
	if len(unchecked) > 0 {
		fmt.Fprintf(e.stderr, "note: %s: %d symbol(s) the modules expect from the server not checked (give --pg-config or --postgres): %s\n",
			pkg.Name, len(unchecked), strings.Join(firstN(unchecked, 8), ", "))
	}
}

// firstN is s cut to n elements, with "..." when it was longer.
func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], "...")
}

// renderEvent shows fetch progress on a terminal and the dependency
// decisions always, on stderr; the result is printed at the end.
func renderEvent(e *env, p *progress, ev extension.Event) {
	switch ev.Kind {
	case extension.EventFetch:
		p.update(ev.Bytes, ev.Total)
	case extension.EventDependency:
		p.done()
		fmt.Fprintf(e.stderr, "requires %s: installing it from %s\n", ev.Package, ev.Reference)
	}
}
