package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
)

// TestSyncCommand: --dry-run prints the plan and changes nothing; sync
// installs what the file lists; a second sync has nothing to do and asks
// the registry nothing; an empty list removes everything; a misspelt key
// is an error naming it.
func TestSyncCommand(t *testing.T) {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ref := srv.Host() + "/ext/" + demo.Package + ":" + demo.Version
	mustRun(t, append([]string{"pack", demoDir(t, "amd64"), ref}, packFlags("amd64")...)...)

	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	file := filepath.Join(tmp, "extensions.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	flags := []string{"--root", root, "--cache", "-", "--pg-major", "18", "--platform", "linux/amd64", "--libc", "glibc-2.36"}
	write("repository: " + srv.Host() + "/ext\nextensions:\n  - name: " + demo.Package + "\n    version: \"~1.1\"\n")

	out := mustRun(t, append([]string{"sync", file, "--dry-run"}, flags...)...)
	if want := "install " + demo.Package + " " + demo.Version + " (sha256:"; !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 {
		t.Errorf("sync --dry-run printed:\n%s\nwant one line starting %q", out, want)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("--dry-run created the root: %v", err)
	}
	if out := mustRun(t, append([]string{"sync", file}, flags...)...); !strings.HasPrefix(out, "install "+demo.Package) {
		t.Errorf("sync printed:\n%s", out)
	}
	if out := mustRun(t, "list", "--root", root); !strings.HasPrefix(out, demo.Package+"\t"+demo.Version) {
		t.Errorf("list after sync:\n%s", out)
	}
	srv.ResetRequests()
	if out := mustRun(t, append([]string{"sync", file}, flags...)...); out != "nothing to do\n" {
		t.Errorf("second sync printed:\n%s", out)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("second sync made %d registry requests", n)
	}

	write(`{"extensions": []}`)
	if out := mustRun(t, append([]string{"sync", file}, flags...)...); !strings.HasPrefix(out, "remove "+demo.Package) {
		t.Errorf("sync of an empty list printed:\n%s", out)
	}
	if out := mustRun(t, "list", "--root", root); out != "" {
		t.Errorf("list after the empty sync:\n%s", out)
	}

	write("repository: x\nextension:\n  - name: demo\n")
	if code, _, errOut := pgoci(t, append([]string{"sync", file}, flags...)...); code != 1 || !strings.Contains(errOut, "extension") {
		t.Errorf("misspelt key: exit %d, stderr %q", code, errOut)
	}
}
