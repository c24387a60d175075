//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// registry returns the host:port of the real registry started by
// .ci/e2e.sh. Without it the suite fails: a missing component is a
// failure, never a skip.
func registry(t *testing.T) string {
	t.Helper()
	host := os.Getenv("PGOCI_E2E_REGISTRY")
	if host == "" {
		t.Fatal("PGOCI_E2E_REGISTRY is not set: run the suite with bash .ci/e2e.sh")
	}
	return host
}

// run runs a peer tool and fails the test with its output if it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: run the suite with bash .ci/e2e.sh", name)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
