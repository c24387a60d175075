package extension

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/internal/elftest"
	"pgoci/labels"
	"pgoci/linkage"
)

// fakeServer writes a stand-in for bin/postgres: an ELF object exporting
// the server functions the test modules call.
func fakeServer(t *testing.T, defines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "postgres")
	writeFiles(t, filepath.Dir(p), map[string]string{"postgres": elfFile(t, elftest.Spec{Defines: defines})})
	return p
}

// linkExt is an extension package whose module needs and calls what spec
// says.
func linkExt(t *testing.T, name string, spec elftest.Spec, requires ...string) map[string]string {
	t.Helper()
	files := instFiles(instExt{name: name, version: "1.0", requires: requires})
	spec.Comment = name
	files["lib/"+name+".so"] = elfFile(t, spec)
	return files
}

// TestInstallLinkCheck: before anything changes, every module is checked
// the way the loader will load it into the server; one that cannot load
// is refused with the *linkage.LoadError naming the module, the missing
// library or symbol and where it was looked for, and the root is left as
// it was. SkipLinkCheck installs anyway and reports the findings.
func TestInstallLinkCheck(t *testing.T) {
	srv := instRegistry(t)
	server := fakeServer(t, "SPI_connect", "palloc")
	instPush(t, srv, "ext/nolib", "1.0", "nolib", 18, linkExt(t, "nolib", elftest.Spec{Needed: []string{"libnotthere.so.9"}}))
	instPush(t, srv, "ext/nosym", "1.0", "nosym", 18, linkExt(t, "nosym", elftest.Spec{Undefined: []string{"SPI_connect", "PQcancelStart"}}))
	instPush(t, srv, "ext/good", "1.0", "good", 18, linkExt(t, "good", elftest.Spec{Undefined: []string{"SPI_connect", "palloc"}}))
	for _, tc := range []struct {
		name, ref, want string
	}{
		{"missing library", "ext/nolib:1.0", "libnotthere.so.9"},
		{"missing symbol", "ext/nosym:1.0", "PQcancelStart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			opts := instOptions(t, root)
			opts.Postgres = server
			before := instSnapshot(t, root)
			_, err := installAt(context.Background(), srv.Host()+"/"+tc.ref, instTarget(18), opts)
			var le *linkage.LoadError
			module := strings.TrimSuffix(strings.TrimPrefix(tc.ref, "ext/"), ":1.0") + ".so"
			if !errors.As(err, &le) || !errors.Is(err, linkage.ErrCannotLoad) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), module) {
				t.Fatalf("error %v, want a *linkage.LoadError naming %s and %s", err, module, tc.want)
			}
			if diff := cmp.Diff(before, instSnapshot(t, root, ".pgoci")); diff != "" {
				t.Errorf("a refused install changed the root (-before +after):\n%s", diff)
			}
			res, err := installAt(context.Background(), srv.Host()+"/"+tc.ref, instTarget(18), opts, InstallOptions{SkipLinkCheck: true})
			if err != nil {
				t.Fatal(err)
			}
			if f := res.Packages[0].Findings; len(f) == 0 || !strings.Contains(f[0].String(), tc.want) {
				t.Errorf("SkipLinkCheck findings %v, want one naming %s", f, tc.want)
			}
		})
	}
	t.Run("loads", func(t *testing.T) {
		opts := instOptions(t, t.TempDir())
		opts.Postgres = server
		res, err := installAt(context.Background(), srv.Host()+"/ext/good:1.0", instTarget(18), opts)
		if err != nil || len(res.Packages[0].Findings) != 0 {
			t.Errorf("good: %v, findings %v", err, res.Packages)
		}
	})
	t.Run("bundled library through its soname link", func(t *testing.T) {
		// Bundled libraries are installed as their file and the links the
		// loader looks for (pack --bundle-libs): the check must see the
		// staged links, as the loader will once they are committed.
		files := linkExt(t, "bund", elftest.Spec{Needed: []string{"libbund.so.1"}, Undefined: []string{"palloc"}})
		files["system/libbund.so.1.2"] = elfFile(t, elftest.Spec{Soname: "libbund.so.1", Comment: "libbund"})
		instPushLinks(t, srv, "ext/bund", "1.0", "bund", 18, files, map[string]string{"system/libbund.so.1": "libbund.so.1.2"})
		opts := instOptions(t, t.TempDir())
		opts.Postgres = server
		res, err := installAt(context.Background(), srv.Host()+"/ext/bund:1.0", instTarget(18), opts)
		if err != nil || len(res.Packages[0].Findings) != 0 {
			t.Errorf("bund: %v, findings %v", err, res)
		}
	})
	t.Run("server unknown", func(t *testing.T) {
		// Without the server executable, the server's symbols cannot be
		// checked: reported, never passed silently, never a refusal.
		res, err := installAt(context.Background(), srv.Host()+"/ext/good:1.0", instTarget(18), instOptions(t, t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		var unchecked []string
		for _, f := range res.Packages[0].Findings {
			if f.Kind == linkage.Unchecked {
				unchecked = append(unchecked, f.Symbol)
			}
		}
		if !cmp.Equal(unchecked, []string{"SPI_connect", "palloc"}) {
			t.Errorf("unchecked symbols %v, want SPI_connect and palloc", res.Packages[0].Findings)
		}
	})
}

// TestInstallLinkCheckRequiredModules: PostgreSQL loads modules with
// RTLD_GLOBAL, so a symbol the module of a required extension defines
// counts as defined (a transform calling into its language's module); the
// same module in a package that does not require it is refused.
func TestInstallLinkCheckRequiredModules(t *testing.T) {
	srv := instRegistry(t)
	server := fakeServer(t, "palloc")
	instPush(t, srv, "ext/lang", "1.0", "lang", 18, linkExt(t, "lang", elftest.Spec{Defines: []string{"lang_call"}}))
	instPush(t, srv, "ext/transform", "1.0", "transform", 18, linkExt(t, "transform", elftest.Spec{Undefined: []string{"lang_call"}}, "lang"))
	instPush(t, srv, "ext/orphan", "1.0", "orphan", 18, linkExt(t, "orphan", elftest.Spec{Undefined: []string{"lang_call"}}))
	opts := instOptions(t, t.TempDir())
	opts.Postgres = server
	if _, err := installAt(context.Background(), srv.Host()+"/ext/transform:1.0", instTarget(18), opts); err != nil {
		t.Errorf("transform requiring lang: %v", err)
	}
	_, err := installAt(context.Background(), srv.Host()+"/ext/orphan:1.0", instTarget(18), opts)
	if !errors.Is(err, linkage.ErrCannotLoad) || !strings.Contains(err.Error(), "lang_call") {
		t.Errorf("orphan without the requirement: %v, want lang_call reported missing", err)
	}
}

// TestInstallLinkCheckBundled: a module whose library travels in the
// image's system/ (pack --bundle-libs) loads from the root, where the
// settings put <root>/system on LD_LIBRARY_PATH; in PostgreSQL 17 mode
// such an image is refused before the check (no place for system/).
func TestInstallLinkCheckBundled(t *testing.T) {
	srv := instRegistry(t)
	files := linkExt(t, "dbl", elftest.Spec{Needed: []string{"libdbl.so.5"}, Undefined: []string{"dbl_connect"}})
	files["system/libdbl.so.5"] = elfFile(t, elftest.Spec{Soname: "libdbl.so.5", Defines: []string{"dbl_connect"}})
	instPushPkg(t, srv, "ext/dbl", "1.0", labels.Package{Name: "dbl"}, 18, files, nil)
	opts := instOptions(t, t.TempDir())
	opts.Postgres = fakeServer(t)
	if _, err := installAt(context.Background(), srv.Host()+"/ext/dbl:1.0", instTarget(18), opts); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyLinkDrift: a library a module needs, removed after install,
// is reported by Verify as a module that no longer loads.
func TestVerifyLinkDrift(t *testing.T) {
	srv := instRegistry(t)
	libDir := t.TempDir()
	writeFiles(t, libDir, map[string]string{"libext.so.1": elfFile(t, elftest.Spec{Soname: "libext.so.1"})})
	instPush(t, srv, "ext/uses", "1.0", "uses", 18, linkExt(t, "uses", elftest.Spec{Needed: []string{"libext.so.1"}}))
	root := t.TempDir()
	opts := instOptions(t, root)
	opts.LibraryPath = []string{libDir}
	if _, err := installAt(context.Background(), srv.Host()+"/ext/uses:1.0", instTarget(18), opts); err != nil {
		t.Fatal(err)
	}
	list := RootOptions{Root: root, LibraryPath: []string{libDir}}
	if drift, err := verifyAt(context.Background(), list); err != nil || len(drift) != 0 {
		t.Fatalf("Verify after install: %v %+v", err, drift)
	}
	if err := os.Remove(filepath.Join(libDir, "libext.so.1")); err != nil {
		t.Fatal(err)
	}
	drift, err := verifyAt(context.Background(), list)
	if err != nil || len(drift) != 1 || drift[0].Problem != DriftCannotLoad || !strings.Contains(drift[0].Detail, "libext.so.1") {
		t.Errorf("Verify after removing libext.so.1: %v %+v, want one %q drift naming it", err, drift, DriftCannotLoad)
	}
}
