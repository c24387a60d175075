//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// debChecks uses the extensions the pgoci phase installed, beyond
// creating them: each check runs in the database the extension was
// created in, and fails when it was not.
func debChecks(t *testing.T, env *debEnv, pg *pgServer) {
	checks := []struct {
		ext   string
		check func(t *testing.T, env *debEnv, pg *pgServer, db string)
	}{
		{"postgis", checkPostGIS},
		{"pgrouting", checkPGRouting},
		{"pg_repack", checkRepack},
		{"pg_partman", checkPartman},
		{"pglogical", checkPGLogical},
		{"pgfincore", checkPGFincore},
		{"pre_prepare", checkPrePrepare},
		{"londiste", checkLondiste},
	}
	for _, c := range checks {
		t.Run(c.ext, func(t *testing.T) {
			if res, ok := env.report.pgoci[c.ext]; !ok || res != "" {
				t.Fatalf("CREATE EXTENSION %s failed (%q): nothing to check", c.ext, res)
			}
			c.check(t, env, pg, extDatabase(c.ext))
		})
	}
	// wal2json has no control file: an output plugin, not an extension.
	t.Run("wal2json", func(t *testing.T) { checkWal2JSON(t, pg) })
}

func checkPostGIS(t *testing.T, _ *debEnv, pg *pgServer, db string) {
	got := pg.queryIn(t, db, "SELECT ST_AsText(ST_Buffer('POINT(0 0)'::geometry, 1))")
	if !strings.HasPrefix(got, "POLYGON((1 0,") {
		t.Errorf("ST_Buffer of a point = %.60q..., want a POLYGON around it", got)
	}
}

// checkPGRouting: the shortest path from 1 to 3 over 1-2-3 (cost 1+2)
// rather than the direct edge (cost 5).
func checkPGRouting(t *testing.T, _ *debEnv, pg *pgServer, db string) {
	pg.queryIn(t, db, "CREATE TABLE edges (id bigint, source bigint, target bigint, cost float8);"+
		"INSERT INTO edges VALUES (1, 1, 2, 1), (2, 2, 3, 2), (3, 1, 3, 5)")
	got := pg.queryIn(t, db, "SELECT string_agg(node::text, '-' ORDER BY seq) || ' ' || max(agg_cost + cost) "+
		"FROM pgr_dijkstra('SELECT id, source, target, cost FROM edges', 1, 3)")
	if got != "1-2-3 3" {
		t.Errorf("pgr_dijkstra path and cost = %q, want \"1-2-3 3\"", got)
	}
}

// checkRepack runs the pg_repack program pgoci installed into the
// server's bindir against a bloated table: it must rewrite it.
func checkRepack(t *testing.T, env *debEnv, pg *pgServer, db string) {
	pg.queryIn(t, db, "CREATE TABLE bloated (id int PRIMARY KEY, v text);"+
		"INSERT INTO bloated SELECT i, repeat('x', 100) FROM generate_series(1, 10000) i;"+
		"DELETE FROM bloated WHERE id % 2 = 0")
	filenode := "SELECT pg_relation_filenode('bloated')"
	before := pg.queryIn(t, db, filenode)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := pg.command(ctx, filepath.Join(env.cfg.BinDir, "pg_repack"),
		"-h", pg.sock, "-p", strconv.Itoa(pg.port), "-U", "postgres", "-d", db, "--table", "bloated")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pg_repack: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `repacking table "public.bloated"`) {
		t.Errorf("pg_repack output:\n%s", out)
	}
	if after := pg.queryIn(t, db, filenode); after == before {
		t.Errorf("the table's file node is still %s: pg_repack did not rewrite it", after)
	}
	if n := pg.queryIn(t, db, "SELECT count(*) FROM bloated"); n != "5000" {
		t.Errorf("%s rows after pg_repack, want 5000", n)
	}
}

