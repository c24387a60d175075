package sqlstatus_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDriverStaysHere keeps the database driver in this package and the
// CLI: no other package of the module may depend on pgx, so that the SDK
// (extension, resolve, trust, ...) links no driver into programs that do
// not talk SQL.
func TestDriverStaysHere(t *testing.T) {
	out, err := exec.Command(goCommand(t), "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "pgoci/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{"pgoci/sqlstatus": true, "pgoci/examples/pgoci": true}
	var checked int
	sawDriver := false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg, deps := fields[0], fields[1:]
		checked++
		for _, dep := range deps {
			if !strings.HasPrefix(dep, "github.com/jackc/") {
				continue
			}
			if pkg == "pgoci/sqlstatus" {
				sawDriver = true
			}
			if !allowed[pkg] {
				t.Errorf("%s depends on %s: only pgoci/sqlstatus and the CLI may use the database driver", pkg, dep)
				break
			}
		}
	}
	if checked < 10 || !sawDriver {
		t.Fatalf("go list gave %d packages and pgoci/sqlstatus without pgx: the check proves nothing\n%s", checked, out)
	}
}

// goCommand is the go command: on $PATH, else the one go test runs under
// (it sets GOROOT in the test's environment).
func goCommand(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}
