//go:build e2e

package e2e

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The per-extension loading loop shared by TestDebian (through pgoci and
// through apt) and TestContrib (as shipped and through pgoci): one
// implementation, so that both sides of every comparison are measured
// alike.

// loadWorkers is how many extensions are created at once: each in its own
// database, so they cannot disturb one another.
const loadWorkers = 4

// createEach runs CREATE EXTENSION name CASCADE for every name, each in a
// database of its own (extDatabase), and returns the outcome per name: ""
// when it succeeded, else the first line of the server's error.
func createEach(t *testing.T, pg *pgServer, names []string) map[string]string {
	t.Helper()
	createDatabases(t, pg, names)
	var mu sync.Mutex
	res := make(map[string]string, len(names))
	took := make(map[string]time.Duration, len(names))
	parallel(loadWorkers, names, func(name string) {
		start := time.Now()
		outcome := createOne(pg, name)
		mu.Lock()
		res[name], took[name] = outcome, time.Since(start)
		mu.Unlock()
	})
	logSlowest(t, took)
	return res
}

// logSlowest logs the five extensions that took longest to create: where
// the suite's time goes.
func logSlowest(t *testing.T, took map[string]time.Duration) {
	t.Helper()
	slowest := slices.SortedFunc(maps.Keys(took), func(a, b string) int { return cmp.Compare(took[b], took[a]) })
	var rows []string
	for _, name := range slowest[:min(5, len(slowest))] {
		rows = append(rows, fmt.Sprintf("%s %s", name, took[name].Round(100*time.Millisecond)))
	}
	t.Logf("slowest to create: %s", strings.Join(rows, ", "))
}

func createOne(pg *pgServer, name string) string {
	if out, err := pg.execIn(extDatabase(name), "CREATE EXTENSION "+quoteIdent(name)+" CASCADE"); err != nil {
		return firstError(out)
	}
	return ""
}

// createDatabases creates the databases of names, one after the other
// over one connection (concurrent CREATE DATABASE only queue for
// checkpoints), copying template1's files: faster than WAL-logging them
// block by block, and a test's databases need no crash safety.
func createDatabases(t *testing.T, pg *pgServer, names []string) {
	t.Helper()
	args := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg.sock, "-p", strconv.Itoa(pg.port), "-U", "postgres", "-d", "postgres"}
	for _, name := range names {
		if db := extDatabase(name); db != "postgres" {
			args = append(args, "-c", "CREATE DATABASE "+quoteIdent(db)+" STRATEGY = FILE_COPY")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := pg.command(ctx, pg.psql, args...).CombinedOutput(); err != nil {
		t.Fatalf("creating a database per extension: %v\n%s", err, out)
	}
}

// extDatabase is the database createEach creates extension name in: one
// named after it, except pg_cron, which can only be created in the
// database of cron.database_name ('postgres' by default).
func extDatabase(name string) string {
	if name == "pg_cron" {
		return "postgres"
	}
	return name
}

// firstError is the first line of psql's output that reports an error
// (its "psql:<where>:" prefix removed), else the first line.
func firstError(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if i := strings.Index(l, "ERROR:"); i >= 0 {
			return strings.Join(strings.Fields(l[i:]), " ")
		}
	}
	return lines[0]
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// queryIn is execIn that fails the test on an error.
func (s *pgServer) queryIn(t *testing.T, db, sql string) string {
	t.Helper()
	out, err := s.execIn(db, sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// offered lists the extensions the server offers (pg_available_extensions)
// that are not in before.
func offered(t *testing.T, pg *pgServer, before []string) []string {
	t.Helper()
	var names []string
	for _, n := range strings.Split(pg.query(t, "SELECT name FROM pg_available_extensions ORDER BY name"), "\n") {
		if n != "" && !slices.Contains(before, n) {
			names = append(names, n)
		}
	}
	return names
}

// controlNames lists the extensions whose primary control files are in
// dir (name.control; secondary ones are name--version.control).
func controlNames(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.control"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		if name := strings.TrimSuffix(filepath.Base(p), ".control"); !strings.Contains(name, "--") {
			names = append(names, name)
		}
	}
	return names
}

// parallel calls fn for every item, n at a time, and returns when all
// calls have returned. fn must not call t.Fatal.
func parallel(n int, items []string, fn func(string)) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, item := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(item)
		})
	}
	wg.Wait()
}

// timed runs fn and logs how long it took: the suite's run time is
// watched, and these are its long steps.
func timed(t *testing.T, what string, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	t.Logf("%s: %s", what, time.Since(start).Round(100*time.Millisecond))
}

// pgociRun runs the pgoci CLI; unlike pgociErr it may be called from
// goroutines other than the test's.
func pgociRun(args ...string) (string, error) {
	out, err := exec.Command(pgociBin, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("pgoci %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