// checkPartman makes a natively partitioned table with pg_partman 4's
// create_parent: it creates the partitions around now.
func checkPartman(t *testing.T, _ *debEnv, pg *pgServer, db string) {
	pg.queryIn(t, db, "CREATE TABLE events (id int NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at)")
	if got := pg.queryIn(t, db, "SELECT create_parent('public.events', 'at', 'native', 'daily')"); got != "t" {
		t.Errorf("create_parent = %q, want t", got)
	}
	n, _ := strconv.Atoi(pg.queryIn(t, db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass"))
	if n < 2 {
		t.Errorf("%d partitions after create_parent, want several", n)
	}
	pg.queryIn(t, db, "INSERT INTO events VALUES (1, now())")
}

// checkPGLogical creates a pglogical node (pglogical is preloaded, as its
// label asks, and the server runs with wal_level=logical).
func checkPGLogical(t *testing.T, _ *debEnv, pg *pgServer, db string) {
	dsn := "host=" + pg.sock + " port=" + strconv.Itoa(pg.port) + " dbname=" + db + " user=postgres"
	pg.queryIn(t, db, "SELECT pglogical.create_node(node_name := 'provider', dsn := '"+dsn+"')")
	if got := pg.queryIn(t, db, "SELECT n.node_name FROM pglogical.local_node l JOIN pglogical.node n ON n.node_id = l.node_id"); got != "provider" {
		t.Errorf("pglogical local node = %q, want provider", got)
	}
}

// checkPGFincore asks which pages of a table are in the page cache.
func checkPGFincore(t *testing.T, _ *debEnv, pg *pgServer, db string) {
	pg.queryIn(t, db, "CREATE TABLE cached AS SELECT i FROM generate_series(1, 10000) i")
	got := pg.queryIn(t, db, "SELECT sum(rel_os_pages) > 0 FROM pgfincore('cached')")
	if got != "t" {
		t.Errorf("pgfincore('cached') counted no pages: %q", got)
	}
}

// checkPrePrepare loads the module through $libdir/plugins, the link
// Debian ships (lib/plugins/pre_prepare.so -> ../pre_prepare.so), and
// prepares the statements of a table with it.
func checkPrePrepare(t *testing.T, _ *debEnv, pg *pgServer, db string) {
	pg.queryIn(t, db, "CREATE TABLE statements (name text, statement text);"+
		"INSERT INTO statements VALUES ('one', 'PREPARE one AS SELECT 1')")
	got := pg.queryIn(t, db, "SET client_min_messages = warning; LOAD '$libdir/plugins/pre_prepare';"+
		"SET preprepare.relation = 'public.statements';"+
		"SELECT prepare_all(); SELECT string_agg(name, ', ') FROM pg_prepared_statements")
	if got != "one" {
		t.Errorf("prepared statements after prepare_all() = %q, want one", got)
	}
}

// checkLondiste sets up a londiste root node on a pgq queue and registers
// a table: an insert into it becomes a pgq event.
func checkLondiste(t *testing.T, _ *debEnv, pg *pgServer, db string) {
	steps := []string{
		"SELECT ret_code FROM pgq_node.register_location('q', 'root1', 'dbname=" + db + "', false)",
		"SELECT ret_code FROM pgq_node.create_node('q', 'root', 'root1', 'worker1', null, null, null)",
		"CREATE TABLE replicated (id int PRIMARY KEY, v text); SELECT ret_code FROM londiste.local_add_table('q', 'public.replicated')",
	}
	for _, sql := range steps {
		if got := pg.queryIn(t, db, sql); got != "200" {
			t.Fatalf("%s = %q, want 200", sql, got)
		}
	}
	pg.queryIn(t, db, "INSERT INTO replicated VALUES (1, 'londiste')")
	got := pg.queryIn(t, db, "SELECT ev_type || ' ' || ev_data FROM pgq.event_template WHERE ev_extra1 = 'public.replicated'")
	if !strings.Contains(got, "v=londiste") {
		t.Errorf("pgq events of the registered table = %q, want the insert", got)
	}
}

// checkWal2JSON decodes an insert through a logical replication slot
// with the wal2json output plugin.
func checkWal2JSON(t *testing.T, pg *pgServer) {
	const db = "wal2json"
	pg.query(t, "CREATE DATABASE "+db)
	pg.queryIn(t, db, "CREATE TABLE decoded (id int PRIMARY KEY, v text)")
	pg.queryIn(t, db, "SELECT 1 FROM pg_create_logical_replication_slot('w2j', 'wal2json')")
	defer pg.queryIn(t, db, "SELECT pg_drop_replication_slot('w2j')")
	pg.queryIn(t, db, "INSERT INTO decoded VALUES (1, 'wal2json')")
	got := pg.queryIn(t, db, "SELECT string_agg(data, '') FROM pg_logical_slot_get_changes('w2j', NULL, NULL)")
	for _, want := range []string{`"kind":"insert"`, `"table":"decoded"`, `"wal2json"`} {
		if !strings.Contains(got, want) {
			t.Errorf("wal2json changes lack %s: %s", want, got)
		}
	}
}
