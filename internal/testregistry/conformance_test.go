package testregistry_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgoci/internal/testregistry"
)

// conformancePkg is the OCI distribution-spec conformance suite, a main
// package pinned by the module's go.mod.
const conformancePkg = "github.com/opencontainers/distribution-spec/conformance"

// TestConformance builds the OCI conformance suite and runs it against
// the registry with every API and data set enabled. It takes about
// 10 s; run it alone with
//
//	go test ./internal/testregistry -run TestConformance -v
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short; run: go test ./internal/testregistry -run TestConformance -v")
	}
	goTool := findGo(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "conformance")
	build := exec.Command(goTool, "build", "-o", bin, conformancePkg)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", conformancePkg, err, out)
	}

	srv, err := testregistry.Serve(testregistry.Options{ChunkMinLength: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"OCI_RESULTS_DIR="+filepath.Join(dir, "results"),
		"OCI_VERSION=1.1",
		"OCI_LOG=warn",
		"OCI_REGISTRY="+srv.Host(),
		"OCI_TLS=disabled",
		"OCI_REPO1=conformance/repo1",
		"OCI_REPO2=conformance/repo2",
		"OCI_API_BLOBS_UPLOAD_CANCEL=true",
		"OCI_API_BLOBS_DIGEST_HEADER=true",
		"OCI_API_MANIFESTS_DIGEST_HEADER=true",
		"OCI_API_MANIFESTS_TAG_PARAM=true",
		"OCI_DATA_SPARSE=false",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("conformance suite ran in %v", time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("conformance suite failed: %v\n%s", err, out.String())
	}
	// The suite exits 0 even when it cannot load its configuration, so
	// the summary line is checked too.
	if !strings.Contains(out.String(), "OCI Conformance Result: Pass") {
		t.Fatalf("conformance suite did not report a pass:\n%s", out.String())
	}
	if testing.Verbose() {
		t.Log(out.String())
	}
}

// findGo locates the go command that runs this test.
func findGo(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	// go test puts its own GOROOT in the environment of the test.
	p := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("cannot find the go command to build the conformance suite: %v", err)
	}
	return p
}
