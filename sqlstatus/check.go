package sqlstatus

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"pgoci/extension"
)

// DefaultMaxDatabases is the number of databases Check lists at most when
// [Options].MaxDatabases is zero.
const DefaultMaxDatabases = 100

// Options tune [Check] and [CheckDSN].
type Options struct {
	// Databases are the databases to check. Default: every database of
	// the server that allows connections and is not a template
	// (pg_database: datallowconn, not datistemplate).
	Databases []string
	// MaxDatabases bounds the databases Check lists when Databases is
	// empty: a server with more is ErrTooManyDatabases rather than hundreds
	// of connections opened one after another. Default
	// DefaultMaxDatabases.
	MaxDatabases int
}

// The seams between the checks and the server, faked by the unit tests.
// The pgx implementation is in pgx.go.
type (
	// server is the running server, through the first connection.
	server interface {
		// preload reads shared_preload_libraries.
		preload(ctx context.Context) (preloadState, error)
		// databases lists the databases to check, at most limit+1 of
		// them, by name.
		databases(ctx context.Context, limit int) ([]listedDatabase, error)
		// open opens a read-only session on one database.
		open(ctx context.Context, name string) (database, error)
	}
	// database is a read-only session on one database.
	database interface {
		// extensions lists pg_extension, each with what
		// pg_available_extensions says of it.
		extensions(ctx context.Context) ([]created, error)
		// updatePath is the update path from one version of an
		// extension to another (pg_extension_update_paths), "" when
		// there is none.
		updatePath(ctx context.Context, ext, from, to string) (string, error)
		// close ends the session (rolling its transaction back).
		close(ctx context.Context) error
	}
)

// listedDatabase is a row of pg_database.
type listedDatabase struct {
	name string
	// connect is false when the role lacks the CONNECT privilege.
	connect bool
}

// created is an extension created in a database.
type created struct {
	name, version string
	// available says pg_available_extensions lists it; defaultVersion is
	// its default_version there.
	available      bool
	defaultVersion string
}

// preloadState is shared_preload_libraries as the server has it.
type preloadState struct {
	// readable is false when the role may not read the setting.
	readable bool
	// running is the value the server started with.
	running string
	// file is the value the configuration files hold now (postgresql.conf,
	// postgresql.auto.conf: what the next start reads), when fileKnown:
	// the role may read pg_file_settings and the running value came
	// from a file or the default, not the command line.
	file      string
	fileKnown bool
}

// provider is the installed package that provides an extension.
type provider struct {
	pkg, pkgVersion, extVersion string
}

// check runs the checks through srv.
func check(ctx context.Context, srv server, installed []extension.Installed, opts Options) (Report, error) {
	r := Report{Databases: []string{}, Findings: []Finding{}}
	ps, err := srv.preload(ctx)
	if err != nil {
		return r, fmt.Errorf("%w: shared_preload_libraries: %w", ErrQuery, err)
	}
	pf, warn := preloadFindings(ps, installed)
	r.Findings = append(r.Findings, pf...)
	r.Warnings = append(r.Warnings, warn...)

	names := slices.Clone(opts.Databases)
	if len(names) == 0 {
		limit := opts.MaxDatabases
		if limit <= 0 {
			limit = DefaultMaxDatabases
		}
		listed, err := srv.databases(ctx, limit)
		if err != nil {
			return r, fmt.Errorf("%w: pg_database: %w", ErrQuery, err)
		}
		if len(listed) > limit {
			return r, fmt.Errorf("%w: more than %d databases allow connections: name the ones to check", ErrTooManyDatabases, limit)
		}
		for _, d := range listed {
			if !d.connect {
				r.Unchecked = append(r.Unchecked, Unchecked{Database: d.name, Reason: "the role has no CONNECT privilege on it"})
				continue
			}
			names = append(names, d.name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)

	providers := providersOf(installed)
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		fs, err := checkDatabase(ctx, srv, name, providers)
		if err != nil {
			if ctx.Err() != nil {
				return r, ctx.Err()
			}
			r.Unchecked = append(r.Unchecked, Unchecked{Database: name, Reason: err.Error()})
			continue
		}
		r.Databases = append(r.Databases, name)
		r.Findings = append(r.Findings, fs...)
	}
	sortFindings(r.Findings)
	slices.SortStableFunc(r.Unchecked, func(a, b Unchecked) int { return strings.Compare(a.Database, b.Database) })
	return r, nil
}

// providersOf maps each extension of the installed packages to its
// package.
func providersOf(installed []extension.Installed) map[string]provider {
	m := map[string]provider{}
	for _, rec := range installed {
		for _, x := range rec.Extensions {
			m[x.Name] = provider{pkg: rec.Name, pkgVersion: rec.Version, extVersion: x.Version}
		}
	}
	return m
}

// checkDatabase opens one database and derives its findings.
func checkDatabase(ctx context.Context, srv server, name string, providers map[string]provider) (fs []Finding, err error) {
	db, err := srv.open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := db.close(ctx); err == nil && cerr != nil {
			err = cerr
		}
	}()
	exts, err := db.extensions(ctx)
	if err != nil {
		return nil, err
	}
	return databaseFindings(ctx, db, name, exts, providers), nil
}

