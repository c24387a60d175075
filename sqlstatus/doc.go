// Package sqlstatus compares a running PostgreSQL server with the packages
// pgoci installed for it, from the SQL side: which extensions the
// databases still run at an older version, which ones lost their package,
// which preload libraries the server did not load, each with the
// statement that fixes it. It is the SDK behind `pgoci status`.
//
// It is a package of its own so that the database driver
// (github.com/jackc/pgx/v5) stays out of the rest of the SDK: pgoci/extension
// and the packages below it do not import it.
//
// # How do I use this package?
//
// Read the install records with extension.Root.List, then hand them to
// [CheckDSN] with a connection string, or to [Check] with a connection of
// your own ([CheckRoot] does both steps on a connection):
//
//	root, err := extension.Open(ctx, extension.RootOptions{Root: "/var/lib/pgoci"})
//	if err != nil {
//		return err
//	}
//	installed, err := root.List(ctx)
//	if err != nil {
//		return err
//	}
//	report, err := sqlstatus.CheckDSN(ctx, "host=/run/postgresql user=postgres dbname=postgres", installed, sqlstatus.Options{})
//	if err != nil {
//		return err
//	}
//	for _, f := range report.Findings {
//		fmt.Println(f.Database, f.Kind, f.Extension, f.Statement)
//	}
//
// [Report.WriteText] renders the report as `pgoci status` prints it, one
// line per finding with the statement ready to paste; a [Report] marshals
// to the JSON `pgoci status --json` prints.
//
// # What it checks
//
// Every database of the server that allows connections and is not a
// template (at most [Options].MaxDatabases, [DefaultMaxDatabases] unless
// set; or those [Options].Databases names) is checked on a connection of
// its own, with the first connection's credentials and the database name
// replaced (pgx's configuration, never an edited connection string). In
// each, every extension of pg_extension is compared with the installed
// packages and with pg_available_extensions:
//
//   - [KindUpdate]: created at a version other than the installed
//     package's default_version: ALTER EXTENSION "name" UPDATE TO 'v';
//     [Finding].UpdatePath is the chain of scripts the server would run
//     (pg_extension_update_paths), and the note says when there is none.
//   - [KindGone]: no installed package provides it and the server no
//     longer offers it: its package was uninstalled while the extension
//     was in use. DROP EXTENSION "name"; (which drops every object the
//     extension made) or reinstalling the package. An extension the
//     server still offers (contrib, plpgsql, another directory of
//     extension_control_path) is not pgoci's and never reported.
//   - [KindUnavailable]: an installed package provides it but the server
//     does not offer it: extension_control_path does not name the install
//     location.
//
// Once for the server, [KindPreload]: each library an installed package
// needs in shared_preload_libraries that the running server did not load,
// with the ALTER SYSTEM that adds it to what the configuration files say
// (keeping their entries; each entry a literal of its own) and a note that
// the server must be restarted; only the note when the files list it
// already. Reading shared_preload_libraries needs superuser or
// pg_read_all_settings: without it the preload check is skipped with a
// warning ([Report].Warnings).
//
// Identifiers in statements are always double-quoted, literals quoted as
// quote_literal does.
//
// # What it never does
//
// It executes none of the statements it suggests and changes nothing:
// every session it opens starts with default_transaction_read_only on,
// and every query runs in a read-only transaction that is rolled back.
// It does not read the install location itself: the records it is given
// are the truth about what is installed. It opens one connection at a
// time, and stops at the next database when ctx ends.
package sqlstatus
