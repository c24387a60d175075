package view

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTarget(t *testing.T) {
	for p, want := range map[string]string{
		"lib/cube.so":                  "../packages/cube/current/lib/cube.so",
		"share/extension/cube.control": "../../packages/cube/current/share/extension/cube.control",
	} {
		if got := Target("cube", p); got != want {
			t.Errorf("Target(cube, %q) = %q, want %q", p, got, want)
		}
	}
}

func TestAncestorHolds(t *testing.T) {
	prev := []string{"lib/plugins"}
	if !AncestorIn("lib/plugins/a.so", prev) || AncestorIn("lib/plugins", prev) {
		t.Error("AncestorIn: want true for a path below a previous link only")
	}
	if !HoldsAny("lib", []string{"lib/a.so"}) || HoldsAny("lib/a.so", []string{"lib/a.so"}) {
		t.Error("HoldsAny: want true for a directory holding a previous link only")
	}
}

func TestLinkUnlink(t *testing.T) {
	root := t.TempDir()
	none := func(string) []string { return nil }
	paths := []string{"share/extension/cube.control", "lib/sub/cube.so"}
	if err := Link(root, "cube", paths, none, false); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if got, err := os.Readlink(filepath.Join(root, p)); err != nil || got != Target("cube", p) {
			t.Errorf("%s -> %q, %v; want %q", p, got, err, Target("cube", p))
		}
	}
	// A path shared with another package is pointed into it, not removed.
	shared := func(p string) []string {
		if p == paths[0] {
			return []string{"other"}
		}
		return nil
	}
	if err := Unlink(root, "cube", paths, shared); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.Readlink(filepath.Join(root, paths[0])); got != Target("other", paths[0]) {
		t.Errorf("shared link -> %q, want it pointed into other", got)
	}
	if _, err := os.Lstat(filepath.Join(root, "lib/sub")); !os.IsNotExist(err) {
		t.Errorf("lib/sub left after its last link went: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "lib")); err != nil {
		t.Errorf("the view's top directory lib was pruned: %v", err)
	}
}
