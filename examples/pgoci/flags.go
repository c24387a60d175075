package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"

	"pgoci/labels"
	"pgoci/resolve"
)

// parseArgs parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usagef("help requested")
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, names ...string) error {
	if len(args) != len(names) {
		return usagef("want %d argument(s) (%s), got %d", len(names), strings.Join(names, " "), len(args))
	}
	return nil
}

// extractBool removes a global boolean flag (--name or -name) from args.
func extractBool(args []string, name string) ([]string, bool) {
	out, found := args[:0:0], false
	for _, a := range args {
		if a == "--"+name || a == "-"+name {
			found = true
			continue
		}
		out = append(out, a)
	}
	return out, found
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// targetFlags describe the server to resolve for.
type targetFlags struct {
	pgMajor                          int
	platform, libc, distro, pgConfig string
	policy                           string
}

func (t *targetFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&t.pgMajor, "pg-major", 0, "PostgreSQL major of the server")
	fs.StringVar(&t.platform, "platform", "", "os/arch[/variant] of the server (default: this machine's)")
	fs.StringVar(&t.libc, "libc", "", "C library of the server, e.g. glibc-2.36")
	fs.StringVar(&t.distro, "distro", "", "distribution of the server, e.g. debian-12")
	fs.StringVar(&t.pgConfig, "pg-config", "", "detect the target from this pg_config and this machine")
	fs.StringVar(&t.policy, "policy", "", "compatibility policy: strict, default or permissive")
}

// target builds the target: detected from --pg-config when given, then
// overridden by each explicit flag.
func (t *targetFlags) target(ctx context.Context) (resolve.Target, resolve.Policy, error) {
	policy, err := resolve.ParsePolicy(t.policy)
	if err != nil {
		return resolve.Target{}, policy, usagef("--policy: %v", err)
	}
	tg := resolve.Target{Platform: resolve.HostPlatform()}
	if t.pgConfig != "" {
		if tg, err = resolve.Detect(ctx, resolve.DetectOptions{PGConfig: t.pgConfig}); err != nil {
			return tg, policy, err
		}
	}
	if t.pgMajor != 0 {
		tg.PG = labels.PG{Major: t.pgMajor}
	}
	if t.platform != "" {
		if tg.Platform, err = resolve.ParsePlatform(t.platform); err != nil {
			return tg, policy, usagef("--platform: %v", err)
		}
	}
	if t.libc != "" {
		family, version := splitDash(t.libc)
		tg.Libc = labels.Libc{Family: family, Version: version}
	}
	if t.distro != "" {
		id, version := splitDash(t.distro)
		tg.Distro = labels.Distro{ID: id, Version: version}
	}
	return tg, policy, nil
}

// splitDash splits "glibc-2.36" into "glibc" and "2.36" at the last dash
// before a digit.
func splitDash(s string) (string, string) {
	for i := len(s) - 1; i > 0; i-- {
		if s[i-1] == '-' && s[i] >= '0' && s[i] <= '9' {
			return s[:i-1], s[i:]
		}
	}
	return s, ""
}
