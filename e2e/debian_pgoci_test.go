//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"pgoci/extension"
	"pgoci/resolve"
)

// The build every Debian tree is packed for: bookworm's C library and
// release, as a user packing Debian's packages states them.
var debTarget = []string{"--pg-major", "15", "--libc", "glibc-2.36", "--distro", "debian-12"}

// debDeps are the --dep mappings a user needs: these extensions live in
// repositories named after their Debian packages, not after themselves.
func debDeps(host string) []string {
	return []string{
		"--dep", "postgis=" + host + "/deb/postgis-3",
		"--dep", "pgq=" + host + "/deb/pgq3",
		"--dep", "pgq_node=" + host + "/deb/pgq-node",
	}
}

// debChains are installed first, one at a time, so that their
// dependencies come from the differently named repositories through
// --dep: pgrouting pulls postgis from deb/postgis-3, londiste pulls
// pgq_node from deb/pgq-node, which pulls pgq from deb/pgq3.
var debChains = map[string][]string{
	"pgrouting":    {"requires postgis: installing it from %s/deb/postgis-3", "installed pgrouting"},
	"londiste-sql": {"requires pgq_node: installing it from %s/deb/pgq-node", "requires pgq: installing it from %s/deb/pgq3", "installed londiste"},
}

// debPGOCIPhase packs and installs every tree with the CLI, creates every
// extension the packages brought, runs the functional checks and
// uninstalls everything, checking that the server's directories are as
// before.
func debPGOCIPhase(t *testing.T, env *debEnv) {
	// The install records live beside the package set, not in a temporary
	// directory: a run killed before its cleanup leaves records the next
	// run uninstalls by.
	state := filepath.Join(env.cat.dir, "pgoci-state")
	loc := []string{"--pg-config", env.pgConfig, "--state", state}
	if _, err := os.Stat(state); err == nil {
		uninstallAll(t, loc, true)
	}
	checkNoDebFiles(t, env)
	before := listing(t, env.serverDirs...)
	preexisting := controlNames(t, env.extDir)
	t.Cleanup(func() {
		timed(t, "uninstall", func() { uninstallAll(t, loc, false) })
		sameListing(t, "PostgreSQL 15 server directories after pgoci uninstall", before, env.serverDirs...)
	})

	timed(t, "pack", func() { debPackAll(t, env) })
	timed(t, "install", func() { debInstallAll(t, env, loc) })
	env.conf = debServerConf(listPackages(t, loc))
	t.Logf("server settings: %s", env.conf)
	pg := startPGConf(t, env.cfg.BinDir, env.conf)
	timed(t, "CREATE EXTENSION", func() { env.report.pgoci = createEach(t, pg, offered(t, pg, preexisting)) })
	env.report.extensions = len(env.report.pgoci)
	t.Run("checks", func(t *testing.T) { debChecks(t, env, pg) })
	pgoci(t, append([]string{"verify"}, loc...)...)
	t.Run("verify sees a library removed", func(t *testing.T) { debLibraryRemoved(t, loc) })
}

// debLibraryRemoved: once the OS library a module needs (libpcre.so.3,
// for pgpcre) is gone, `pgoci verify` reports that the module can no
// longer load, naming the library; with it back, verify passes again.
func debLibraryRemoved(t *testing.T, loc []string) {
	lib := osLibrary(t, "libpcre.so.3")
	aside := lib + ".pgoci-e2e-aside"
	if err := os.Rename(lib, aside); err != nil {
		t.Fatalf("move %s aside: %v", lib, err)
	}
	restored := false
	restore := func() {
		if !restored {
			if err := os.Rename(aside, lib); err != nil {
				t.Errorf("put %s back: %v", lib, err)
			}
			restored = true
		}
	}
	t.Cleanup(restore)
	out, err := pgociErr(t, append([]string{"verify"}, loc...)...)
	if err == nil || !strings.Contains(out, "pgpcre") || !strings.Contains(out, "cannot load") || !strings.Contains(out, "libpcre.so.3") {
		t.Errorf("pgoci verify with %s gone: %v\n%s\nwant pgpcre reported unable to load, naming libpcre.so.3", lib, err, out)
	}
	restore()
	pgoci(t, append([]string{"verify"}, loc...)...)
}

// osLibrary is the path the dynamic loader's cache gives for soname.
func osLibrary(t *testing.T, soname string) string {
	t.Helper()
	out := run(t, "ldconfig", "-p")
	for _, line := range strings.Split(out, "\n") {
		name, path, ok := strings.Cut(strings.TrimSpace(line), " => ")
		if ok && strings.HasPrefix(name, soname+" ") {
			return path
		}
	}
	t.Fatalf("ldconfig -p lists no %s", soname)
	return ""
}

