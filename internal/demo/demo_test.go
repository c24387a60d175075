package demo

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"pgoci/linkage"
)

// TestTree: the trees for each major and architecture have the major in
// their paths and a demo.so of their architecture.
func TestTree(t *testing.T) {
	work := t.TempDir()
	for _, tc := range []struct {
		major int
		arch  string
	}{{18, "amd64"}, {17, "arm64"}} {
		tree, err := Tree(work, tc.major, tc.arch)
		if err != nil {
			t.Fatal(err)
		}
		ext := filepath.Join(tree, "usr/share/postgresql", itoa(tc.major), "extension/demo.control")
		if _, err := os.Stat(ext); err != nil {
			t.Errorf("PostgreSQL %d tree: %v", tc.major, err)
		}
		o, err := linkage.ReadFile(filepath.Join(tree, "usr/lib/postgresql", itoa(tc.major), "lib/demo.so"))
		if err != nil {
			t.Fatalf("demo.so for %s: %v", tc.arch, err)
		}
		if o.Arch != tc.arch {
			t.Errorf("demo.so for %s is for %q", tc.arch, o.Arch)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBuild(t *testing.T) {
	p, m := Build(17, "arm64")
	if p.Variant != "v8" || m.PG.Major != 17 || m.PG.VersionNum != 170004 || m.Package.Name != Package {
		t.Errorf("Build(17, arm64) = %+v, %+v", p, m)
	}
}
