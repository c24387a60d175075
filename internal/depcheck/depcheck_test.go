package depcheck

import (
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// rule says what the non-test files of the packages under dir (a
// path.Match pattern relative to the module root) may import of pgoci.
type rule struct {
	dir string
	// only, when not nil, lists the pgoci packages allowed; any other
	// pgoci import fails. An empty non-nil list allows none (a leaf).
	only []string
	// forbid lists packages not allowed: pgoci packages (with only nil),
	// or standard ones a package must do without ("os/exec", "C").
	forbid []string
	// except lists directories the rule does not apply to, and why.
	except map[string]string
}

// rules is the import direction: the public packages sit on internal
// ones, never the reverse, and resolve sits below extension.
var rules = []rule{
	{dir: "internal/host", only: []string{"pgoci/labels"}},
	{dir: "internal/registry", only: []string{"pgoci/internal/verify"}},
	{dir: "internal/state", only: []string{"pgoci/unpack"}},
	{dir: "internal/view", only: []string{"pgoci/layout", "pgoci/internal/state", "pgoci/internal/tmpname"}},
	{dir: "internal/pg17", only: []string{"pgoci/layout", "pgoci/internal/state", "pgoci/internal/tmpname"}},
	{dir: "internal/tmpname", only: []string{}},
	{dir: "internal/versions", only: []string{"pgoci/resolve"}},
	{dir: "internal/*", forbid: []string{"pgoci/extension"}, except: map[string]string{
		// A test helper: it packs images with extension for the tests
		// of packages above extension, and no non-test code imports it.
		"internal/imagefixture": "test helper",
	}},
	{dir: "resolve", forbid: []string{"pgoci/extension"}},
	// The leaves: pack, install, verify and resolve all use them. linkage
	// reads untrusted ELF files: it runs no program (ldd executes code)
	// and uses no cgo.
	{dir: "unpack", only: []string{}},
	{dir: "labels", only: []string{}},
	{dir: "layout", only: []string{}},
	{dir: "linkage", only: []string{}, forbid: []string{"os/exec", "C"}},
}

func TestImportDirection(t *testing.T) {
	root := filepath.Join("..", "..")
	checked := 0
	for _, r := range rules {
		dirs, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(r.dir)))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dirs {
			rel := filepath.ToSlash(strings.TrimPrefix(d, root+string(filepath.Separator)))
			if _, ok := r.except[rel]; ok {
				continue
			}
			checked += checkDir(t, d, rel, r)
		}
	}
	if checked == 0 {
		t.Fatal("no file checked; the rules would prove nothing")
	}
}

// checkDir checks the non-test Go files of one directory (all build tags:
// files are parsed, not built) and returns how many it read.
func checkDir(t *testing.T, dir, rel string, r rule) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !allowed(r, p) {
				t.Errorf("%s imports %s: rule %q allows %s", path.Join(rel, name), p, r.dir, r.describe())
			}
		}
	}
	return n
}

func allowed(r rule, imp string) bool {
	if slices.Contains(r.forbid, imp) {
		return false
	}
	if r.only == nil || (imp != "pgoci" && !strings.HasPrefix(imp, "pgoci/")) {
		return true
	}
	return slices.Contains(r.only, imp)
}

func (r rule) describe() string {
	var parts []string
	switch {
	case r.only != nil && len(r.only) == 0:
		parts = append(parts, "no pgoci package")
	case r.only != nil:
		parts = append(parts, "only "+strings.Join(r.only, ", ")+" of pgoci")
	}
	if len(r.forbid) > 0 {
		parts = append(parts, "not "+strings.Join(r.forbid, ", "))
	}
	return strings.Join(parts, "; ")
}
