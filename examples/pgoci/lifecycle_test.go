package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
)

// TestLifecycle drives every command the way the README's session does.
func TestLifecycle(t *testing.T) {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ref := srv.Host() + "/ext/pgoci_demo:" + demo.Version
	mustRun(t, append([]string{"pack", demoDir(t, "amd64"), ref}, packFlags("amd64")...)...)
	mustRun(t, append([]string{"pack", demoDir(t, "arm64"), ref}, packFlags("arm64")...)...)

	var in struct {
		Manifests []struct{ Platform struct{ Architecture string } }
	}
	if err := json.Unmarshal([]byte(mustRun(t, "inspect", ref, "--json")), &in); err != nil || len(in.Manifests) != 2 {
		t.Fatalf("inspect --json: %d manifests, %v", len(in.Manifests), err)
	}
	if out := mustRun(t, "inspect", ref); !strings.Contains(out, "extension demo_extra 1.0 (requires [demo])") {
		t.Errorf("inspect:\n%s", out)
	}

	tmp := t.TempDir()
	root, cache := filepath.Join(tmp, "root"), filepath.Join(tmp, "cache")
	target := []string{"--pg-major", "18", "--platform", "linux/amd64", "--libc", "glibc-2.36"}
	lockFile := filepath.Join(tmp, "fleet.lock.json")
	out := mustRun(t, append([]string{"install", ref, "--root", root, "--cache", cache, "--lock-file", lockFile}, target...)...)
	if !strings.HasPrefix(out, "installed "+demo.Package+" "+demo.Version) {
		t.Errorf("install printed:\n%s", out)
	}
	if b, err := os.ReadFile(lockFile); err != nil || !strings.Contains(string(b), demo.Package) {
		t.Errorf("lock file %s: %v\n%s", lockFile, err, b)
	}
	if _, err := os.Stat(filepath.Join(root, "share/extension/demo.control")); err != nil {
		t.Errorf("merged view: %v", err)
	}
	out = mustRun(t, append([]string{"install", "--root", root, "--cache", cache, ref}, target...)...)
	if !strings.HasPrefix(out, "unchanged ") {
		t.Errorf("second install printed:\n%s", out)
	}
	if out := mustRun(t, "list", "--root", root); !strings.HasPrefix(out, demo.Package+"\t"+demo.Version) || !strings.Contains(out, "demo,demo_extra") {
		t.Errorf("list:\n%s", out)
	}
	mustRun(t, "verify", "--root", root)
	if err := os.WriteFile(filepath.Join(root, "share/extension/demo.control"), []byte("tampered"), 0o644); err != nil {
		t.Fatalf("tampering with demo.control: %v", err)
	}
	if code, out, _ := pgoci(t, "verify", "--root", root); code != 1 || !strings.Contains(out, "demo.control") {
		t.Errorf("verify after tampering: exit %d, output:\n%s", code, out)
	}
	mustRun(t, "uninstall", demo.Package, "--root", root)
	if out := mustRun(t, "list", "--root", root); out != "" {
		t.Errorf("list after uninstall:\n%s", out)
	}

	// Air-gapped: registry -> OCI layout -> registry keeps the digest.
	layout := "oci:" + filepath.Join(tmp, "mirror")
	mustRun(t, "copy", ref, layout+":"+demo.Version)
	back := srv.Host() + "/mirror/pgoci_demo:" + demo.Version
	mustRun(t, "copy", layout+":"+demo.Version, back)
	a := mustRun(t, "resolve", ref, "--pg-major", "18", "--platform", "linux/arm64")
	b := mustRun(t, "resolve", back, "--pg-major", "18", "--platform", "linux/arm64")
	if strings.SplitN(a, "@", 2)[1] != strings.SplitN(b, "@", 2)[1] {
		t.Errorf("copy changed the manifest: %s vs %s", a, b)
	}
}
