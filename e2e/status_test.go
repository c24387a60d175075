//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"pgoci/extension"
	"pgoci/resolve"
	"pgoci/sqlstatus"
)

// TestStatus drives `pgoci status` against a running PostgreSQL 18 whose
// extension_control_path names an install root:
//
//   - hida, a SQL-only extension, is installed at 1.0 and created in two
//     databases; after hida 1.1 is installed both are reported with
//     ALTER EXTENSION "hida" UPDATE TO '1.1' (update path 1.0--1.1), and
//     running the statement as printed in one database, then in the
//     other, clears them one by one, until status exits 0;
//   - the server's own contrib (cube) is never reported;
//   - hida_gone is installed, created, uninstalled: reported as gone with
//     DROP EXTENSION, cleared by it;
//   - pg_prewarm packed with --preload and installed while the server does
//     not preload it: reported once for the server with the ALTER SYSTEM
//     that adds it; after it, the note says to restart; after the restart,
//     nothing to do.
//
// A role that may not read shared_preload_libraries gets a warning, and a
// database it may not connect to is reported as unchecked (exit 1) unless
// --database leaves it out. status never changes anything: after a run
// the versions are as they were, and the server log shows that its
// sessions ran read-only transactions of queries, rolled back.
func TestStatus(t *testing.T) {
	host := registry(t)
	server := pg18Copy(t)
	trees := extractContrib(t, server, sharedTempDir(t), "pg_prewarm")
	root := newRoot(t)
	// Every statement in the log, with the session's application_name.
	pg := startPGConf(t, filepath.Join(server, "bin"), "log_statement = 'all'\nlog_line_prefix = '[%a] '\n", root)
	target := pg.target(t)
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", pg.port)
	packFlags := []string{"--pg-major", "18", "--platform", resolve.PlatformString(resolve.HostPlatform()),
		"--libc", pg18Build.Libc.Family + "-" + pg18Build.Libc.Version, "--distro", pg18Build.Distro.ID + "-" + pg18Build.Distro.Version}
	installFlags := []string{"--root", root, "--cache", t.TempDir(), "--pg-major", "18", "--libc", target.Libc.Family + "-" + target.Libc.Version}
	install := func(ref string) string {
		t.Helper()
		return pgoci(t, append([]string{"install", ref}, installFlags...)...)
	}
	pack := func(dir, ref string, extra ...string) {
		t.Helper()
		pgoci(t, append(append([]string{"pack", dir, ref}, packFlags...), extra...)...)
	}

	// hida 1.0 and 1.1, SQL only.
	hida := host + "/status/hida"
	pack(sqlExtension(t, "hida", "1.0"), hida+":1.0")
	pack(sqlExtension(t, "hida", "1.1", "1.0"), hida+":1.1")
	install(hida + ":1.0")
	for _, db := range []string{"app1", "app2"} {
		pg.query(t, "CREATE DATABASE "+db)
		mustExec(t, pg, db, "CREATE EXTENSION hida")
	}
	// The server's own contrib: never pgoci's to report.
	mustExec(t, pg, "app1", "CREATE EXTENSION cube")

	st := runStatus(t, root, dsn)
	st.wantExit(t, 0)
	if want := "nothing to do: 3 database(s) checked\n"; st.stdout != want {
		t.Errorf("status with hida 1.0 installed and created at 1.0:\n%s\nwant %q", st.stdout, want)
	}

	if out := install(hida + ":1.1"); !strings.Contains(out, "hida 1.1") {
		t.Errorf("install hida 1.1 printed:\n%s", out)
	}
	st = runStatus(t, root, dsn)
	st.wantExit(t, 1)
	stmt := `ALTER EXTENSION "hida" UPDATE TO '1.1';`
	st.wantLines(t, []string{
		"app1\tupdate\thida\t1.0 -> 1.1\thida 1.1\t" + stmt,
		"app2\tupdate\thida\t1.0 -> 1.1\thida 1.1\t" + stmt,
	})
	if !strings.Contains(st.stderr, "2 finding(s) in 3 database(s) checked") {
		t.Errorf("status stderr: %s", st.stderr)
	}
	for _, db := range []string{"app1", "app2"} {
		if v := extVersion(t, pg, db, "hida"); v != "1.0" {
			t.Errorf("status changed hida in %s to %s", db, v)
		}
	}
	rep := runStatusJSON(t, root, dsn)
	if len(rep.Findings) != 2 || rep.Findings[0].UpdatePath != "1.0--1.1" || rep.Findings[0].Database != "app1" ||
		rep.Findings[0].Kind != sqlstatus.KindUpdate || rep.Findings[0].Wanted != "1.1" || rep.Findings[0].Version != "1.0" {
		t.Errorf("status --json findings: %+v", rep.Findings)
	}
	if !slices.Equal(rep.Databases, []string{"app1", "app2", "postgres"}) {
		t.Errorf("status --json databases: %q", rep.Databases)
	}

	// The statement as printed, in app1: only app2 is left.
	mustExec(t, pg, "app1", statementOf(t, st.stdout, "app1"))
	if v := mustExec(t, pg, "app1", "SELECT hida_version()"); v != "1.1" {
		t.Errorf("hida_version() after the update = %q, want 1.1", v)
	}
	st = runStatus(t, root, dsn)
	st.wantExit(t, 1)
	st.wantLines(t, []string{"app2\tupdate\thida\t1.0 -> 1.1\thida 1.1\t" + stmt})
	mustExec(t, pg, "app2", statementOf(t, st.stdout, "app2"))
	st = runStatus(t, root, dsn)
	st.wantExit(t, 0)

	// A package uninstalled while its extension is still created.
	pack(sqlExtension(t, "hida_gone", "2.0"), host+"/status/hida_gone:2.0")
	install(host + "/status/hida_gone:2.0")
	mustExec(t, pg, "app2", "CREATE EXTENSION hida_gone")
	runStatus(t, root, dsn).wantExit(t, 0)
	pgoci(t, "uninstall", "hida_gone", "--root", root)
	st = runStatus(t, root, dsn)
	st.wantExit(t, 1)
	st.wantLines(t, []string{"app2\tgone\thida_gone\t2.0\t-\tDROP EXTENSION \"hida_gone\"; -- the server no longer offers hida_gone " +
		"and no installed package provides it: DROP EXTENSION drops every object it created (CASCADE also what depends on them); " +
		"or reinstall the package that provided it"})
	mustExec(t, pg, "app2", statementOf(t, st.stdout, "app2"))
	runStatus(t, root, dsn).wantExit(t, 0)

	// A package that needs shared_preload_libraries.
	pack(trees["pg_prewarm"], host+"/status/pg_prewarm:1.2", "--preload", "pg_prewarm")
	install(host + "/status/pg_prewarm:1.2")
	if out := pgoci(t, "list", "--root", root); !strings.Contains(out, "preload=pg_prewarm") {
		t.Fatalf("pg_prewarm installed without its preload label:\n%s", out)
	}
	st = runStatus(t, root, dsn)
	st.wantExit(t, 1)
	st.wantLines(t, []string{"(server)\tpreload\tpg_prewarm\t-\tpg_prewarm 1.2\tALTER SYSTEM SET shared_preload_libraries = 'pg_prewarm'; " +
		"-- then restart the server: shared_preload_libraries is read only at start"})
	mustExec(t, pg, "postgres", statementOf(t, st.stdout, "(server)"))
	st = runStatus(t, root, dsn)
	st.wantExit(t, 1)
	st.wantLines(t, []string{"(server)\tpreload\tpg_prewarm\t-\tpg_prewarm 1.2\t-- the configuration files list pg_prewarm already: restart the server to load it"})
	pg.as(t, "pg_ctl", "-D", pg.data, "-l", pg.log, "-m", "fast", "-w", "-t", "60", "restart")
	if v := pg.query(t, "SHOW shared_preload_libraries"); v != "pg_prewarm" {
		t.Errorf("shared_preload_libraries after the restart = %q", v)
	}
	runStatus(t, root, dsn).wantExit(t, 0)

	// A role that may not read shared_preload_libraries: the preload
	// check is skipped with a warning, the databases are still checked.
	pg.query(t, "CREATE ROLE reader LOGIN")
	st = runStatus(t, root, strings.Replace(dsn, "user=postgres", "user=reader", 1))
	st.wantExit(t, 0)
	if !strings.Contains(st.stderr, "warning: preload check skipped") || st.stdout != "nothing to do: 3 database(s) checked\n" {
		t.Errorf("status as a role without pg_read_all_settings:\n%s%s", st.stdout, st.stderr)
	}
	// A database the role may not connect to is reported, not skipped
	// in silence; --database leaves it out.
	pg.query(t, "REVOKE CONNECT ON DATABASE app2 FROM PUBLIC")
	readerDSN := strings.Replace(dsn, "user=postgres", "user=reader", 1)
	st = runStatus(t, root, readerDSN)
	st.wantExit(t, 1)
	st.wantLines(t, []string{"app2\tunchecked\t-\t-\t-\t-- the role has no CONNECT privilege on it"})
	st = runStatus(t, root, readerDSN, "--database", "app1")
	st.wantExit(t, 0)

	// The SDK on a connection of the caller's: refused inside a
	// transaction, then every database checked, the connection left
	// open and idle.
	checkOnConn(t, root, dsn)

	checkReadOnly(t, pg)
}

