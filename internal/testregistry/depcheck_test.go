package testregistry_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDepcheck keeps the registry free of pgoci packages (so it can test
// any of them without an import cycle or shared bugs) and of anything
// beyond the standard library, go-digest and image-spec.
func TestDepcheck(t *testing.T) {
	out, err := exec.Command(findGo(t), "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "pgoci/internal/testregistry").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := []string{
		"pgoci/internal/testregistry",
		"github.com/opencontainers/go-digest",
		"github.com/opencontainers/image-spec/",
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed no packages; the check would prove nothing")
	}
	for _, dep := range deps {
		ok := false
		for _, a := range allowed {
			if dep == a || strings.HasPrefix(dep, a) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("testregistry depends on %s; it may import only the standard library, go-digest and image-spec", dep)
		}
		if dep != "pgoci/internal/testregistry" && strings.HasPrefix(dep, "pgoci/") {
			t.Errorf("testregistry imports pgoci package %s", dep)
		}
	}
}