// debPackAll packs every tree as a user would, two at a time (packing is
// CPU-bound, and CI machines have few cores), the largest first.
func debPackAll(t *testing.T, env *debEnv) {
	t.Helper()
	platform := resolve.PlatformString(resolve.HostPlatform())
	refs := map[string]string{}
	for _, name := range env.cat.names {
		refs[name] = fmt.Sprintf("%s/deb/%s:%s", env.host, name, env.cat.tag(t, name))
	}
	order := slices.Clone(env.cat.names)
	slices.SortStableFunc(order, func(a, b string) int { return boolCmp(b == "postgis-3", a == "postgis-3") })
	var mu sync.Mutex
	parallel(2, order, func(name string) {
		args := append([]string{"pack", env.cat.tree(name), refs[name], "--platform", platform}, debTarget...)
		out, err := pgociRun(args...)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("pack %s: %v", name, err)
			env.report.fail(name, "pack", out)
			return
		}
		env.report.packed++
	})
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// debInstallAll installs every package from its repository without a
// tag (the newest), the chains first, then the rest four at a time (pgoci
// serialises the commits into one location itself).
func debInstallAll(t *testing.T, env *debEnv, loc []string) {
	t.Helper()
	cache := t.TempDir()
	install := func(name string) (string, error) {
		args := append([]string{"install", env.host + "/deb/" + name, "--cache", cache}, loc...)
		return pgociRun(append(args, debDeps(env.host)...)...)
	}
	var rest []string
	for _, name := range env.cat.names {
		if _, ok := debChains[name]; !ok {
			rest = append(rest, name)
		}
	}
	for _, name := range []string{"pgrouting", "londiste-sql"} {
		out, err := install(name)
		if err != nil {
			t.Errorf("install %s: %v", name, err)
			env.report.fail(name, "install", out)
			continue
		}
		env.report.installed++
		for _, want := range debChains[name] {
			if want = strings.ReplaceAll(want, "%s", env.host); !strings.Contains(out, want) {
				t.Errorf("pgoci install %s: output lacks %q:\n%s", name, want, out)
			}
		}
	}
	var mu sync.Mutex
	parallel(4, rest, func(name string) {
		out, err := install(name)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("install %s: %v", name, err)
			env.report.fail(name, "install", out)
			return
		}
		env.report.installed++
	})
}

// listPackages is `pgoci list --json`.
func listPackages(t *testing.T, loc []string) []extension.Installed {
	t.Helper()
	var pkgs []extension.Installed
	out := pgoci(t, append([]string{"list", "--json"}, loc...)...)
	if err := json.Unmarshal([]byte(out), &pkgs); err != nil {
		t.Fatalf("pgoci list --json: %v\n%s", err, out)
	}
	return pkgs
}

// debServerConf is the servers' postgresql.conf: logical decoding with
// wal2json, room for the packages' background workers, and shared_preload_libraries from the installed packages'
// preload labels after pg_stat_statements (powa uses it, and
// pg_stat_kcache refuses to start unless it comes first).
func debServerConf(pkgs []extension.Installed) string {
	var preload []string
	for _, p := range pkgs {
		for _, lib := range p.Preload {
			if lib != "pg_stat_statements" && !slices.Contains(preload, lib) {
				preload = append(preload, lib)
			}
		}
	}
	slices.Sort(preload)
	preload = append([]string{"pg_stat_statements"}, preload...)
	// PostgreSQL 15.20 decodes only through approved output plugins.
	return fmt.Sprintf("wal_level = logical\noutput_plugin_libraries = 'pgoutput, test_decoding, wal2json'\n"+
		"max_worker_processes = 32\nshared_preload_libraries = '%s'\n", strings.Join(preload, ","))
}

// uninstallAll uninstalls every package recorded at loc, dependents before
// what they require, as a user would. leftovers says the packages are a
// killed run's, removed with --force. A plain uninstall that fails is an
// error, and is then forced: the server's directories are shared, so they
// are always restored.
func uninstallAll(t *testing.T, loc []string, leftovers bool) {
	t.Helper()
	pkgs := listPackages(t, loc)
	if leftovers && len(pkgs) > 0 {
		t.Logf("uninstalling %d packages an interrupted run left installed", len(pkgs))
	}
	for _, name := range uninstallOrder(pkgs) {
		args := append([]string{"uninstall", name}, loc...)
		if leftovers {
			args = append(args, "--force")
		}
		if _, err := pgociErr(t, args...); err != nil {
			t.Errorf("uninstall: %v", err)
			if _, err := pgociErr(t, append(args, "--force")...); err != nil {
				t.Errorf("uninstall --force: %v", err)
			}
		}
	}
	if rest := listPackages(t, loc); len(rest) > 0 {
		t.Errorf("%d packages still installed after uninstalling them all", len(rest))
	}
}

// uninstallOrder orders the packages so that none comes before a package
// requiring one of its extensions.
func uninstallOrder(pkgs []extension.Installed) []string {
	provider := map[string]string{}
	left := map[string]extension.Installed{}
	for _, p := range pkgs {
		left[p.Name] = p
		for _, e := range p.Extensions {
			provider[e.Name] = p.Name
		}
	}
	var order []string
	for len(left) > 0 {
		required := map[string]bool{}
		for _, p := range left {
			for _, e := range p.Extensions {
				for _, r := range e.Requires {
					if q := provider[r]; q != p.Name {
						required[q] = true
					}
				}
			}
		}
		var next []string
		for name := range left {
			if !required[name] {
				next = append(next, name)
			}
		}
		if len(next) == 0 { // a cycle: pgoci will say what it refuses
			for name := range left {
				next = append(next, name)
			}
		}
		slices.Sort(next)
		for _, name := range next {
			order = append(order, name)
			delete(left, name)
		}
	}
	return order
}

// checkNoDebFiles fails the test when a file of a tree is in the server's
// directories already: neither pgoci nor apt put it there in this run, and
// pgoci would refuse to overwrite it.
func checkNoDebFiles(t *testing.T, env *debEnv) {
	t.Helper()
	for _, name := range env.cat.names {
		tree := env.cat.tree(name)
		for _, line := range listing(t, filepath.Join(tree, "usr", "share", "postgresql"), filepath.Join(tree, "usr", "lib", "postgresql")) {
			path, kind, _ := strings.Cut(strings.TrimPrefix(line, tree), " ")
			if strings.HasPrefix(kind, "dir") || strings.HasSuffix(line, " missing") {
				continue
			}
			if _, err := os.Lstat(path); err == nil {
				t.Fatalf("%s (of %s) is in the server's directories before the test installed anything: a previous run or a hand install left it; remove it", path, name)
			}
		}
	}
}