// databaseFindings compares the extensions created in a database with the
// installed packages.
func databaseFindings(ctx context.Context, db database, name string, exts []created, providers map[string]provider) []Finding {
	var out []Finding
	for _, c := range exts {
		p, ok := providers[c.name]
		f := Finding{Database: name, Extension: c.name, Version: c.version, Package: p.pkg, PackageVersion: p.pkgVersion}
		switch {
		case !ok && c.available:
			// Provided by the server itself (contrib, plpgsql) or by
			// something other than this install location: not ours.
			continue
		case !ok:
			f.Kind = KindGone
			f.Statement = "DROP EXTENSION " + quoteIdent(c.name) + ";"
			f.Note = "the server no longer offers " + c.name + " and no installed package provides it: DROP EXTENSION drops every object it created " +
				"(CASCADE also what depends on them); or reinstall the package that provided it"
		case !c.available:
			f.Kind = KindUnavailable
			f.Wanted = p.extVersion
			f.Note = "package " + p.pkg + " is installed but the server does not offer " + c.name +
				": its extension_control_path and dynamic_library_path must name the install location (pgoci settings)"
		case p.extVersion == "" || p.extVersion == c.version:
			continue
		default:
			f.Kind = KindUpdate
			f.Wanted = p.extVersion
			f.Statement = "ALTER EXTENSION " + quoteIdent(c.name) + " UPDATE TO " + quoteLiteral(p.extVersion) + ";"
			var notes []string
			if c.defaultVersion != "" && c.defaultVersion != p.extVersion {
				notes = append(notes, fmt.Sprintf("the server offers default_version %s, not the package's %s: another directory of extension_control_path provides %s",
					c.defaultVersion, p.extVersion, c.name))
			}
			path, err := db.updatePath(ctx, c.name, c.version, p.extVersion)
			switch {
			case err != nil:
				notes = append(notes, "update path unknown: "+err.Error())
			case path == "":
				notes = append(notes, fmt.Sprintf("no update path from %s to %s among the server's scripts: the statement will fail; "+
					"the package must ship one, or the extension be dropped and created again", c.version, p.extVersion))
			default:
				f.UpdatePath = path
			}
			f.Note = strings.Join(notes, "; ")
		}
		out = append(out, f)
	}
	return out
}

// preloadFindings lists the preload libraries of the installed packages
// the running server did not load, one finding each.
func preloadFindings(ps preloadState, installed []extension.Installed) ([]Finding, []string) {
	type need struct{ lib, pkg, version string }
	var needs []need
	seen := map[string]bool{}
	for _, rec := range installed {
		for _, lib := range rec.Preload {
			if m := moduleName(lib); !seen[m] {
				seen[m] = true
				needs = append(needs, need{m, rec.Name, rec.Version})
			}
		}
	}
	if len(needs) == 0 {
		return nil, nil
	}
	if !ps.readable {
		return nil, []string{"preload check skipped: the role may not read shared_preload_libraries (it needs superuser or pg_read_all_settings)"}
	}
	running, err := parsePreload(ps.running)
	if err != nil {
		return nil, []string{"preload check skipped: shared_preload_libraries: " + err.Error()}
	}
	var warnings []string
	// next is what the server will read at its next start.
	next := running
	if ps.fileKnown {
		if fileEntries, err := parsePreload(ps.file); err != nil {
			warnings = append(warnings, "the configuration files' shared_preload_libraries would not load: "+err.Error())
		} else {
			next = fileEntries
		}
	}
	loaded, pending := modules(running), modules(next)
	var missing []need
	merged := slices.Clone(next)
	for _, n := range needs {
		if loaded[n.lib] {
			continue
		}
		missing = append(missing, n)
		if !pending[n.lib] {
			merged = append(merged, n.lib)
		}
	}
	slices.SortFunc(missing, func(a, b need) int { return strings.Compare(a.lib, b.lib) })
	stmt := preloadStatement(merged)
	var out []Finding
	for _, n := range missing {
		f := Finding{Kind: KindPreload, Library: n.lib, Package: n.pkg, PackageVersion: n.version}
		switch {
		case pending[n.lib]:
			f.Note = "the configuration files list " + n.lib + " already: restart the server to load it"
		default:
			f.Statement = stmt
			f.Note = "then restart the server: shared_preload_libraries is read only at start"
		}
		out = append(out, f)
	}
	return out, warnings
}

// modules is the set of modules the entries load.
func modules(entries []string) map[string]bool {
	m := make(map[string]bool, len(entries))
	for _, e := range entries {
		m[moduleName(e)] = true
	}
	return m
}
