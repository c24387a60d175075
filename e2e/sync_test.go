//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSync: `pgoci sync` with a file of three contrib extensions (one,
// earthdistance, requiring cube) against the real registry and a running
// PostgreSQL 18: the first sync installs them, cube as a dependency, and
// CREATE EXTENSION works with no restart; a second sync has nothing to
// do, changes nothing and sends the registry no request (the lock file);
// taking earthdistance out of the file uninstalls it and cube, which
// nothing requires any more, and leaves the others.
func TestSync(t *testing.T) {
	reg := startRegistry(t, "")
	server := pg18Copy(t)
	names := []string{"cube", "earthdistance", "hstore", "pg_trgm"}
	trees := extractContrib(t, server, sharedTempDir(t), names...)
	root := newRoot(t)
	pg := startPG(t, filepath.Join(server, "bin"), root)
	target := pg.target(t)
	build := pg18Build
	build.PG = target.PG
	for _, n := range names {
		pushContrib(t, reg.Host+"/sync/"+n, trees[n], build)
	}
	started := pg.query(t, "SELECT pg_postmaster_start_time(), pg_conf_load_time()")

	file := filepath.Join(t.TempDir(), "extensions.yaml")
	writeSyncFile(t, file, reg.Host+"/sync", "earthdistance", "hstore", "pg_trgm")
	flags := []string{"--root", root, "--cache", t.TempDir(), "--pg-major", "18", "--libc", target.Libc.Family + "-" + target.Libc.Version}
	out := pgociStdout(t, append([]string{"sync", file}, flags...)...)
	if got, want := planActions(out), []string{"install earthdistance", "dependency cube", "install hstore", "install pg_trgm"}; !slices.Equal(got, want) {
		t.Errorf("first sync planned %q, want %q:\n%s", got, want, out)
	}
	for _, ext := range []string{"earthdistance CASCADE", "hstore", "pg_trgm"} {
		pg.query(t, "CREATE EXTENSION "+ext)
	}
	if d := pg.query(t, "SELECT round(earth_distance(ll_to_earth(0,0), ll_to_earth(0,1)))"); d != "111320" {
		t.Errorf("earth_distance of one degree on the equator = %s m, want 111320", d)
	}
	if s := pg.query(t, "SELECT similarity('postgres', 'postgis') > 0.3"); s != "t" {
		t.Errorf("pg_trgm similarity: %s", s)
	}

	before := listing(t, root)
	requests := registryRequests(t, reg)
	if out := pgociStdout(t, append([]string{"sync", file}, flags...)...); out != "nothing to do\n" {
		t.Errorf("second sync printed:\n%s", out)
	}
	if n := registryRequests(t, reg) - requests; n != 0 {
		t.Errorf("second sync sent %d requests to the registry, want none (the lock file pins every package)", n)
	}
	sameListing(t, "the root after a sync with nothing to do", before, root)

	pg.query(t, "DROP EXTENSION earthdistance")
	pg.query(t, "DROP EXTENSION cube")
	writeSyncFile(t, file, reg.Host+"/sync", "hstore", "pg_trgm")
	out = pgociStdout(t, append([]string{"sync", file}, flags...)...)
	if got, want := planActions(out), []string{"remove earthdistance", "remove cube"}; !slices.Equal(got, want) {
		t.Errorf("sync without earthdistance planned %q, want %q:\n%s", got, want, out)
	}
	for _, f := range []string{"share/extension/cube.control", "share/extension/earthdistance.control", "lib/cube.so", "packages/cube"} {
		if _, err := os.Lstat(filepath.Join(root, f)); !os.IsNotExist(err) {
			t.Errorf("%s still in the root after the sync removed its package: %v", f, err)
		}
	}
	if got := pgoci(t, "list", "--root", root); !strings.HasPrefix(got, "hstore\t") || !strings.Contains(got, "\npg_trgm\t") || strings.Count(got, "\n") != 2 {
		t.Errorf("list after the sync:\n%s", got)
	}
	pg.query(t, "SELECT 'a=>1'::hstore")
	if now := pg.query(t, "SELECT pg_postmaster_start_time(), pg_conf_load_time()"); now != started {
		t.Errorf("server restarted or reloaded: start and conf load time %q, then %q", started, now)
	}
}

func writeSyncFile(t *testing.T, path, repository string, names ...string) {
	t.Helper()
	s := "repository: " + repository + "\nextensions:\n"
	for _, n := range names {
		s += "  - name: " + n + "\n"
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// planActions are the first two words of each line of a printed plan.
func planActions(out string) []string {
	var acts []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			acts = append(acts, f[0]+" "+f[1])
		}
	}
	return acts
}

// registryRequests counts the requests in a private registry's access log.
func registryRequests(t *testing.T, r *privateRegistry) int {
	t.Helper()
	b, err := os.ReadFile(r.log)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "127.0.0.1 - ") {
			n++
		}
	}
	return n
}