func checkOnConn(t *testing.T, root, dsn string) {
	t.Helper()
	ctx := context.Background()
	rt := openRoot(t, extension.RootOptions{Root: root})
	installed, err := rt.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	busy, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close(ctx)
	tx, err := busy.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstatus.Check(ctx, busy, installed, sqlstatus.Options{}); !errors.Is(err, sqlstatus.ErrBusy) {
		t.Errorf("Check inside a transaction: %v, want ErrBusy", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// Named like the CLI's sessions, so that checkReadOnly reads what
	// Check ran on it: this session is not read-only by default. The test
	// runs nothing on it but Check.
	conn, err := pgx.Connect(ctx, dsn+" dbname=app1 application_name='pgoci status'")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rep, err := sqlstatus.CheckRoot(ctx, conn, rt, sqlstatus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() || !slices.Equal(rep.Databases, []string{"app1", "app2", "postgres"}) {
		t.Errorf("Check on a connection to app1: %+v", rep)
	}
	if st := conn.PgConn().TxStatus(); st != 'I' || conn.IsClosed() {
		t.Errorf("the caller's connection after Check: transaction status %q, closed %v", st, conn.IsClosed())
	}
}

// checkReadOnly reads what the sessions of pgoci status ran, from the
// server log (log_statement = 'all', application_name in the prefix):
// read-only transactions, queries, savepoints, rollbacks; nothing that
// writes, nothing committed.
func checkReadOnly(t *testing.T, pg *pgServer) {
	t.Helper()
	log, err := os.ReadFile(pg.log)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{"begin read only", "select ", "savepoint ", "rollback"}
	var n int
	for _, line := range strings.Split(string(log), "\n") {
		msg, ok := strings.CutPrefix(line, "[pgoci status] LOG:  ")
		if !ok {
			continue
		}
		// "statement: SQL" (simple protocol), "execute NAME: SQL" (extended).
		i := strings.Index(msg, ": ")
		if i < 0 || !strings.HasPrefix(msg, "statement: ") && !strings.HasPrefix(msg, "execute ") {
			continue
		}
		sql := msg[i+2:]
		n++
		sql = strings.ToLower(strings.TrimSpace(sql))
		if !slices.ContainsFunc(allowed, func(p string) bool { return strings.HasPrefix(sql, p) }) {
			t.Errorf("pgoci status ran %q", sql)
		}
	}
	if n < 20 {
		t.Errorf("the server log shows %d statements of pgoci status: the check proves nothing", n)
	}
	t.Logf("pgoci status ran %d statements, all read-only", n)
}

// sqlExtension writes a SQL-only extension tree in the image root layout:
// name.control with default_version version, the install script of
// version, and of each older version its own install script and the
// update script to version. hida_version() returns the version.
func sqlExtension(t *testing.T, name, version string, older ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name+"-"+version)
	ext := filepath.Join(dir, "share", "extension")
	if err := os.MkdirAll(ext, 0o755); err != nil {
		t.Fatal(err)
	}
	fn := func(v string) string {
		return fmt.Sprintf("CREATE OR REPLACE FUNCTION %s_version() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '%s'::text $$;\n", name, v)
	}
	files := map[string]string{
		name + ".control":              fmt.Sprintf("comment = 'status test extension'\ndefault_version = '%s'\nrelocatable = true\ntrusted = true\n", version),
		name + "--" + version + ".sql": fn(version),
	}
	for _, o := range older {
		files[name+"--"+o+".sql"] = fn(o)
		files[name+"--"+o+"--"+version+".sql"] = fn(version)
	}
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(ext, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// statusRun is one run of pgoci status.
type statusRun struct {
	stdout, stderr string
	code           int
}

func runStatus(t *testing.T, root, dsn string, extra ...string) statusRun {
	t.Helper()
	cmd := exec.Command(pgociBin, append([]string{"status", "--root", root, "--dsn", dsn}, extra...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	st := statusRun{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		st.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("pgoci status: %v", err)
	}
	t.Logf("pgoci status: exit %d\n%s%s", st.code, st.stdout, st.stderr)
	return st
}

func runStatusJSON(t *testing.T, root, dsn string) sqlstatus.Report {
	t.Helper()
	st := runStatus(t, root, dsn, "--json")
	var rep sqlstatus.Report
	if err := json.Unmarshal([]byte(st.stdout), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, st.stdout)
	}
	if wantClean := st.code == 0; rep.Clean() != wantClean {
		t.Errorf("status --json exit %d with a report whose Clean() is %v", st.code, rep.Clean())
	}
	return rep
}

func (st statusRun) wantExit(t *testing.T, code int) {
	t.Helper()
	if st.code != code {
		t.Fatalf("pgoci status exit %d, want %d\nstdout:\n%s\nstderr:\n%s", st.code, code, st.stdout, st.stderr)
	}
}

func (st statusRun) wantLines(t *testing.T, want []string) {
	t.Helper()
	got := strings.Split(strings.TrimSuffix(st.stdout, "\n"), "\n")
	if !slices.Equal(got, want) {
		t.Errorf("pgoci status printed:\n%s\nwant:\n%s", st.stdout, strings.Join(want, "\n"))
	}
}

// statementOf is the statement of the first line for database db, as a
// user would copy it from the last column (the note after it is an SQL
// comment: psql runs the line as it is).
func statementOf(t *testing.T, out, db string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		cols := strings.Split(line, "\t")
		if len(cols) == 6 && cols[0] == db {
			return cols[5]
		}
	}
	t.Fatalf("no line for %s in:\n%s", db, out)
	return ""
}

func mustExec(t *testing.T, pg *pgServer, db, sql string) string {
	t.Helper()
	out, err := pg.execIn(db, sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func extVersion(t *testing.T, pg *pgServer, db, name string) string {
	t.Helper()
	return mustExec(t, pg, db, "SELECT extversion FROM pg_extension WHERE extname = '"+name+"'")
}
