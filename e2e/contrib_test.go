//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"pgoci/layout"
	"pgoci/resolve"
)

// contribCount is how many contrib extensions (plpgsql aside) the
// @embedded-postgres tree .ci/lib/postgres.sh pins ships.
const contribCount = 59

// contribNeedBundle are the contrib extensions whose modules find a
// library of the server tree's lib/ through their RUNPATH $ORIGIN/.. and
// that the server process has not loaded already: installed elsewhere,
// they pick the system's copy (libpq 15 lacks PQcancelStart) or none
// (libossp-uuid), unless the image bundles it (pack --bundle-libs).
// The libraries go to the root's system/, which the server's
// LD_LIBRARY_PATH names: the dynamic loader remembers a directory that
// did not exist when the server started as missing for good.
var contribNeedBundle = []string{"dblink", "postgres_fdw", "uuid-ossp"}

// TestContrib: every contrib extension of the PostgreSQL 18 tree as an
// image of its own in the CloudNativePG layout. Which of them load in the
// server as shipped is measured first (CREATE EXTENSION ... CASCADE in an
// unmodified copy); then each is packed with `pgoci pack --extension`
// from the server tree, its files are taken out of the server's copy, and
// all are installed with `pgoci install --root` into one root of a
// running server started with that root's settings: every one that loads
// as shipped must load through pgoci, with no restart in between.
func TestContrib(t *testing.T) {
	host := registry(t)
	server := pg18Copy(t)
	bin := filepath.Join(server, "bin")
	tree := contribTree(t, server)
	names := contribNames(tree)
	if len(names) != contribCount {
		t.Fatalf("the PostgreSQL 18 tree has %d contrib extensions %v, want %d", len(names), names, contribCount)
	}

	shipped := startPG(t, bin)
	var asShipped, viaPGOCI map[string]string
	timed(t, "CREATE EXTENSION as shipped", func() { asShipped = createEach(t, shipped, names) })
	shipped.stop(t)

	var refs map[string]string
	timed(t, "pack", func() { refs = contribPack(t, host, server, tree) })
	contribRemove(t, tree)
	// As a user would: the settings first, then the server, then installs.
	root := newRoot(t)
	checkSettings(t, root)
	pg := startPG(t, bin, root)
	if n := pg.query(t, "SELECT count(*) FROM pg_available_extensions WHERE name <> 'plpgsql'"); n != "0" {
		t.Fatalf("the server still offers %s contrib extensions after their files were taken out", n)
	}
	started := pg.query(t, "SELECT pg_postmaster_start_time(), pg_conf_load_time()")
	timed(t, "install", func() { contribInstall(t, refs, root, pg.target(t), asShipped) })
	timed(t, "CREATE EXTENSION through pgoci", func() { viaPGOCI = createEach(t, pg, names) })
	if now := pg.query(t, "SELECT pg_postmaster_start_time(), pg_conf_load_time()"); now != started {
		t.Errorf("server restarted or reloaded: start and conf load time %q, then %q", started, now)
	}
	contribCompare(t, names, asShipped, viaPGOCI)
}

// contribTree discovers the server tree's contrib extensions (every
// control file but plpgsql's, which the server itself needs), with the
// files each uses mapped, as pgoci pack --extension selects them.
func contribTree(t *testing.T, server string) *layout.Tree {
	t.Helper()
	all, err := layout.Discover(context.Background(), server, layout.Options{})
	if err != nil {
		t.Fatalf("discover %s: %v", server, err)
	}
	var names []string
	for _, e := range all.Extensions {
		if e.Name != "plpgsql" {
			names = append(names, e.Name)
		}
	}
	tree, err := layout.Discover(context.Background(), server, layout.Options{Extensions: names})
	if err != nil {
		t.Fatalf("discover %s: %v", server, err)
	}
	return tree
}

func contribNames(tree *layout.Tree) []string {
	var names []string
	for _, e := range tree.Extensions {
		names = append(names, e.Name)
	}
	return names
}

// packKnowsBundleLibs reports whether pgoci pack offers --bundle-libs,
// which packs the libraries of a server tree's lib/ that a module needs.
func packKnowsBundleLibs(t *testing.T) bool {
	t.Helper()
	out, _ := pgociErr(t, "help", "pack")
	return strings.Contains(out, "--bundle-libs")
}

