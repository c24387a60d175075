package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"pgoci/layout"
)

func settingsCommand() command {
	return command{
		name:    "settings",
		usage:   []string{"--root DIR"},
		summary: "print the postgresql.conf lines that make the extensions installed under DIR loadable",
		setup:   setupSettings,
	}
}

func setupSettings(fs *flag.FlagSet) action {
	root := fs.String("root", "", "install root `DIR` of a PostgreSQL 18+ server (required)")
	return func(_ context.Context, e *env, args []string) error {
		if err := wantArgs(args); err != nil {
			return err
		}
		if *root == "" {
			return usagef("--root is required")
		}
		abs, err := filepath.Abs(*root)
		if err != nil {
			return err
		}
		s, err := layout.PathSettings([]string{abs})
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, s.PostgresqlConf())
		return nil
	}
}
