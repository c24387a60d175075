package sqlstatus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"pgoci/extension"
	"pgoci/labels"
)

// fakeServer is a server made of rows, as the pgx implementation would
// read them.
type fakeServer struct {
	ps      preloadState
	psErr   error
	listed  []listedDatabase
	listErr error
	// dbs are the extensions of each database; a database missing here
	// does not open.
	dbs map[string][]created
	// paths are the update paths, "ext from to" -> path; pathErr fails
	// the look-up of one extension.
	paths   map[string]string
	pathErr map[string]error
	// opened and closed record the sessions, in order.
	opened, closed []string
	// cancel, when set, is called as the database of that name opens.
	cancelAt string
	cancel   context.CancelFunc
	// gotLimit is the limit databases was called with.
	gotLimit int
}

func (s *fakeServer) preload(context.Context) (preloadState, error) { return s.ps, s.psErr }

func (s *fakeServer) databases(_ context.Context, limit int) ([]listedDatabase, error) {
	s.gotLimit = limit
	if len(s.listed) > limit+1 {
		return s.listed[:limit+1], s.listErr
	}
	return s.listed, s.listErr
}

func (s *fakeServer) open(_ context.Context, name string) (database, error) {
	if name == s.cancelAt && s.cancel != nil {
		s.cancel()
	}
	exts, ok := s.dbs[name]
	if !ok {
		return nil, fmt.Errorf("failed to connect to `database=%s`: FATAL: database %q does not exist", name, name)
	}
	s.opened = append(s.opened, name)
	return &fakeDatabase{srv: s, name: name, exts: exts}, nil
}

type fakeDatabase struct {
	srv  *fakeServer
	name string
	exts []created
}

func (d *fakeDatabase) extensions(context.Context) ([]created, error) { return d.exts, nil }

func (d *fakeDatabase) updatePath(_ context.Context, ext, from, to string) (string, error) {
	if err := d.srv.pathErr[ext]; err != nil {
		return "", err
	}
	return d.srv.paths[ext+" "+from+" "+to], nil
}

func (d *fakeDatabase) close(context.Context) error {
	d.srv.closed = append(d.srv.closed, d.name)
	return nil
}

// rec is an install record of a package providing extensions at their
// default versions ("name=1.1").
func rec(name, version string, preload []string, exts ...string) extension.Installed {
	r := extension.Installed{Name: name, Version: version, Preload: preload}
	for _, x := range exts {
		n, v, _ := strings.Cut(x, "=")
		r.Extensions = append(r.Extensions, labels.Extension{Name: n, Version: v})
	}
	return r
}