// contribPack packs each extension from the server tree with the CLI, two
// at a time, and returns the references to install by name.
func contribPack(t *testing.T, host, server string, tree *layout.Tree) map[string]string {
	t.Helper()
	flags := []string{"--pg-major", "18", "--platform", resolve.PlatformString(resolve.HostPlatform()),
		"--libc", pg18Build.Libc.Family + "-" + pg18Build.Libc.Version,
		"--distro", pg18Build.Distro.ID + "-" + pg18Build.Distro.Version}
	if packKnowsBundleLibs(t) {
		flags = append(flags, "--bundle-libs", "--lib-path", filepath.Join(server, "lib"))
	} else {
		t.Logf("pgoci pack has no --bundle-libs: %v will not find the tree's libraries once installed", contribNeedBundle)
	}
	refs := map[string]string{}
	var mu sync.Mutex
	parallel(2, contribNames(tree), func(name string) {
		ref := fmt.Sprintf("%s/contrib/%s:%s", host, name, tree.Extension(name).Control.DefaultVersion)
		_, err := pgociRun(append([]string{"pack", server, ref, "--extension", name}, flags...)...)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("pack %s: %v", name, err)
			return
		}
		refs[name] = ref
	})
	return refs
}

// contribRemove takes out of the server's copy every file the images
// carry: the extensions' control files and scripts, the modules they use
// (plperl.so serves plperl and plperlu) and their bitcode, so that only
// the install root can provide them.
func contribRemove(t *testing.T, tree *layout.Tree) {
	t.Helper()
	for _, f := range tree.Files {
		if f.Target == "" || f.Kind == layout.FileLicense {
			continue
		}
		if err := os.Remove(filepath.Join(tree.Root, filepath.FromSlash(f.Path))); err != nil {
			t.Fatal(err)
		}
	}
}

// checkSettings: `pgoci settings --root` prints the lines the server is
// started with (startPG derives them from the same root). A user runs it
// before starting the server: the place to prepare the root for it.
func checkSettings(t *testing.T, root string) {
	t.Helper()
	runs, err := layout.PathSettings([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := runs.PostgresqlConf() + "# in the server's environment: LD_LIBRARY_PATH=" + runs.LDLibraryPath + "\n"
	if got := pgoci(t, "settings", "--root", root); got != want {
		t.Errorf("pgoci settings --root %s printed\n%s\nthe server runs with\n%s", root, got, want)
	}
}

// contribInstall installs every image into root, four at a time (pgoci
// serialises the commits itself); a dependency (cube for earthdistance)
// comes from the repository of the same name next to the image. An
// extension that does not load as shipped (asShipped holds why) must be
// refused by the link check, itself or through the extension it requires:
// installed, it would be a module that cannot load, installed without a
// word. Every other install must succeed.
func contribInstall(t *testing.T, refs map[string]string, root string, target resolve.Target, asShipped map[string]string) {
	t.Helper()
	cache := t.TempDir()
	flags := []string{"--root", root, "--cache", cache, "--pg-major", "18", "--libc", target.Libc.Family + "-" + target.Libc.Version}
	var mu sync.Mutex
	var refused []string
	parallel(4, slices.Sorted(maps.Keys(refs)), func(name string) {
		out, err := pgociRun(append([]string{"install", refs[name]}, flags...)...)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case asShipped[name] == "" && err != nil:
			t.Errorf("install %s: %v", name, err)
		case asShipped[name] != "" && err == nil:
			t.Errorf("%s was installed, but it does not load as shipped (%s): the link check let it through", name, asShipped[name])
		case asShipped[name] != "" && !strings.Contains(out, "linkage: "):
			t.Errorf("install %s failed for another reason than its modules' links: %v", name, err)
		case err != nil:
			refused = append(refused, name)
		}
	})
	slices.Sort(refused)
	t.Logf("refused at install, as they do not load as shipped either: %d %v", len(refused), refused)
}

// contribCompare fails the test for each extension that loads as shipped
// but not through pgoci, and logs the outcome of every one.
func contribCompare(t *testing.T, names []string, asShipped, viaPGOCI map[string]string) {
	t.Helper()
	bundle := packKnowsBundleLibs(t)
	var rows, errs []string
	shippedN, pgociN := 0, 0
	for _, name := range names {
		s, p := asShipped[name], viaPGOCI[name]
		rows = append(rows, fmt.Sprintf("%-20s shipped: %-6s pgoci: %s", name, loadWord(s), loadWord(p)))
		if s == "" {
			shippedN++
		} else {
			errs = append(errs, name+" as shipped: "+s)
		}
		if p == "" {
			pgociN++
		} else {
			errs = append(errs, name+" through pgoci: "+p)
		}
		if s != "" || p == "" {
			continue
		}
		if !bundle && slices.Contains(contribNeedBundle, name) {
			t.Errorf("%s loads as shipped but not through pgoci: needs pack --bundle-libs, which pgoci pack lacks: %s", name, p)
			continue
		}
		t.Errorf("%s loads as shipped but not through pgoci: %s", name, p)
	}
	t.Logf("contrib: %d extensions, %d load as shipped, %d through pgoci\n%s\n\n%s",
		len(names), shippedN, pgociN, strings.Join(rows, "\n"), strings.Join(errs, "\n"))
}

func loadWord(outcome string) string {
	if outcome == "" {
		return "loads"
	}
	return "fails"
}
