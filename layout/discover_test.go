package layout

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeTree creates files (path -> content; content "->target" makes a
// symbolic link) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, full)
		} else {
			err = os.WriteFile(full, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const cubeControl = "comment = 'data type for multidimensional cubes'\ndefault_version = '1.5'\nmodule_pathname = '$libdir/cube'\nrelocatable = true\ntrusted = true\n"

func TestDiscoverShapes(t *testing.T) {
	tests := []struct {
		name               string
		share, lib         string
		kind               Kind
		major              int
		wantShare, wantLib string
	}{
		{"debian", "usr/share/postgresql/18", "usr/lib/postgresql/18/lib", KindDESTDIR, 18, "usr/share/postgresql/18", "usr/lib/postgresql/18/lib"},
		{"pgsql prefix", "usr/local/pgsql/share", "usr/local/pgsql/lib", KindDESTDIR, 0, "usr/local/pgsql/share", "usr/local/pgsql/lib"},
		{"plain pg_config", "opt/x/share/postgresql", "opt/x/lib/postgresql", KindDESTDIR, 0, "opt/x/share/postgresql", "opt/x/lib/postgresql"},
		{"pgdg rpm", "usr/pgsql-17/share", "usr/pgsql-17/lib", KindDESTDIR, 17, "usr/pgsql-17/share", "usr/pgsql-17/lib"},
		{"empty prefix", "share/postgresql", "lib/postgresql", KindDESTDIR, 0, "share/postgresql", "lib/postgresql"},
		{"layout root", "share", "lib", KindLayout, 0, "share", "lib"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, map[string]string{
				tt.share + "/extension/cube.control":       cubeControl,
				tt.share + "/extension/cube--1.5.sql":      "CREATE FUNCTION cube_in(cstring) RETURNS cube AS 'MODULE_PATHNAME' LANGUAGE C;",
				tt.share + "/extension/cube--1.4--1.5.sql": "ALTER FUNCTION cube_in(cstring) PARALLEL SAFE;",
				tt.lib + "/cube.so":                        "not really",
				tt.lib + "/bitcode/cube/cubeparse.bc":      "bc",
			})
			tree, err := Discover(context.Background(), root, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tree.Kind != tt.kind || tree.PGMajor != tt.major || tree.ShareDir != tt.wantShare || tree.LibDir != tt.wantLib {
				t.Errorf("got kind %v major %d share %q lib %q", tree.Kind, tree.PGMajor, tree.ShareDir, tree.LibDir)
			}
			entries, err := tree.Entries(context.Background(), MapOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, e := range entries {
				paths = append(paths, e.Path)
			}
			want := []string{"lib", "lib/bitcode", "lib/bitcode/cube", "lib/bitcode/cube/cubeparse.bc", "lib/cube.so",
				"share", "share/extension", "share/extension/cube--1.4--1.5.sql", "share/extension/cube--1.5.sql", "share/extension/cube.control"}
			if diff := cmp.Diff(want, paths); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			e := tree.Extension("cube")
			if e == nil || e.Control.DefaultVersion != "1.5" || !cmp.Equal(e.Versions, []string{"1.5"}) ||
				!cmp.Equal(e.Upgrades, []Upgrade{{From: "1.4", To: "1.5", Path: tt.share + "/extension/cube--1.4--1.5.sql"}}) ||
				!cmp.Equal(e.Modules, []string{"cube"}) {
				t.Errorf("extension cube: %+v", e)
			}
		})
	}
}

func TestDiscoverDemo(t *testing.T) {
	tree, err := Discover(context.Background(), "testdata/demo", Options{Package: "pgoci_demo", Preload: []string{"demo"}})
	if err != nil {
		t.Fatal(err)
	}
	if tree.Package != "pgoci_demo" || !cmp.Equal(tree.Preload, []string{"demo"}) || len(tree.LoadOnly) != 0 {
		t.Errorf("package %q preload %v loadonly %v", tree.Package, tree.Preload, tree.LoadOnly)
	}
	extra := tree.Extension("demo_extra")
	if extra == nil || !cmp.Equal(extra.Control.Requires, []string{"demo"}) || extra.Control.Schema != "demo_extra" {
		t.Errorf("demo_extra: %+v", extra)
	}
	var unmapped []string
	for _, f := range tree.Files {
		if f.Target == "" {
			unmapped = append(unmapped, f.Path)
		}
	}
	if !cmp.Equal(unmapped, []string{"README.md"}) {
		t.Errorf("unmapped files %v, want [README.md]", unmapped)
	}
	entries, err := tree.Entries(context.Background(), MapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Link != "" {
			continue
		}
		rc, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != e.Size {
			t.Errorf("%s: Open yields %d bytes, Size says %d", e.Path, len(b), e.Size)
		}
		if e.Rewrite && strings.Contains(string(b), "'$libdir/") {
			t.Errorf("%s still holds '$libdir/ after the rewrite", e.Path)
		}
	}
}

func TestDiscoverLoadOnlyAndPreload(t *testing.T) {
	root := writeTree(t, map[string]string{
		"usr/share/postgresql/18/extension/pg_stat_statements.control":   "default_version = '1.11'\nmodule_pathname = '$libdir/pg_stat_statements'\nrelocatable = true\n",
		"usr/share/postgresql/18/extension/pg_stat_statements--1.11.sql": "SELECT 1;",
		"usr/lib/postgresql/18/lib/pg_stat_statements.so":                "x",
		"usr/lib/postgresql/18/lib/auto_explain.so":                      "x",
		"usr/lib/postgresql/18/lib/libhelper.so.1":                       "x",
		"usr/lib/postgresql/18/lib/libhelper.so":                         "->libhelper.so.1",
		"usr/share/doc/postgresql-18-pgss/copyright":                     "c",
		"usr/share/postgresql/18/extension/LICENSE":                      "l",
		"etc/postgresql-common/whatever.conf":                            "x",
	})
	tree, err := Discover(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"auto_explain", "pg_stat_statements"}, tree.Preload); diff != "" {
		t.Errorf("Preload (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"auto_explain", "libhelper"}, tree.LoadOnly); diff != "" {
		t.Errorf("LoadOnly (-want +got):\n%s", diff)
	}
	entries, err := tree.Entries(context.Background(), MapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.Path] = e.Link
	}
	for p, link := range map[string]string{"lib/libhelper.so": "libhelper.so.1", "licenses/postgresql-18-pgss/copyright": "", "share/extension/LICENSE": ""} {
		if l, ok := got[p]; !ok || l != link {
			t.Errorf("entry %s: present %v link %q, want link %q", p, ok, l, link)
		}
	}
}

func TestDiscoverErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  error
	}{
		{"nothing usable", map[string]string{"usr/share/doc/x/README": "x", "etc/x.conf": "x"}, ErrNotTree},
		{"library outside pkglibdir", map[string]string{"usr/lib/x86_64-linux-gnu/libx.so.1": "x"}, ErrNotTree},
		{"modules of two majors", map[string]string{
			"usr/lib/postgresql/17/lib/x.so": "x", "usr/lib/postgresql/18/lib/x.so": "x"}, ErrNotTree},
		{"absolute directory", map[string]string{"share/extension/x.control": "directory = '/usr/share/x'\n"}, ErrDirectory},
		{"climbing directory", map[string]string{"share/extension/x.control": "directory = '../x'\n"}, ErrDirectory},
		{"two majors", map[string]string{
			"usr/share/postgresql/17/extension/x.control": "", "usr/share/postgresql/18/extension/x.control": ""}, ErrNotTree},
		{"odd share dir", map[string]string{"opt/stuff/extension/x.control": ""}, ErrNotTree},
		{"only a secondary control", map[string]string{"share/extension/x--1.0.control": ""}, ErrNotTree},
		{"absolute symlink", map[string]string{"share/extension/x.control": "", "lib/x.so": "->/etc/passwd"}, ErrSymlinkEscape},
		{"climbing symlink", map[string]string{"share/extension/x.control": "", "lib/x.so": "->../../outside"}, ErrSymlinkEscape},
		{"bad control file", map[string]string{"share/extension/x.control": "nonsense = 1\n"}, ErrUnknownParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			if _, err := Discover(context.Background(), root, Options{}); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDiscoverCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Discover(ctx, "testdata/demo", Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestEntriesLinkEscapesAfterMapping(t *testing.T) {
	// Inside the DESTDIR tree, but once lib/ moves up three levels the
	// target would leave the layout.
	root := writeTree(t, map[string]string{
		"usr/share/postgresql/18/extension/x.control": "",
		"usr/lib/postgresql/18/lib/x.so":              "->../../../../share/x.so",
		"usr/share/x.so":                              "x",
	})
	tree, err := Discover(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.Entries(context.Background(), MapOptions{}); !errors.Is(err, ErrSymlinkEscape) {
		t.Errorf("error %v, want ErrSymlinkEscape", err)
	}
}

func TestEntriesNoRewrite(t *testing.T) {
	tree, err := Discover(context.Background(), "testdata/demo", Options{})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := tree.Entries(context.Background(), MapOptions{NoRewrite: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Rewrite {
			t.Errorf("%s marked for rewrite with NoRewrite", e.Path)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.9", "1.10", -1}, {"1.10", "1.9", 1}, {"1.0", "1.0", 0}, {"1.0", "1.0.1", -1},
		{"2.0beta", "2.0", 1}, {"1.01", "1.1", -1}, {"unpackaged", "1.0", 1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_"+tt.b, func(t *testing.T) {
			if got := CompareVersions(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}
