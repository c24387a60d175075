//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/internal/elftest"
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
// PostgreSQL 18 once extension.Install (the SDK) puts them in an install
// root its extension_control_path and dynamic_library_path name: no
// restart, no reload. Installing earthdistance pulls cube from the
// repository next to it.
func TestDynamicLoadFromRoot(t *testing.T) {
	host := registry(t)
	server := pg18Copy(t)
	trees := extractContrib(t, server, sharedTempDir(t), "cube", "earthdistance")
	root := newRoot(t)
	pg := startPG(t, filepath.Join(server, "bin"), root)
	if _, err := pg.exec("CREATE EXTENSION cube"); err == nil {
		t.Fatal("CREATE EXTENSION cube succeeded before the install: the server tree still has it")
	}
	target := pg.target(t)
	started := pg.query(t, "SELECT pg_postmaster_start_time(), pg_conf_load_time()")

	build := pg18Build
	build.PG = target.PG
	tags := map[string]string{}
	for _, name := range []string{"cube", "earthdistance"} {
		_, tags[name] = pushContrib(t, host+"/pg18/"+name, trees[name], build)
	}
	ctx := context.Background()
	rt := openRoot(t, extension.RootOptions{Root: root, CacheDir: t.TempDir(), Target: target})
	res, err := rt.Install(ctx, host+"/pg18/earthdistance:"+tags["earthdistance"], extension.InstallOptions{})
	if err != nil {
		t.Fatalf("install earthdistance: %v", err)
	}
	var got []string
	for _, p := range res.Packages {
		got = append(got, fmt.Sprintf("%s %s dependency=%v", p.Name, p.Action, p.Dependency))
	}
	if want := []string{"cube installed dependency=true", "earthdistance installed dependency=false"}; !slices.Equal(got, want) {
		t.Errorf("installed %q, want %q", got, want)
	}
	if want, _ := layout.PathSettings([]string{root}); res.Settings.PostgresqlConf() != want.PostgresqlConf() {
		t.Errorf("settings %q, want the ones the server runs with, %q", res.Settings.PostgresqlConf(), want.PostgresqlConf())
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
	drift, err := rt.Verify(ctx)
	if err != nil || len(drift) != 0 {
		t.Errorf("verify: %v, drift %+v", err, drift)
	}
}

// newRoot is an empty install root the PostgreSQL user can read.
func newRoot(t *testing.T) string {
	t.Helper()
	root := filepath.Join(sharedTempDir(t), "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// target describes the running server for resolve: its major and
// version_num, this machine's platform and C library (the server runs
// here).
func (s *pgServer) target(t *testing.T) resolve.Target {
	t.Helper()
	versionNum, err := strconv.Atoi(s.query(t, "SHOW server_version_num"))
	if err != nil {
		t.Fatal(err)
	}
	return resolve.Target{
		PG:       labels.PG{Major: versionNum / 10000, VersionNum: versionNum},
		Platform: resolve.HostPlatform(),
		Libc:     hostLibc(t),
	}
}

// hostLibc is this machine's C library, from getconf.
func hostLibc(t *testing.T) labels.Libc {
	t.Helper()
	out, err := exec.Command("getconf", "GNU_LIBC_VERSION").Output()
	if err != nil {
		t.Fatalf("getconf GNU_LIBC_VERSION: %v", err)
	}
	libc, ok := resolve.ParseLibc(string(out))
	if !ok {
		t.Fatalf("getconf GNU_LIBC_VERSION said %q", out)
	}
	return libc
}

// pushContrib packs one extracted contrib tree for PostgreSQL 18 on the
// host platform and pushes it, in an index tagged with its version, to the
// repository ref.
func pushContrib(t *testing.T, ref, tree string, build labels.Metadata) (extension.Image, string) {
	t.Helper()
	imgs := pushVariants(t, ref, tree, []extension.Build{{Platform: resolve.HostPlatform(), Metadata: build}}, extension.Zstd)
	return imgs[0], imgs[0].Metadata.Package.Version
}

// pushVariants packs tree once per build and pushes the images in one
// index tagged with the package version.
func pushVariants(t *testing.T, ref, tree string, builds []extension.Build, c extension.Compression) []extension.Image {
	t.Helper()
	ctx := context.Background()
	repo, err := remote.NewRepository(ref)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	var imgs []extension.Image
	for _, b := range builds {
		dir := tree
		if b.Platform.Architecture != resolve.HostPlatform().Architecture {
			dir = standInTree(t, tree, b.Platform.Architecture)
		}
		img, err := extension.Pack(ctx, repo, dir, b, extension.PackOptions{Compression: c})
		if err != nil {
			t.Fatalf("pack %s for %s: %v", tree, resolve.PlatformString(b.Platform), err)
		}
		imgs = append(imgs, img)
	}
	tag := imgs[0].Metadata.Package.Version
	if _, err := extension.PushIndex(ctx, repo, imgs, tag); err != nil {
		t.Fatalf("push %s:%s: %v", ref, tag, err)
	}
	return imgs
}

// openRoot opens an install location, failing the test on an error.
func openRoot(t *testing.T, opts extension.RootOptions) *extension.Root {
	t.Helper()
	r, err := extension.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open %s%s: %v", opts.Root, opts.PGConfig, err)
	}
	return r
}

// standInTree copies tree with every shared object replaced by an empty
// ELF object for arch that defines the same Magic_block entry point: what
// a build of the package for another architecture looks like to pack's
// platform check, so that an index can hold a variant no server here may
// load.
func standInTree(t *testing.T, tree, arch string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(tree))
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(tree, p)
		dst := filepath.Join(out, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".so") || strings.Contains(filepath.Base(p), ".so.") {
			if b, err = elftest.Build(elftest.Spec{Arch: arch, Defines: []string{"Pg_magic_func"}, Comment: rel}); err != nil {
				return err
			}
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatalf("stand-in %s tree of %s: %v", arch, tree, err)
	}
	return out
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
