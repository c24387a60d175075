package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

func versionCommand() command {
	return command{
		name:    "version",
		usage:   []string{""},
		summary: "print the module version of this pgoci, and the commit and Go version it was built from when known",
		setup: noFlags(func(_ context.Context, e *env, args []string) error {
			if err := wantArgs(args); err != nil {
				return err
			}
			info, _ := debug.ReadBuildInfo()
			writeVersion(e.stdout, info)
			return nil
		}),
	}
}

// writeVersion writes the main module's version ("(devel)" when built
// from a checkout rather than by `go install pgoci/examples/pgoci@vX`),
// then what the toolchain recorded about the commit and itself.
func writeVersion(w io.Writer, info *debug.BuildInfo) {
	version := "(devel)"
	if info != nil && info.Main.Version != "" {
		version = info.Main.Version
	}
	fmt.Fprintf(w, "pgoci %s\n", version)
	if info == nil {
		return
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(w, "commit: %s\n", rev)
	}
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(w, "commit time: %s\n", t)
	}
	if info.GoVersion != "" {
		fmt.Fprintf(w, "go: %s\n", info.GoVersion)
	}
}
