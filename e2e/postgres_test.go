//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/labels"
	"pgoci/layout"
	"pgoci/resolve"
)

// The environment the @embedded-postgres binaries were built in (the
// version() string names the compiler; objdump -T shows GLIBC_2.27 as the
// newest symbol version the server and its modules need).
var pg18Build = labels.Metadata{
	Libc:     labels.Libc{Family: "glibc", Version: "2.27"},
	Distro:   labels.Distro{ID: "ubuntu", Version: "18.04"},
	Compiler: "gcc 7.5.0",
}

// TestPG18Starts: the PostgreSQL 18 server copied from the npm package
// starts as the unprivileged user and reports major 18.
func TestPG18Starts(t *testing.T) {
	server := pg18Copy(t)
	pg := startPG(t, filepath.Join(server, "bin"))
	if v := pg.query(t, "SELECT version()"); !strings.HasPrefix(v, "PostgreSQL 18.") {
		t.Errorf("version() = %q, want PostgreSQL 18.x", v)
	}
	if n := pg.query(t, "SHOW server_version_num"); !strings.HasPrefix(n, "18") || len(n) != 6 {
		t.Errorf("server_version_num = %q, want 18xxxx", n)
	}
}

// TestContribMovedOut: once the contrib files are moved out of the server
// tree, the server cannot create those extensions without an install root,
// while the contrib extensions left behind still work.
func TestContribMovedOut(t *testing.T) {
	server := pg18Copy(t)
	trees := extractContrib(t, server, sharedTempDir(t), "hstore", "cube", "earthdistance", "pg_trgm")
	for name, tree := range trees {
		for _, f := range []string{"share/extension/" + name + ".control", "lib/" + name + ".so"} {
			if _, err := os.Stat(filepath.Join(tree, f)); err != nil {
				t.Errorf("extracted %s: %v", name, err)
			}
		}
	}
	cached := filepath.Join(pgEnv(t, "PGOCI_E2E_PG18"), pg18ExtensionDir, "hstore.control")
	if _, err := os.Stat(cached); err != nil {
		t.Errorf("the cached server tree lost a file: %v", err)
	}

	pg := startPG(t, filepath.Join(server, "bin"))
	out, err := pg.exec("CREATE EXTENSION hstore")
	if err == nil || !strings.Contains(out, `"hstore"`) {
		t.Errorf("CREATE EXTENSION hstore: err %v, output %q; want the extension reported missing", err, out)
	}
	pg.query(t, "CREATE EXTENSION btree_gin") // still in the server tree
}

// TestDynamicLoadFromRoot: cube and earthdistance, packed from the server
// tree and pushed to the real registry, become loadable by a running
// PostgreSQL 18 once their files appear in an install root its
// extension_control_path and dynamic_library_path name: no restart, no
// reload.
func TestDynamicLoadFromRoot(t *testing.T) {
	host := registry(t)
	server := pg18Copy(t)
	trees := extractContrib(t, server, sharedTempDir(t), "cube", "earthdistance")
	root := filepath.Join(sharedTempDir(t), "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	pg := startPG(t, filepath.Join(server, "bin"), root)
	if _, err := pg.exec("CREATE EXTENSION cube"); err == nil {
		t.Fatal("CREATE EXTENSION cube succeeded before the install: the server tree still has it")
	}
	versionNum, err := strconv.Atoi(pg.query(t, "SHOW server_version_num"))
	if err != nil {
		t.Fatal(err)
	}
	started := pg.query(t, "SELECT pg_postmaster_start_time(), pg_conf_load_time()")

	build := pg18Build
	build.PG = labels.PG{Major: 18, VersionNum: versionNum}
	for _, name := range []string{"cube", "earthdistance"} {
		repo, tag := pushContrib(t, host+"/pg18/"+name, trees[name], build)
		installByHand(t, repo, tag, name, root)
	}

	pg.query(t, "CREATE EXTENSION earthdistance CASCADE")
	// One degree of the equator on earthdistance's sphere of radius
	// 6378168 m: 6378168 * pi / 180 = 111320.03 m.
	if d := pg.query(t, "SELECT round(earth_distance(ll_to_earth(0,0), ll_to_earth(0,1)))"); d != "111320" {
		t.Errorf("earth_distance of one degree on the equator = %s m, want 111320", d)
	}
	// The '$libdir/' rewrite: the functions name the module without a
	// directory, so dynamic_library_path finds it in the root.
	if p := pg.query(t, "SELECT DISTINCT probin FROM pg_proc WHERE probin IS NOT NULL AND pronamespace = 'public'::regnamespace ORDER BY 1"); p != "cube\nearthdistance" {
		t.Errorf("modules of the installed functions = %q, want cube and earthdistance", p)
	}
	if now := pg.query(t, "SELECT pg_postmaster_start_time(), pg_conf_load_time()"); now != started {
		t.Errorf("server restarted or reloaded: start and conf load time %q, then %q", started, now)
	}
}

// pushContrib packs one extracted contrib tree for PostgreSQL 18 on the
// host platform and pushes it, in an index tagged with its version, to the
// repository ref.
func pushContrib(t *testing.T, ref, tree string, build labels.Metadata) (*remote.Repository, string) {
	t.Helper()
	ctx := context.Background()
	repo, err := remote.NewRepository(ref)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	img, err := extension.Pack(ctx, repo, tree, extension.Build{Platform: resolve.HostPlatform(), Metadata: build}, extension.PackOptions{})
	if err != nil {
		t.Fatalf("pack %s: %v", tree, err)
	}
	tag := img.Metadata.Package.Version
	if _, err := extension.PushIndex(ctx, repo, []extension.Image{img}, tag); err != nil {
		t.Fatalf("push %s:%s: %v", ref, tag, err)
	}
	return repo, tag
}

// TestPG15Starts: Debian's postgresql-15 server starts as the unprivileged
// user, its pg_config says major 15, and the extracted Debian extension
// package is a tree Discover reads for PostgreSQL 15.
func TestPG15Starts(t *testing.T) {
	ctx := context.Background()
	pgc := pgEnv(t, "PGOCI_E2E_PG15_PGCONFIG")
	cfg, err := resolve.ReadPGConfig(ctx, pgc)
	if err != nil {
		t.Fatalf("%v: run the suite with bash .ci/e2e.sh", err)
	}
	if cfg.PG.Major != 15 {
		t.Errorf("%s: major %d, want 15", pgc, cfg.PG.Major)
	}
	pg := startPG(t, cfg.BinDir)
	if v := pg.query(t, "SELECT current_setting('server_version_num')::int / 10000"); v != "15" {
		t.Errorf("server major = %s, want 15", v)
	}

	deb := pgEnv(t, "PGOCI_E2E_PG15_EXTDEB")
	tree, err := layout.Discover(ctx, deb, layout.Options{})
	if err != nil {
		t.Fatalf("discover %s: %v: run the suite with bash .ci/e2e.sh", deb, err)
	}
	if tree.PGMajor != 15 || len(tree.Extensions) == 0 || len(tree.Modules) == 0 {
		t.Errorf("%s: major %d, extensions %v, modules %v; want major 15 with an extension and a module",
			deb, tree.PGMajor, tree.Extensions, tree.Modules)
	}
	for _, ext := range tree.Extensions {
		// Not installed yet: the server does not know the extension.
		if n := pg.query(t, "SELECT count(*) FROM pg_available_extensions WHERE name = '"+ext.Name+"'"); n != "0" {
			t.Errorf("extension %s is already available to the server", ext.Name)
		}
	}
}
