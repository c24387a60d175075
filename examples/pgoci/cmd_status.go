package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"pgoci/extension"
	"pgoci/sqlstatus"
)

func statusCommand() command {
	return command{
		name:  "status",
		usage: []string{"[flags] " + locationUsage + " [--dsn DSN]"},
		summary: "connect to the running server and list, in every database, the extensions to update or drop and the preload libraries " +
			"it did not load, with the statements that fix them (exit 1 when there are some); changes nothing",
		details: statusDetails,
		setup:   setupStatus,
	}
}

const statusDetails = `The install records of the location are compared with what the server reports: in each database that allows connections and is not a template (one connection at a time, the --dsn credentials with the database name replaced), an extension created at a version other than its package's default_version (update: ALTER EXTENSION ... UPDATE TO, with a note when the server has no update path), created while its package is no longer installed and the server no longer offers it (gone: DROP EXTENSION, or reinstall the package; the server's own contrib is never reported), or provided by an installed package the server does not offer (unavailable: extension_control_path does not name the location); once for the server, a preload library of an installed package missing from the running shared_preload_libraries (preload: ALTER SYSTEM SET ..., then a restart).

One line per finding on stdout, tab-separated: database ("(server)" for a preload finding), kind, extension or library, version in the database, package, and the statement with its note as an SQL comment, ready to paste into psql connected to that database. "nothing to do" when there is nothing. A database that could not be checked is a line of kind "unchecked".

Nothing is executed: every session is read-only (default_transaction_read_only, read-only transactions rolled back). Exit status 0 when there is nothing to do, 1 when there are findings or unchecked databases (as pgoci verify on drift) or on an error. Reading shared_preload_libraries needs superuser or pg_read_all_settings; without it the preload check is skipped with a warning on stderr.`

func setupStatus(fs *flag.FlagSet) action {
	var loc locationFlags
	loc.register(fs, true)
	dsn := fs.String("dsn", "", "connection string `DSN` of the server, keyword/value or postgres:// URL, naming any of its databases (default: the PG* environment variables, as psql)")
	var dbs multiFlag
	fs.Var(&dbs, "database", "check only database `NAME` (repeatable; default: every database that allows connections and is not a template)")
	maxDBs := fs.Int("max-databases", sqlstatus.DefaultMaxDatabases, "refuse to check a server with more than `N` databases unless --database names them")
	asJSON := fs.Bool("json", false, "print the report as JSON: databases checked, findings, unchecked databases, warnings")
	return func(ctx context.Context, e *env, args []string) error {
		root, err := openLocation(ctx, &loc, args)
		if err != nil {
			return err
		}
		if *maxDBs < 1 {
			return usagef("--max-databases must be at least 1")
		}
		// Damaged records are an error that comes with the others: the
		// check goes on without their packages.
		installed, listErr := root.List(ctx)
		if listErr != nil && !errors.Is(listErr, extension.ErrState) {
			return listErr
		}
		if listErr != nil {
			fmt.Fprintf(e.stderr, "warning: %s: their packages are left out of the check\n", oneLine(listErr))
		}
		rep, err := sqlstatus.CheckDSN(ctx, *dsn, installed, sqlstatus.Options{Databases: dbs, MaxDatabases: *maxDBs})
		if err != nil {
			return err
		}
		for _, w := range rep.Warnings {
			fmt.Fprintln(e.stderr, "warning:", w)
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return err
			}
		} else {
			if err := rep.WriteText(e.stdout); err != nil {
				return err
			}
			if rep.Clean() {
				fmt.Fprintf(e.stdout, "nothing to do: %d database(s) checked\n", len(rep.Databases))
			}
		}
		switch {
		case len(rep.Findings) > 0:
			return fmt.Errorf("%s; nothing was changed: run each statement in its database", rep.Summary())
		case !rep.Clean():
			return errors.New(rep.Summary())
		}
		return listErr
	}
}
