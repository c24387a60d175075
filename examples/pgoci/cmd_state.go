package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"pgoci/extension"
)

// locationUsage is the argument form of the commands that read or change
// an install location.
const locationUsage = "(--root DIR | --pg-config PATH [--state DIR])"

func uninstallCommand() command {
	return command{
		name:    "uninstall",
		usage:   []string{"[flags] NAME " + locationUsage},
		summary: "remove an installed package exactly (refused while another installed package requires it, unless --force)",
		setup:   setupUninstall,
	}
}

func listCommand() command {
	return command{
		name:    "list",
		usage:   []string{"[flags] " + locationUsage},
		summary: "list installed packages: name, version, digest, extensions, preload needs",
		details: "A location where pgoci never installed anything is an error, not an empty list.",
		setup:   setupList,
	}
}

func repairCommand() command {
	return command{
		name:    "repair",
		usage:   []string{"[flags] " + locationUsage},
		summary: "rebuild or quarantine install records a power loss damaged (verify and list report them)",
		details: "With --root a damaged record is rebuilt from the package directory on disk (reference and digests unknown: install the package again to restore them); otherwise it is moved to the state's quarantine directory.",
		setup:   setupRepair,
	}
}

func setupRepair(fs *flag.FlagSet) action {
	var loc locationFlags
	loc.register(fs, true)
	return func(ctx context.Context, e *env, args []string) error {
		root, err := openLocation(ctx, &loc, args)
		if err != nil {
			return err
		}
		fixed, err := root.Repair(ctx)
		for _, r := range fixed {
			line := fmt.Sprintf("%s\t%s\t%s", r.Package, r.Action, r.Reason)
			if r.Path != "" {
				line += "\t" + r.Path
			}
			fmt.Fprintln(e.stdout, line)
		}
		if err == nil && len(fixed) == 0 {
			fmt.Fprintln(e.stdout, "no damaged record")
		}
		return err
	}
}

func verifyCommand() command {
	return command{
		name:    "verify",
		usage:   []string{"[flags] " + locationUsage},
		summary: "re-hash installed files against the install records and report any drift (exit 1 when there is some)",
		details: "Each drifted file is a line on stdout. A location where pgoci never installed anything is an error.",
		setup:   setupVerify,
	}
}

// openLocation checks the arguments of a location command and opens the
// location. A location where nothing was ever installed is the SDK's
// ErrNoState, naming the path, from the command itself.
func openLocation(ctx context.Context, loc *locationFlags, args []string, names ...string) (*extension.Root, error) {
	return openLocationWith(ctx, loc, extension.RootOptions{}, args, names...)
}

// openLocationWith is openLocation with the other options of o.
func openLocationWith(ctx context.Context, loc *locationFlags, o extension.RootOptions, args []string, names ...string) (*extension.Root, error) {
	if err := wantArgs(args, names...); err != nil {
		return nil, err
	}
	if err := loc.check(); err != nil {
		return nil, err
	}
	return loc.open(ctx, o)
}

func setupUninstall(fs *flag.FlagSet) action {
	var loc locationFlags
	loc.register(fs, true)
	force := fs.Bool("force", false, "remove the package even though other installed packages require it")
	return func(ctx context.Context, e *env, args []string) error {
		root, err := openLocation(ctx, &loc, args, "NAME")
		if err != nil {
			return err
		}
		removed, err := root.Uninstall(ctx, args[0], extension.UninstallOptions{Force: *force})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "uninstalled %s %s (%d files)\n", removed.Name, removed.Version, len(removed.Files))
		for _, p := range removed.Kept {
			fmt.Fprintf(e.stderr, "kept %s: its content changed since the install\n", p)
		}
		return nil
	}
}

func setupList(fs *flag.FlagSet) action {
	var loc locationFlags
	loc.register(fs, true)
	asJSON := fs.Bool("json", false, "print the install records as JSON, files included")
	return func(ctx context.Context, e *env, args []string) error {
		root, err := openLocation(ctx, &loc, args)
		if err != nil {
			return err
		}
		// Damaged records are an error that comes with the others.
		pkgs, err := root.List(ctx)
		if err != nil && !errors.Is(err, extension.ErrState) {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			if eerr := enc.Encode(pkgs); eerr != nil {
				return eerr
			}
			return err
		}
		for _, p := range pkgs {
			fmt.Fprintln(e.stdout, listLine(p))
		}
		return err
	}
}

// listLine is one tab-separated line of list: name, version, digest,
// extensions, then modules, programs and preload needs when there are any.
func listLine(p extension.Installed) string {
	var exts []string
	for _, x := range p.Extensions {
		exts = append(exts, x.Name)
	}
	line := fmt.Sprintf("%s\t%s\t%s\t%s", p.Name, p.Version, p.Manifest, strings.Join(exts, ","))
	if len(p.Modules) > 0 {
		line += "\tmodules=" + strings.Join(p.Modules, ",")
	}
	if len(p.Programs) > 0 {
		line += "\tprograms=" + strings.Join(p.Programs, ",")
	}
	if len(p.Preload) > 0 {
		line += "\tpreload=" + strings.Join(p.Preload, ",")
	}
	return line
}

func setupVerify(fs *flag.FlagSet) action {
	var loc locationFlags
	loc.register(fs, true)
	postgres := fs.String("postgres", "", "the server executable at `PATH` for the link check (default: bin/postgres next to --pg-config)")
	var libPath multiFlag
	fs.Var(&libPath, "library-path", "a `DIR` on the server's LD_LIBRARY_PATH besides the root's system/, for the link check (repeatable)")
	return func(ctx context.Context, e *env, args []string) error {
		root, err := openLocationWith(ctx, &loc, extension.RootOptions{Postgres: *postgres, LibraryPath: libPath}, args)
		if err != nil {
			return err
		}
		drift, err := root.Verify(ctx)
		if err != nil {
			return err
		}
		for _, d := range drift {
			line := fmt.Sprintf("%s\t%s\t%s", d.Package, d.Problem, d.Path)
			if d.Detail != "" {
				line += "\t" + d.Detail
			}
			fmt.Fprintln(e.stdout, line)
		}
		if len(drift) > 0 {
			return fmt.Errorf("%d problem(s): installed files that differ from their records, modules that no longer load, or damaged records (pgoci repair)", len(drift))
		}
		fmt.Fprintln(e.stdout, "all installed files match their records")
		return nil
	}
}
