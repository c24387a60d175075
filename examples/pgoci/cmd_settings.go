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
		usage:   "settings --root DIR",
		summary: "print the postgresql.conf lines that make the extensions installed under DIR loadable",
		run:     runSettings,
	}
}

func runSettings(_ context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("settings", flag.ContinueOnError)
	root := fs.String("root", "", "")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos); err != nil {
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
