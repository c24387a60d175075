//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"pgoci/layout"
)

// pgEnv returns the environment variable .ci/lib/postgres.sh exports, or
// fails the test: a missing component is a failure, never a skip.
func pgEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run the suite with bash .ci/e2e.sh", name)
	}
	return v
}

// pgUser is the unprivileged account the servers run as: initdb and
// postgres refuse to run as root. A test run by another user runs them as
// itself (nil).
func pgUser(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	name := pgEnv(t, "PGOCI_E2E_PGUSER")
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("user %s: %v: run the suite with bash .ci/e2e.sh", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("user %s has uid %q gid %q", name, u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
}

// sharedTempDir is a temporary directory the PostgreSQL user can enter
// (t.TempDir and its parent are 0700), removed when the test ends.
func sharedTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgoci-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pgServer is a PostgreSQL server started for one test, running as the
// unprivileged user with its data directory, socket and log in a
// temporary directory, listening on a free loopback port.
type pgServer struct {
	bin  string // the server's bindir
	psql string
	data string
	sock string
	log  string
	port int
	cred *syscall.Credential
	env  []string
}

// startPG starts a server from bindir, its extension_control_path and
// dynamic_library_path naming the install roots (PostgreSQL 18 and newer
// only: older servers have no extension_control_path). It is stopped with
// pg_ctl stop -m fast when the test ends, whether it passed or not.
func startPG(t *testing.T, bindir string, roots ...string) *pgServer {
	t.Helper()
	return startPGConf(t, bindir, "", roots...)
}

// startPGConf is startPG with extra postgresql.conf lines (extra ends in a
// newline), for settings such as wal_level and shared_preload_libraries.
func startPGConf(t *testing.T, bindir, extra string, roots ...string) *pgServer {
	t.Helper()
	s := &pgServer{bin: bindir, psql: pgEnv(t, "PGOCI_E2E_PSQL"), cred: pgUser(t)}
	if _, err := os.Stat(s.psql); err != nil {
		t.Fatalf("psql: %v: run the suite with bash .ci/e2e.sh", err)
	}
	dir := sharedTempDir(t)
	s.data, s.sock = filepath.Join(dir, "data"), filepath.Join(dir, "run")
	s.log = filepath.Join(s.sock, "server.log")
	for _, d := range []string{s.data, s.sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if s.cred == nil {
			continue
		}
		if err := os.Chown(d, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	s.port = freePort(t)
	s.env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	s.as(t, "initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = %s\nfsync = off\n",
		s.port, layout.QuoteConf(s.sock))
	if len(roots) > 0 {
		settings, err := layout.PathSettings(roots)
		if err != nil {
			t.Fatal(err)
		}
		conf += settings.PostgresqlConf()
		s.env = append(s.env, "LD_LIBRARY_PATH="+settings.LDLibraryPath)
	}
	appendFile(t, filepath.Join(s.data, "postgresql.conf"), conf+extra)
	t.Cleanup(func() { s.stop(t) })
	s.as(t, "pg_ctl", "-D", s.data, "-l", s.log, "-w", "-t", "60", "start")
	return s
}

// stop stops the server and shows its log when the test failed.
func (s *pgServer) stop(t *testing.T) {
	t.Helper()
	out, err := s.command(context.Background(), filepath.Join(s.bin, "pg_ctl"), "-D", s.data, "-m", "fast", "-w", "stop").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "Is server running?") {
		t.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	if t.Failed() {
		if log, err := os.ReadFile(s.log); err == nil {
			t.Logf("server log %s:\n%s", s.log, log)
		}
	}
}

// as runs one of the server's programs as the PostgreSQL user.
func (s *pgServer) as(t *testing.T, prog string, args ...string) string {
	t.Helper()
	cmd := s.command(context.Background(), filepath.Join(s.bin, prog), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (s *pgServer) command(ctx context.Context, prog string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = s.sock // the test's working directory may be closed to the user
	cmd.Env = s.env
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// exec runs SQL with psql over the unix socket, stopping at the first
// error, and returns the unaligned, tuples-only output.
func (s *pgServer) exec(sql string) (string, error) {
	return s.execIn("postgres", sql)
}

// execIn is exec in the database db.
func (s *pgServer) execIn(db, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := s.command(ctx, s.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", s.sock, "-p", strconv.Itoa(s.port), "-U", "postgres", "-d", db, "-c", sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("psql -c %q: %w\n%s", sql, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// query is exec that fails the test on an error.
func (s *pgServer) query(t *testing.T, sql string) string {
	t.Helper()
	out, err := s.exec(sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
