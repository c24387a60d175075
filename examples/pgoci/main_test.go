package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
)

// pgoci runs the CLI in-process and returns its exit code and output.
func pgoci(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := pgoci(t, args...)
	if code != 0 {
		t.Fatalf("pgoci %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// demoDir is the demo tree for PostgreSQL 18 built for linux/arch.
func demoDir(t *testing.T, arch string) string {
	t.Helper()
	dir, err := demo.Tree(t.TempDir(), demo.Major, arch)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func packFlags(arch string) []string {
	return []string{"--platform", "linux/" + arch, "--pg-major", "18", "--libc", "glibc-2.36",
		"--distro", "debian-12", "--package", demo.Package, "--package-version", demo.Version}
}

func TestPackResolveUnpackRegistry(t *testing.T) {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ref := srv.Host() + "/ext/pgoci_demo"
	// Flags before and after the positional arguments.
	mustRun(t, append([]string{"pack", demoDir(t, "amd64"), ref}, packFlags("amd64")...)...)
	out := mustRun(t, append(append([]string{"pack"}, packFlags("arm64")...), demoDir(t, "arm64"), ref+":"+demo.Version)...)
	if !strings.Contains(out, "pushed "+ref+":"+demo.Version) {
		t.Errorf("pack output does not name the tag:\n%s", out)
	}

	out = mustRun(t, "resolve", ref+":"+demo.Version, "--pg-major", "18", "--platform", "linux/arm64", "--libc", "glibc-2.41")
	if !strings.HasPrefix(out, ref+"@sha256:") {
		t.Errorf("resolve printed %q, want the manifest reference", out)
	}
	out = mustRun(t, "resolve", "--json", ref, "--version-constraint", ">=1", "--pg-major", "18", "--platform", "linux/amd64")
	if !strings.Contains(out, `"platform": "linux/amd64"`) {
		t.Errorf("resolve --json:\n%s", out)
	}

	dst := filepath.Join(t.TempDir(), "root")
	mustRun(t, "unpack", ref+":"+demo.Version, dst, "--platform", "linux/arm64")
	if _, err := os.Stat(filepath.Join(dst, "share/extension/demo.control")); err != nil {
		t.Errorf("unpacked tree: %v", err)
	}
	if out := mustRun(t, "settings", "--root", dst); !strings.Contains(out, "dynamic_library_path = '$libdir:"+dst+"/lib'") {
		t.Errorf("settings:\n%s", out)
	}
}

func TestExitCodes(t *testing.T) {
	layoutRef := "oci:" + filepath.Join(t.TempDir(), "oci")
	mustRun(t, append([]string{"pack", demoDir(t, "amd64"), layoutRef + ":v1"}, packFlags("amd64")...)...)
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"no command", nil, 2, "usage: pgoci"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"missing argument", []string{"pack", "dir"}, 2, "want 2 argument(s)"},
		{"unknown flag", []string{"resolve", "x", "--frob"}, 2, "flag provided but not defined"},
		{"bad policy", []string{"resolve", layoutRef + ":v1", "--policy", "lenient"}, 2, "lenient"},
		{"bad reference", []string{"resolve", "UPPER/Case:tag"}, 2, "invalid reference"},
		{"nothing fits", []string{"resolve", layoutRef + ":v1", "--pg-major", "17", "--platform", "linux/amd64"}, 1, "no image fits"},
		{"missing tag", []string{"resolve", layoutRef + ":nope", "--pg-major", "18"}, 1, "nope"},
		{"help", []string{"help", "install"}, 0, ""},
	}
	// Lines explaining these failures precede the error.
	explained := map[string]bool{"nothing fits": true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := pgoci(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.inStderr)
			}
			if tt.code == 1 && !explained[tt.name] && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("a failure prints one line on stderr, got:\n%s", errOut)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if last := lines[len(lines)-1]; tt.code == 1 && !strings.HasPrefix(last, "pgoci "+tt.args[0]+": ") {
				t.Errorf("the error is not the last line of stderr:\n%s", errOut)
			}
		})
	}
}
