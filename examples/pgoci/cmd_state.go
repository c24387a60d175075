package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"pgoci/extension"
)

func uninstallCommand() command {
	return command{
		name:    "uninstall",
		usage:   "uninstall NAME --root DIR | --pg-config PATH [--state DIR] [--force]",
		summary: "remove an installed package exactly (refused while another installed package requires it, unless --force)",
		run:     runUninstall,
	}
}

func listCommand() command {
	return command{
		name:    "list",
		usage:   "list --root DIR | --pg-config PATH [--state DIR] [--json]",
		summary: "list installed packages: name, version, digest, extensions, preload needs",
		run:     runList,
	}
}

func verifyCommand() command {
	return command{
		name:    "verify",
		usage:   "verify --root DIR | --pg-config PATH [--state DIR]",
		summary: "re-hash installed files against the install records and report any drift (exit 1 when there is some)",
		run:     runVerify,
	}
}

func runUninstall(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("uninstall", flag.ContinueOnError)
	var loc locationFlags
	loc.register(fs, true)
	force := fs.Bool("force", false, "")
	pos, err := loc.parse(fs, args, "NAME")
	if err != nil {
		return err
	}
	removed, err := extension.Uninstall(ctx, pos[0], extension.UninstallOptions{
		Root: loc.root, PGConfig: loc.pgConfig, StateDir: loc.state, Force: *force})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "uninstalled %s %s (%d files)\n", removed.Name, removed.Version, len(removed.Files))
	return nil
}

func runList(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	var loc locationFlags
	loc.register(fs, true)
	asJSON := fs.Bool("json", false, "")
	if _, err := loc.parse(fs, args); err != nil {
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
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}

func runVerify(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	var loc locationFlags
	loc.register(fs, true)
	if _, err := loc.parse(fs, args); err != nil {
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