func TestCheckUpdate(t *testing.T) {
	srv := &fakeServer{
		ps:     preloadState{readable: true},
		listed: []listedDatabase{{"postgres", true}, {"app", true}, {"other", true}},
		dbs: map[string][]created{
			"postgres": {{name: "plpgsql", version: "1.0", available: true, defaultVersion: "1.0"}},
			"app": {
				{name: "hida", version: "1.0", available: true, defaultVersion: "1.1"},
				{name: "plpgsql", version: "1.0", available: true, defaultVersion: "1.0"},
				{name: "pg_trgm", version: "1.5", available: true, defaultVersion: "1.6"}, // contrib: not ours
			},
			"other": {
				{name: "hida", version: "1.1", available: true, defaultVersion: "1.1"}, // up to date
				{name: "nopath", version: "0.9", available: true, defaultVersion: "2.0"},
			},
		},
		paths: map[string]string{"hida 1.0 1.1": "1.0--1.1"},
	}
	installed := []extension.Installed{
		rec("hida", "1.1.0", nil, "hida=1.1"),
		rec("nopath", "2.0", nil, "nopath=2.0"),
	}
	r, err := check(context.Background(), srv, installed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := Report{
		Databases: []string{"app", "other", "postgres"},
		Findings: []Finding{
			{Kind: KindUpdate, Database: "app", Extension: "hida", Version: "1.0", Wanted: "1.1", Package: "hida", PackageVersion: "1.1.0",
				UpdatePath: "1.0--1.1", Statement: `ALTER EXTENSION "hida" UPDATE TO '1.1';`},
			{Kind: KindUpdate, Database: "other", Extension: "nopath", Version: "0.9", Wanted: "2.0", Package: "nopath", PackageVersion: "2.0",
				Statement: `ALTER EXTENSION "nopath" UPDATE TO '2.0';`,
				Note:      "no update path from 0.9 to 2.0 among the server's scripts: the statement will fail; the package must ship one, or the extension be dropped and created again"},
		},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if r.Clean() {
		t.Error("Clean() with findings")
	}
	if !slices.Equal(srv.opened, srv.closed) || len(srv.opened) != 3 {
		t.Errorf("sessions opened %q, closed %q: want each database opened and closed once", srv.opened, srv.closed)
	}
	if srv.gotLimit != DefaultMaxDatabases {
		t.Errorf("databases listed with limit %d, want the default %d", srv.gotLimit, DefaultMaxDatabases)
	}
}

func TestCheckGoneAndUnavailable(t *testing.T) {
	srv := &fakeServer{
		ps:     preloadState{readable: true},
		listed: []listedDatabase{{"app", true}},
		dbs: map[string][]created{"app": {
			// Uninstalled while created: no record, not offered.
			{name: "old", version: "1.0"},
			// Offered by the server itself: never reported.
			{name: "cube", version: "1.5", available: true, defaultVersion: "1.5"},
			// Installed, but the server does not see the location.
			{name: "hida", version: "1.0"},
			// Another directory shadows the package's control file.
			{name: "shadow", version: "1.0", available: true, defaultVersion: "1.0"},
			// The update-path look-up fails.
			{name: "broken", version: "1", available: true, defaultVersion: "2"},
		}},
		paths:   map[string]string{"shadow 1.0 1.2": ""},
		pathErr: map[string]error{"broken": errors.New(`ERROR: could not open extension control file "broken.control"`)},
	}
	installed := []extension.Installed{
		rec("hida", "1.1", nil, "hida=1.1"),
		rec("shadow", "1.2", nil, "shadow=1.2"),
		rec("broken", "2", nil, "broken=2"),
	}
	r, err := check(context.Background(), srv, installed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{Kind: KindUpdate, Database: "app", Extension: "broken", Version: "1", Wanted: "2", Package: "broken", PackageVersion: "2",
			Statement: `ALTER EXTENSION "broken" UPDATE TO '2';`,
			Note:      `update path unknown: ERROR: could not open extension control file "broken.control"`},
		{Kind: KindUnavailable, Database: "app", Extension: "hida", Version: "1.0", Wanted: "1.1", Package: "hida", PackageVersion: "1.1",
			Note: "package hida is installed but the server does not offer hida: its extension_control_path and dynamic_library_path must name the install location (pgoci settings)"},
		{Kind: KindGone, Database: "app", Extension: "old", Version: "1.0", Statement: `DROP EXTENSION "old";`,
			Note: "the server no longer offers old and no installed package provides it: DROP EXTENSION drops every object it created (CASCADE also what depends on them); or reinstall the package that provided it"},
		{Kind: KindUpdate, Database: "app", Extension: "shadow", Version: "1.0", Wanted: "1.2", Package: "shadow", PackageVersion: "1.2",
			Statement: `ALTER EXTENSION "shadow" UPDATE TO '1.2';`,
			Note: "the server offers default_version 1.0, not the package's 1.2: another directory of extension_control_path provides shadow; " +
				"no update path from 1.0 to 1.2 among the server's scripts: the statement will fail; the package must ship one, or the extension be dropped and created again"},
	}
	if diff := cmp.Diff(want, r.Findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestCheckQuotesNames(t *testing.T) {
	srv := &fakeServer{
		ps:     preloadState{readable: true},
		listed: []listedDatabase{{"app", true}},
		dbs: map[string][]created{"app": {
			{name: `we"ird`, version: "1", available: true, defaultVersion: "1"},
			{name: "gone'; --", version: "1"},
		}},
		paths: map[string]string{`we"ird 1 1'2`: "1--1'2"},
	}
	r, err := check(context.Background(), srv, []extension.Installed{rec("w", "1", nil, `we"ird=1'2`)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Statement)
	}
	want := []string{`DROP EXTENSION "gone'; --";`, `ALTER EXTENSION "we""ird" UPDATE TO '1''2';`}
	if !slices.Equal(got, want) {
		t.Errorf("statements %q, want %q", got, want)
	}
}

func TestCheckPreload(t *testing.T) {
	installed := []extension.Installed{
		rec("pg_cron", "1.6.4", []string{"pg_cron"}, "pg_cron=1.6"),
		rec("pgaudit", "17.0", []string{"pgaudit"}, "pgaudit=17.0"),
		rec("stats", "1.11", []string{"$libdir/pg_stat_statements"}, "pg_stat_statements=1.11"),
		rec("plain", "1.0", nil, "plain=1.0"),
	}
	for _, c := range []struct {
		name     string
		ps       preloadState
		want     []Finding
		warnings []string
	}{{
		name: "all loaded, in every spelling",
		ps:   preloadState{readable: true, running: `pg_cron, "$libdir/pgaudit.so", pg_stat_statements`},
	}, {
		name: "two missing, file unknown",
		ps:   preloadState{readable: true, running: "pg_stat_statements"},
		want: []Finding{
			{Kind: KindPreload, Library: "pg_cron", Package: "pg_cron", PackageVersion: "1.6.4",
				Statement: "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', 'pg_cron', 'pgaudit';",
				Note:      "then restart the server: shared_preload_libraries is read only at start"},
			{Kind: KindPreload, Library: "pgaudit", Package: "pgaudit", PackageVersion: "17.0",
				Statement: "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', 'pg_cron', 'pgaudit';",
				Note:      "then restart the server: shared_preload_libraries is read only at start"},
		},
	}, {
		name: "the files list one already and keep an entry of their own",
		ps:   preloadState{readable: true, running: "pg_stat_statements", file: "auto_explain, pg_stat_statements, pg_cron", fileKnown: true},
		want: []Finding{
			{Kind: KindPreload, Library: "pg_cron", Package: "pg_cron", PackageVersion: "1.6.4",
				Note: "the configuration files list pg_cron already: restart the server to load it"},
			{Kind: KindPreload, Library: "pgaudit", Package: "pgaudit", PackageVersion: "17.0",
				Statement: "ALTER SYSTEM SET shared_preload_libraries = 'auto_explain', 'pg_stat_statements', 'pg_cron', 'pgaudit';",
				Note:      "then restart the server: shared_preload_libraries is read only at start"},
		},
	}, {
		name: "files' value unreadable by the server",
		ps:   preloadState{readable: true, running: "pg_cron, pgaudit", file: `"pg_stat_statements`, fileKnown: true},
		want: []Finding{
			{Kind: KindPreload, Library: "pg_stat_statements", Package: "stats", PackageVersion: "1.11",
				Statement: "ALTER SYSTEM SET shared_preload_libraries = 'pg_cron', 'pgaudit', 'pg_stat_statements';",
				Note:      "then restart the server: shared_preload_libraries is read only at start"},
		},
		warnings: []string{`the configuration files' shared_preload_libraries would not load: invalid list syntax: unterminated double quote in "\"pg_stat_statements"`},
	}, {
		name:     "not readable",
		ps:       preloadState{},
		warnings: []string{"preload check skipped: the role may not read shared_preload_libraries (it needs superuser or pg_read_all_settings)"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			srv := &fakeServer{ps: c.ps, listed: []listedDatabase{{"postgres", true}}, dbs: map[string][]created{"postgres": nil}}
			r, err := check(context.Background(), srv, installed, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, r.Findings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.warnings, r.Warnings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
	// No package needs a preload library: nothing to say, even to a role
	// that may not read the setting.
	srv := &fakeServer{listed: []listedDatabase{{"postgres", true}}, dbs: map[string][]created{"postgres": nil}}
	r, err := check(context.Background(), srv, installed[3:], Options{})
	if err != nil || !r.Clean() || len(r.Warnings) > 0 {
		t.Errorf("no preload needed: %+v, %v", r, err)
	}
}

func TestCheckDatabases(t *testing.T) {
	t.Run("unchecked", func(t *testing.T) {
		srv := &fakeServer{
			ps:     preloadState{readable: true},
			listed: []listedDatabase{{"app", true}, {"vanished", true}, {"locked", false}},
			dbs:    map[string][]created{"app": nil},
		}
		r, err := check(context.Background(), srv, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := []Unchecked{
			{Database: "locked", Reason: "the role has no CONNECT privilege on it"},
			{Database: "vanished", Reason: "failed to connect to `database=vanished`: FATAL: database \"vanished\" does not exist"},
		}
		if diff := cmp.Diff(want, r.Unchecked); diff != "" {
			t.Errorf("unchecked (-want +got):\n%s", diff)
		}
		if r.Clean() || !slices.Equal(r.Databases, []string{"app"}) {
			t.Errorf("Clean() = %v, databases %q: want not clean, app checked", r.Clean(), r.Databases)
		}
	})
	t.Run("named", func(t *testing.T) {
		srv := &fakeServer{
			ps:     preloadState{readable: true},
			listed: []listedDatabase{{"a", true}, {"b", true}},
			dbs:    map[string][]created{"a": nil, "b": nil, "template1": nil},
		}
		r, err := check(context.Background(), srv, nil, Options{Databases: []string{"b", "template1", "b"}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Databases, []string{"b", "template1"}) || srv.gotLimit != 0 {
			t.Errorf("checked %q (databases listed: %v); want b and template1 only, no listing", r.Databases, srv.gotLimit != 0)
		}
	})
	t.Run("too many", func(t *testing.T) {
		srv := &fakeServer{ps: preloadState{readable: true}, dbs: map[string][]created{}}
		for i := range 5 {
			srv.listed = append(srv.listed, listedDatabase{fmt.Sprintf("db%d", i), true})
		}
		if _, err := check(context.Background(), srv, nil, Options{MaxDatabases: 4}); !errors.Is(err, ErrTooManyDatabases) {
			t.Errorf("5 databases, at most 4: %v, want ErrTooManyDatabases", err)
		}
		if len(srv.opened) != 0 {
			t.Errorf("opened %q before refusing", srv.opened)
		}
		srv.listed = srv.listed[:4]
		for _, d := range srv.listed {
			srv.dbs[d.name] = nil
		}
		if r, err := check(context.Background(), srv, nil, Options{MaxDatabases: 4}); err != nil || len(r.Databases) != 4 {
			t.Errorf("4 databases, at most 4: %v, %v", r.Databases, err)
		}
	})
	t.Run("server queries fail", func(t *testing.T) {
		srv := &fakeServer{psErr: errors.New("conn closed")}
		if _, err := check(context.Background(), srv, nil, Options{}); !errors.Is(err, ErrQuery) {
			t.Errorf("preload query failed: %v, want ErrQuery", err)
		}
		srv = &fakeServer{ps: preloadState{readable: true}, listErr: errors.New("conn closed")}
		if _, err := check(context.Background(), srv, nil, Options{}); !errors.Is(err, ErrQuery) {
			t.Errorf("pg_database query failed: %v, want ErrQuery", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv := &fakeServer{
			ps:     preloadState{readable: true},
			listed: []listedDatabase{{"a", true}, {"b", true}, {"c", true}},
			dbs:    map[string][]created{"a": nil, "b": nil, "c": nil},
			// b's session is opened as ctx ends: c is never opened.
			cancelAt: "b", cancel: cancel,
		}
		if _, err := check(ctx, srv, nil, Options{}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v, want context.Canceled", err)
		}
		if !slices.Equal(srv.opened, []string{"a", "b"}) || !slices.Equal(srv.closed, srv.opened) {
			t.Errorf("opened %q, closed %q; want a and b, both closed", srv.opened, srv.closed)
		}
	})
}
