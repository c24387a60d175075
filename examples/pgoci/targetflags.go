package main

import (
	"context"
	"flag"

	"pgoci/labels"
	"pgoci/resolve"
)

// targetFlags describe the server to resolve for.
type targetFlags struct {
	pgMajor                          int
	platform, libc, distro, pgConfig string
	policy                           string
}

func (t *targetFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&t.pgMajor, "pg-major", 0, "PostgreSQL major `N` of the server, e.g. 18 (default: from --pg-config, else unknown)")
	fs.StringVar(&t.platform, "platform", "", "`os/arch[/variant]` of the server (default: this machine's)")
	fs.StringVar(&t.libc, "libc", "", "C library `family-version` of the server, e.g. glibc-2.36 or musl-1.2.5 (default: from --pg-config, else unknown)")
	fs.StringVar(&t.distro, "distro", "", "distribution `id-version` of the server, e.g. debian-12 (default: from --pg-config, else unknown)")
	fs.StringVar(&t.pgConfig, "pg-config", "", "detect the server's PostgreSQL version, platform, libc and distro from the pg_config program at `PATH` and this machine; explicit target flags override (default: none)")
	fs.StringVar(&t.policy, "policy", "", "compatibility `POLICY`: strict, default or permissive (default: default)")
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
