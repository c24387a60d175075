package main

import (
	"context"
	"encoding/json"
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

func verifyCommand() command {
	return command{
		name:    "verify",
		usage:   []string{"[flags] " + locationUsage},
		summary: "re-hash installed files against the install records and report any drift (exit 1 when there is some)",
		details: "Each drifted file is a line on stdout. A location where pgoci never installed anything is an error.",
		setup:   setupVerify,
	}
}

// openLocation checks the arguments of a location command. A location
// where nothing was ever installed is the SDK's ErrNoState, naming the
// path, from the command itself.
func openLocation(_ context.Context, loc *locationFlags, args []string, names ...string) error {
	if err := wantArgs(args, names...); err != nil {
		return err
	}
	return loc.check()
}

func setupUninstall(fs *flag.FlagSet) action {
	var loc locationFlags
	loc.register(fs, true)
	force := fs.Bool("force", false, "remove the package even though other installed packages require it")
	return func(ctx context.Context, e *env, args []string) error {
		if err := openLocation(ctx, &loc, args, "NAME"); err != nil {
			return err
		}
		removed, err := extension.Uninstall(ctx, args[0], extension.UninstallOptions{
			Root: loc.root, PGConfig: loc.pgConfig, StateDir: loc.state, Force: *force})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "uninstalled %s %s (%d files)\n", removed.Name, removed.Version, len(removed.Files))
		return nil
	}
}

func setupList(fs *flag.FlagSet) action {
	var loc locationFlags
	loc.register(fs, true)
	asJSON := fs.Bool("json", false, "print the install records as JSON, files included")
	return func(ctx context.Context, e *env, args []string) error {
		if err := openLocation(ctx, &loc, args); err != nil {
			return err
		}
		pkgs, err := extension.List(ctx, loc.list())
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(pkgs)
		}
		for _, p := range pkgs {
			fmt.Fprintln(e.stdout, listLine(p))
		}
		return nil
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
	return func(ctx context.Context, e *env, args []string) error {
		if err := openLocation(ctx, &loc, args); err != nil {
			return err
		}
		drift, err := extension.Verify(ctx, loc.list())
		if err != nil {
			return err
		}
		for _, d := range drift {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", d.Package, d.Problem, d.Path)
		}
		if len(drift) > 0 {
			return fmt.Errorf("%d installed file(s) differ from their records", len(drift))
		}
		fmt.Fprintln(e.stdout, "all installed files match their records")
		return nil
	}
}
