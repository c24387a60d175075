//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pgociBin is the pgoci CLI (examples/pgoci), built once by TestMain.
var pgociBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pgoci-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The servers' user runs nothing from here, but psql and pg_ctl are
	// started with this directory's parent readable: keep it traversable.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pgociBin = filepath.Join(dir, "pgoci")
	build := exec.Command("go", "build", "-o", pgociBin, "pgoci/examples/pgoci")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build pgoci: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

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
	out, err := runErr(t, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runErr runs a tool and returns its combined output; the error names the
// command line and carries the output.
func runErr(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	return runEnv(t, nil, name, args...)
}

// runEnv is runErr with extra environment variables.
func runEnv(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	return runIn(t, "", env, name, args...)
}

// runIn runs a tool in dir ("" for the test's own) with extra environment
// variables.
func runIn(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: run the suite with bash .ci/e2e.sh", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// pgoci runs the pgoci CLI and fails the test if it fails.
func pgoci(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, pgociBin, args...)
}

// pgociErr runs the pgoci CLI and returns its output and error.
func pgociErr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runErr(t, pgociBin, args...)
}

// pgociStdout runs the pgoci CLI and returns what it printed on stdout
// alone (results; progress and notes go to stderr), failing the test if
// it fails.
func pgociStdout(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd := exec.Command(pgociBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pgoci %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("pgoci %s: stderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	return stdout.String()
}
