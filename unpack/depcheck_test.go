package unpack_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsNoPgoci keeps unpack a leaf: its non-test code imports no
// other pgoci package (the package map in the repository's doc.go: unpack
// and layout do not import each other or resolve).
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
		}
	}
}
