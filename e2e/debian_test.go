//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"pgoci/resolve"
)

// TestDebian: pgoci on the real ecosystem. Every postgresql-15-* package
// of the machine's Debian release (fetched by .ci/lib/debian.sh, -doc left
// out, X-scripts merged into X) is packed as it ships with `pgoci pack`,
// pushed to the real registry and installed with `pgoci install
// --pg-config` into Debian's own PostgreSQL 15; every extension the
// packages bring is created in a server with wal_level=logical and the
// shared_preload_libraries the packages' labels ask for; then the
// functional checks run and everything is uninstalled. The same packages
// are then installed with apt-get, the same extensions created in the same
// way, and purged. Each phase must leave the server's directories as it
// found them, and every extension that loads through apt must load
// through pgoci. The outcome is printed as a table, and written in
// Markdown to $PGOCI_E2E_REPORT when that is set.
func TestDebian(t *testing.T) {
	env := newDebEnv(t)
	purgeAptLeftovers(t, env)
	t.Run("pgoci", func(t *testing.T) { debPGOCIPhase(t, env) })
	if env.conf == "" {
		t.Fatal("the pgoci phase did not get as far as starting its server: no apt phase to compare with")
	}
	t.Run("apt", func(t *testing.T) { debAptPhase(t, env) })
	env.report.compare(t)
	env.report.write(t)
}

// debEnv is what both phases share.
type debEnv struct {
	host       string // the registry
	cat        *debCatalogue
	pgConfig   string
	cfg        resolve.PGConfig
	serverDirs []string // the server's share and lib trees (lib holds bin)
	extDir     string   // the server's sharedir/extension
	// conf is the postgresql.conf of both phases' servers, set by the
	// pgoci phase (its shared_preload_libraries come from the installed
	// packages' labels).
	conf   string
	report *debReport
}

func newDebEnv(t *testing.T) *debEnv {
	t.Helper()
	env := &debEnv{host: registry(t), cat: loadDebCatalogue(t), pgConfig: pgEnv(t, "PGOCI_E2E_PG15_PGCONFIG")}
	cfg, err := resolve.ReadPGConfig(context.Background(), env.pgConfig)
	if err != nil {
		t.Fatalf("%v: run the suite with bash .ci/e2e.sh", err)
	}
	if cfg.PG.Major != debPGMajor {
		t.Fatalf("%s is PostgreSQL %d, want %d", env.pgConfig, cfg.PG.Major, debPGMajor)
	}
	env.cfg = cfg
	// Debian: /usr/share/postgresql/15 and /usr/lib/postgresql/15, which
	// holds the pkglibdir (lib) and the bindir (bin).
	env.serverDirs = []string{cfg.ShareDir, filepath.Dir(cfg.PkgLibDir)}
	if filepath.Dir(cfg.BinDir) != filepath.Dir(cfg.PkgLibDir) {
		env.serverDirs = append(env.serverDirs, cfg.BinDir)
	}
	env.extDir = filepath.Join(cfg.ShareDir, "extension")
	env.report = &debReport{tried: len(env.cat.names), debs: len(env.cat.versions)}
	return env
}

const debPGMajor = 15

// debCatalogue is the set .ci/lib/debian.sh fetched, under
// $PGOCI_E2E_DEBIAN/set: debs/*.deb, trees/<name> (one per package, named
// without the postgresql-15- prefix) and versions ("package version").
type debCatalogue struct {
	dir      string   // $PGOCI_E2E_DEBIAN: the set, and the test's state beside it
	names    []string // the trees, sorted
	debs     []string // the .deb files
	versions map[string]string
}

func loadDebCatalogue(t *testing.T) *debCatalogue {
	t.Helper()
	c := &debCatalogue{dir: pgEnv(t, "PGOCI_E2E_DEBIAN"), versions: map[string]string{}}
	set := filepath.Join(c.dir, "set")
	if _, err := os.Stat(filepath.Join(set, ".complete")); err != nil {
		t.Fatalf("Debian package set: %v: run the suite with bash .ci/e2e.sh", err)
	}
	f, err := os.Open(filepath.Join(set, "versions"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if pkg, version, ok := strings.Cut(sc.Text(), " "); ok {
			c.versions[pkg] = version
		}
	}
	entries, err := os.ReadDir(filepath.Join(set, "trees"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		c.names = append(c.names, e.Name())
	}
	if c.debs, err = filepath.Glob(filepath.Join(set, "debs", "*.deb")); err != nil {
		t.Fatal(err)
	}
	sort.Strings(c.names)
	// At least the packages the functional checks use, and then some.
	if len(c.names) < 20 || len(c.debs) != len(c.versions) {
		t.Fatalf("%s: %d trees, %d .debs, %d versions: run the suite with bash .ci/e2e.sh", set, len(c.names), len(c.debs), len(c.versions))
	}
	return c
}

func (c *debCatalogue) tree(name string) string {
	return filepath.Join(c.dir, "set", "trees", name)
}

// packages are the Debian package names, sorted.
func (c *debCatalogue) packages() []string {
	var pkgs []string
	for p := range c.versions {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	return pkgs
}

// tag is the image tag of tree name: the Debian version of its package,
// in the characters a tag allows ("1:1.5-1+b1" -> "1-1.5-1_b1").
func (c *debCatalogue) tag(t *testing.T, name string) string {
	t.Helper()
	pkg := fmt.Sprintf("postgresql-%d-%s", debPGMajor, name)
	v, ok := c.versions[pkg]
	if !ok {
		t.Fatalf("no version recorded for %s", pkg)
	}
	return strings.NewReplacer("+", "_", ":", "-", "~", "_").Replace(v)
}
