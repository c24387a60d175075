package linkage_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsNoPgoci keeps linkage a leaf: its non-test code imports no
// other pgoci package, so pack, install, verify and resolve can all use it.
func TestImportsNoPgoci(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "pgoci" || strings.HasPrefix(p, "pgoci/") {
				t.Errorf("%s imports %s", f, p)
			}
			if p == "os/exec" || p == "C" {
				t.Errorf("%s imports %s: the package must not run programs or use cgo", f, p)
			}
		}
	}
}
