package demo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTree(t *testing.T) {
	work := t.TempDir()
	src, err := Tree(work, Major)
	if err != nil {
		t.Fatal(err)
	}
	pg17, err := Tree(work, 17)
	if err != nil {
		t.Fatal(err)
	}
	if src == pg17 {
		t.Fatal("Tree(17) returned the checked-in tree")
	}
	for _, rel := range []string{"usr/share/postgresql/17/extension/demo.control", "usr/lib/postgresql/17/lib/demo.so"} {
		if _, err := os.Stat(filepath.Join(pg17, rel)); err != nil {
			t.Errorf("PostgreSQL 17 tree lacks %s: %v", rel, err)
		}
	}
	if _, err := os.Stat(filepath.Join(src, "usr/share/postgresql/18/extension/demo.control")); err != nil {
		t.Errorf("checked-in tree: %v", err)
	}
}

func TestBuild(t *testing.T) {
	p, m := Build(17, "arm64")
	if p.Variant != "v8" || m.PG.Major != 17 || m.PG.VersionNum != 170004 || m.Package.Name != Package {
		t.Errorf("Build(17, arm64) = %+v, %+v", p, m)
	}
}
