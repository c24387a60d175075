package main

import (
	"context"
	"flag"
	"fmt"
)

func settingsCommand() command {
	return command{
		name:    "settings",
		usage:   []string{"[flags] " + locationUsage},
		summary: "print the postgresql.conf lines that make the installed packages loadable, shared_preload_libraries included",
		details: "With --root, extension_control_path and dynamic_library_path (they never change) and the LD_LIBRARY_PATH the server's " +
			"environment needs, as a comment; the root's directories are made, so that a server started now sees later installs. " +
			"shared_preload_libraries keeps the entries of --current-preload and adds what the installed packages need; " +
			"a note on stderr says when the server must be restarted because it changed.",
		setup: setupSettings,
	}
}

func setupSettings(fs *flag.FlagSet) action {
	var loc locationFlags
	loc.register(fs, true)
	current := fs.String("current-preload", "", "the server's present shared_preload_libraries `VALUE`, kept in front (default: none)")
	return func(ctx context.Context, e *env, args []string) error {
		root, err := openLocation(ctx, &loc, args)
		if err != nil {
			return err
		}
		s, err := root.Settings(ctx, *current)
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, s.PostgresqlConf())
		if s.Restart {
			fmt.Fprintln(e.stderr, "note: shared_preload_libraries changed: the server must be restarted for it to take effect")
		}
		return nil
	}
}
