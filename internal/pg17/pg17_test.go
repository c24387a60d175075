package pg17

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDest(t *testing.T) {
	d := Dirs{Share: "/usr/share/postgresql/17", PkgLib: "/usr/lib/postgresql/17/lib", Licenses: "/st/licenses/cube"}
	for p, want := range map[string]string{
		"share/extension/cube.control": "/usr/share/postgresql/17/extension/cube.control",
		"share/cube/cube--1.0.sql":     "/usr/share/postgresql/17/cube/cube--1.0.sql",
		"lib/bitcode/cube.bc":          "/usr/lib/postgresql/17/lib/bitcode/cube.bc",
		"licenses/LICENSE":             "/st/licenses/cube/LICENSE",
		"bin/cubetool":                 "", // no bindir known
		"system/lib/libx.so":           "",
	} {
		if got := d.Dest(p); got != filepath.FromSlash(want) {
			t.Errorf("Dest(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestControlLast(t *testing.T) {
	paths := []string{"a.control", "a.so", "b.control", "a--1.sql"}
	slices.SortStableFunc(paths, ControlLast)
	if want := []string{"a.so", "a--1.sql", "a.control", "b.control"}; !slices.Equal(paths, want) {
		t.Errorf("sorted %v, want %v", paths, want)
	}
}

func TestPlaceAndPrune(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("module"), 0o640); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "lib", "sub", "cube.so")
	if err := Place(src, dst, "", true); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "module" {
		t.Fatalf("placed file = %q, %v", b, err)
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o640 {
		t.Errorf("placed file mode %v, want the source's 0640", fi.Mode().Perm())
	}
	link := filepath.Join(dir, "lib", "sub", "cube.so.1")
	if err := Place("", link, "cube.so", false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.Readlink(link); got != "cube.so" {
		t.Errorf("placed link -> %q, want cube.so", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(dst))
	if len(entries) != 2 {
		t.Errorf("temporary files left: %v", entries)
	}
	dirs := []string{filepath.Join(dir, "lib"), filepath.Join(dir, "lib", "sub")}
	if kept := PruneDirs(dirs); !slices.Equal(kept, dirs) {
		t.Errorf("PruneDirs of non-empty directories kept %v, want both", kept)
	}
	os.Remove(dst)
	os.Remove(link)
	if kept := PruneDirs(dirs); len(kept) != 0 {
		t.Errorf("PruneDirs of empty directories kept %v", kept)
	}
}
