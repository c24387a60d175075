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
		name: "install",
		usage: "install REF --root DIR [target flags] [--version CONSTRAINT] [--cache DIR|-] [--no-deps]\n" +
			"                     [--lock-file PATH|-] [--update-lock] [--durable] [--dep EXTENSION=REF]...\n" +
			"       pgoci install REF --pg-config PATH [--state DIR] [...]   (PostgreSQL 17 and older)",
		summary: "resolve, verify and install an extension (and the extensions it requires) so that CREATE EXTENSION works " +
			"without a restart; --root for PostgreSQL 18+, --pg-config alone installs into the server's own directories",
		run: runInstall,
	}
}

// locationFlags name an install location: --root, or --pg-config with
// an optional --state.
type locationFlags struct{ root, pgConfig, state string }

func (l *locationFlags) register(fs *flag.FlagSet, withPGConfig bool) {
	fs.StringVar(&l.root, "root", "", "")
	fs.StringVar(&l.state, "state", "", "")
	if withPGConfig {
		fs.StringVar(&l.pgConfig, "pg-config", "", "")
	}
}

// parse parses args (flags registered on fs, positional arguments named
// by names) and checks that a location was given.
func (l *locationFlags) parse(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if err := wantArgs(pos, names...); err != nil {
		return nil, err
	}
	return pos, l.check()
}

func (l *locationFlags) check() error {
	if l.root == "" && l.pgConfig == "" {
		return usagef("--root DIR (PostgreSQL 18+) or --pg-config PATH (PostgreSQL 17 and older) is required")
	}
	return nil
}

func (l *locationFlags) list() extension.ListOptions {
	return extension.ListOptions{Root: l.root, PGConfig: l.pgConfig, StateDir: l.state}
}

func runInstall(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("install", flag.ContinueOnError)
	var tf targetFlags
	tf.register(fs) // registers --pg-config, shared with the location
	var loc locationFlags
	loc.register(fs, false)
	version := fs.String("version", "", "")
	cache := fs.String("cache", "", "")
	noDeps := fs.Bool("no-deps", false, "")
	updateLock := fs.Bool("update-lock", false, "")
	lockFile := fs.String("lock-file", "", "")
	durable := fs.Bool("durable", false, "")
	var deps multiFlag
	fs.Var(&deps, "dep", "")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "REF"); err != nil {
		return err
	}
	loc.pgConfig = tf.pgConfig
	if err := loc.check(); err != nil {
		return err
	}
	target, policy, err := tf.target(ctx)
	if err != nil {
		return err
	}
	depRefs := map[string]string{}
	for _, d := range deps {
		ext, ref, ok := strings.Cut(d, "=")
		if !ok || ext == "" || ref == "" {
			return usagef("--dep %q: want EXTENSION=REF, e.g. --dep postgis=registry.example.com/deb/postgis-3", d)
		}
		depRefs[ext] = ref
	}
	p := newProgress(e, "fetch")
	res, err := extension.Install(ctx, pos[0], target, extension.InstallOptions{
		Root: loc.root, PGConfig: loc.pgConfig, StateDir: loc.state, CacheDir: *cache,
		Policy: policy, Version: *version, Remote: e.remoteOptions(), NoDeps: *noDeps,
		LockFile: *lockFile, UpdateLock: *updateLock, Durable: *durable, Dependencies: depRefs,
		Events: func(ev extension.Event) { renderEvent(e, p, ev) },
	})
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
		if pkg.Restart {
			line += "; needs shared_preload_libraries and a server restart"
		}
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}

// renderEvent shows fetch progress on a terminal and the dependency
// decisions always; the rest is summarised at the end.
func renderEvent(e *env, p *progress, ev extension.Event) {
	switch ev.Kind {
	case extension.EventFetch:
		p.update(ev.Bytes, ev.Total)
	case extension.EventDependency:
		fmt.Fprintf(e.stdout, "requires %s: installing it from %s\n", ev.Package, ev.Reference)
	}
}
