package layout

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// entryPaths maps a tree and returns the layout paths of its files (no
// directories), with "-> target" after links.
func entryPaths(t *testing.T, tree *Tree) []string {
	t.Helper()
	entries, err := tree.Entries(context.Background(), MapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		switch {
		case e.IsDir():
		case e.Link != "":
			out = append(out, e.Path+" -> "+e.Link)
		default:
			out = append(out, e.Path)
		}
	}
	return out
}

// TestDiscoverWithoutControlFiles: packages that are not SQL extensions,
// as Debian ships them: a logical decoding output plugin, a preload-only
// library with a plugins/ copy, and programs. Each is a tree PostgreSQL can
// use, named after its module or program.
func TestDiscoverWithoutControlFiles(t *testing.T) {
	tests := []struct {
		name                string
		files               map[string]string
		kind                Kind
		major               int
		pkg                 string
		modules, programs   []string
		loadOnly, wantFiles []string
	}{
		{
			name: "output plugin (wal2json)",
			files: map[string]string{
				"usr/lib/postgresql/15/lib/wal2json.so":                  "elf",
				"usr/lib/postgresql/15/lib/bitcode/wal2json/wal2json.bc": "bc",
				"usr/lib/postgresql/15/lib/bitcode/wal2json.index.bc":    "bc",
				"usr/share/doc/postgresql-15-wal2json/copyright":         "c",
			},
			kind: KindDESTDIR, major: 15, pkg: "wal2json", modules: []string{"wal2json"}, loadOnly: []string{"wal2json"},
			wantFiles: []string{"lib/bitcode/wal2json.index.bc", "lib/bitcode/wal2json/wal2json.bc", "lib/wal2json.so",
				"licenses/postgresql-15-wal2json/copyright"},
		},
		{
			name: "preload library with a plugins link (pgextwlist)",
			files: map[string]string{
				"usr/lib/postgresql/15/lib/pgextwlist.so":         "elf",
				"usr/lib/postgresql/15/lib/plugins/pgextwlist.so": "->../pgextwlist.so",
			},
			kind: KindDESTDIR, major: 15, pkg: "pgextwlist", modules: []string{"pgextwlist"}, loadOnly: []string{"pgextwlist"},
			wantFiles: []string{"lib/pgextwlist.so", "lib/plugins/pgextwlist.so -> ../pgextwlist.so"},
		},
		{
			name:  "program (pg_catcheck)",
			files: map[string]string{"usr/lib/postgresql/15/bin/pg_catcheck": "elf"},
			kind:  KindDESTDIR, major: 15, pkg: "pg_catcheck", programs: []string{"pg_catcheck"},
			wantFiles: []string{"bin/pg_catcheck"},
		},
		{
			name:  "versioned module (slony1)",
			files: map[string]string{"usr/lib/postgresql/15/lib/slony1_funcs.2.2.11.so": "elf"},
			kind:  KindDESTDIR, major: 15, pkg: "slony1_funcs", modules: []string{"slony1_funcs.2.2.11"}, loadOnly: []string{"slony1_funcs.2.2.11"},
			wantFiles: []string{"lib/slony1_funcs.2.2.11.so"},
		},
		{
			name:  "rpm program",
			files: map[string]string{"usr/pgsql-17/bin/pg_repack": "elf"},
			kind:  KindDESTDIR, major: 17, pkg: "pg_repack", programs: []string{"pg_repack"},
			wantFiles: []string{"bin/pg_repack"},
		},
		{
			name:  "plain pkglibdir module",
			files: map[string]string{"opt/pg/lib/postgresql/decoderx.so": "elf"},
			kind:  KindDESTDIR, pkg: "decoderx", modules: []string{"decoderx"}, loadOnly: []string{"decoderx"},
			wantFiles: []string{"lib/decoderx.so"},
		},
		{
			name:  "image root of a module (CloudNativePG wal2json)",
			files: map[string]string{"lib/wal2json.so": "elf", "licenses/wal2json/LICENSE": "l"},
			kind:  KindLayout, pkg: "wal2json", modules: []string{"wal2json"}, loadOnly: []string{"wal2json"},
			wantFiles: []string{"lib/wal2json.so", "licenses/wal2json/LICENSE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := Discover(context.Background(), writeTree(t, tt.files), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tree.Kind != tt.kind || tree.PGMajor != tt.major || tree.Package != tt.pkg || len(tree.Extensions) != 0 {
				t.Errorf("kind %v major %d package %q extensions %d; want %v %d %q 0", tree.Kind, tree.PGMajor, tree.Package, len(tree.Extensions), tt.kind, tt.major, tt.pkg)
			}
			if diff := cmp.Diff(tt.modules, tree.Modules); diff != "" {
				t.Errorf("Modules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.programs, tree.Programs); diff != "" {
				t.Errorf("Programs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.loadOnly, tree.LoadOnly); diff != "" {
				t.Errorf("LoadOnly (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFiles, entryPaths(t, tree)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiscoverVersionedControl: Debian's PostGIS packaging, where the
// control files carry the major (postgis-3.control) and the scripts do not
// (postgis--3.3.2.sql). The image provides postgis, under
// share/extension/postgis.control; a versioned control file that has
// scripts of its own, or whose unversioned name exists, stays as it is.
func TestDiscoverVersionedControl(t *testing.T) {
	ext := "usr/share/postgresql/15/extension/"
	root := writeTree(t, map[string]string{
		ext + "postgis-3.control":                      "default_version = '3.3.2'\nmodule_pathname = '$libdir/postgis-3'\nrelocatable = false\n",
		ext + "postgis--3.3.2.sql":                     "CREATE FUNCTION f() RETURNS int AS '$libdir/postgis-3', 'f' LANGUAGE C;",
		ext + "postgis--ANY--3.3.2.sql":                "SELECT 1;",
		ext + "postgis--3.2.0--3.3.2.sql":              "->postgis--ANY--3.3.2.sql",
		ext + "postgis_topology-3.control":             "default_version = '3.3.2'\nrequires = 'postgis'\n",
		ext + "postgis_topology--3.3.2.sql":            "SELECT 1;",
		ext + "libfoo-2.control":                       "default_version = '1.0'\n",
		ext + "libfoo-2--1.0.sql":                      "SELECT 1;",
		ext + "bar-1.control":                          "default_version = '1.0'\n",
		ext + "bar.control":                            "default_version = '1.0'\n",
		ext + "bar--1.0.sql":                           "SELECT 1;",
		"usr/lib/postgresql/15/lib/postgis-3.so":       "elf",
		"usr/lib/postgresql/15/lib/bitcode/x.index.bc": "bc",
	})
	tree, err := Discover(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tree.Package != "postgis" {
		t.Errorf("package %q, want postgis (the extension the others require)", tree.Package)
	}
	if diff := cmp.Diff([]string{"bar", "bar-1", "libfoo-2", "postgis", "postgis_topology"}, tree.extensionNames()); diff != "" {
		t.Errorf("extensions (-want +got):\n%s", diff)
	}
	pg := tree.Extension("postgis")
	if pg == nil || pg.Control.Name != "postgis" || !cmp.Equal(pg.Versions, []string{"3.3.2"}) || len(pg.Upgrades) != 2 ||
		!cmp.Equal(pg.Modules, []string{"postgis-3"}) {
		t.Errorf("postgis: %+v", pg)
	}
	paths := entryPaths(t, tree)
	for _, want := range []string{"share/extension/postgis.control", "share/extension/postgis_topology.control",
		"share/extension/libfoo-2.control", "share/extension/bar-1.control", "share/extension/bar.control"} {
		if !contains(paths, want) {
			t.Errorf("no entry %s in %v", want, paths)
		}
	}
	for _, gone := range []string{"share/extension/postgis-3.control", "share/extension/postgis_topology-3.control"} {
		if contains(paths, gone) {
			t.Errorf("entry %s is still there", gone)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestDiscoverScriptDirectory: an extension whose control file names a
// directory (pgfincore) keeps its scripts in share/<directory>/, where the
// image carries them too.
func TestDiscoverScriptDirectory(t *testing.T) {
	root := writeTree(t, map[string]string{
		"usr/share/postgresql/15/extension/pgfincore.control":  "default_version = '1.2'\ndirectory = 'pgfincore'\nmodule_pathname = '$libdir/pgfincore'\n",
		"usr/share/postgresql/15/pgfincore/pgfincore--1.2.sql": "CREATE FUNCTION f() RETURNS int AS 'MODULE_PATHNAME' LANGUAGE C;",
		"usr/lib/postgresql/15/lib/pgfincore.so":               "elf",
	})
	tree, err := Discover(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := tree.Extension("pgfincore")
	if e == nil || !cmp.Equal(e.Versions, []string{"1.2"}) {
		t.Fatalf("pgfincore: %+v", e)
	}
	want := []string{"lib/pgfincore.so", "share/extension/pgfincore.control", "share/pgfincore/pgfincore--1.2.sql"}
	if diff := cmp.Diff(want, entryPaths(t, tree)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

// TestDiscoverSelectExtensions: one extension taken from a tree that holds
// many, such as a server's own contrib: its control and scripts, the
// modules it uses (plperlu uses plperl.so) and their bitcode, and nothing
// else.
func TestDiscoverSelectExtensions(t *testing.T) {
	ext, lib := "share/postgresql/extension/", "lib/postgresql/"
	root := writeTree(t, map[string]string{
		ext + "plperl.control":          "default_version = '1.0'\nmodule_pathname = '$libdir/plperl'\n",
		ext + "plperl--1.0.sql":         "SELECT 1;",
		ext + "plperlu.control":         "default_version = '1.0'\nmodule_pathname = '$libdir/plperl'\n",
		ext + "plperlu--1.0.sql":        "SELECT 1;",
		ext + "hstore.control":          "default_version = '1.8'\nmodule_pathname = '$libdir/hstore'\n",
		ext + "hstore--1.8.sql":         "SELECT 1;",
		ext + "hstore--1.7--1.8.sql":    "SELECT 1;",
		"share/postgresql/postgres.bki": "core",
		lib + "plperl.so":               "elf",
		lib + "hstore.so":               "elf",
		lib + "bitcode/plperl.index.bc": "bc",
		lib + "bitcode/plperl/SPI.bc":   "bc",
		lib + "bitcode/hstore/x.bc":     "bc",
		"bin/postgres":                  "elf",
	})
	tree, err := Discover(context.Background(), root, Options{Extensions: []string{"plperlu"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lib/bitcode/plperl.index.bc", "lib/bitcode/plperl/SPI.bc", "lib/plperl.so",
		"share/extension/plperlu--1.0.sql", "share/extension/plperlu.control"}
	if diff := cmp.Diff(want, entryPaths(t, tree)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if tree.Package != "plperlu" || !cmp.Equal(tree.Modules, []string{"plperl"}) || len(tree.Programs) != 0 || len(tree.LoadOnly) != 0 {
		t.Errorf("package %q modules %v programs %v loadonly %v", tree.Package, tree.Modules, tree.Programs, tree.LoadOnly)
	}
	if _, err := Discover(context.Background(), root, Options{Extensions: []string{"nope"}}); !errors.Is(err, ErrNotTree) {
		t.Errorf("unknown extension: error %v, want ErrNotTree", err)
	}
}
