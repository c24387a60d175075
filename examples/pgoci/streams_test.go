package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
)

func serveRegistry(t *testing.T) *testregistry.Server {
	t.Helper()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestResolveStdoutIsTheReference: ref=$(pgoci resolve ...) gets the
// reference and nothing else, whatever resolve has to say.
func TestResolveStdoutIsTheReference(t *testing.T) {
	srv := serveRegistry(t)
	repo := srv.Host() + "/ext/pgoci_demo"
	ref := repo + ":" + demo.Version
	mustRun(t, append([]string{"pack", demoDir(t, "amd64"), ref}, packFlags("amd64")...)...)
	packed := mustRun(t, append([]string{"pack", demoDir(t, "arm64"), ref}, packFlags("arm64")...)...)
	_, digest, _ := strings.Cut(strings.SplitN(packed, "\n", 2)[0], ": ") // packed ...: sha256:...

	// No --libc: the libc is a note; amd64 passed over is another.
	code, out, errOut := pgoci(t, "resolve", ref, "--pg-major", "18", "--platform", "linux/arm64")
	if code != 0 || out != repo+"@"+digest+"\n" {
		t.Errorf("resolve: exit %d, stdout %q, want %q", code, out, repo+"@"+digest+"\n")
	}
	for _, want := range []string{"pgoci resolve: note: ", "1 other candidate(s) rejected"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("resolve stderr lacks %q:\n%s", want, errOut)
		}
	}

	code, out, errOut = pgoci(t, "resolve", ref, "--pg-major", "17", "--platform", "linux/arm64")
	if code != 1 || out != "" {
		t.Errorf("resolve of a miss: exit %d, stdout %q; want 1 and nothing", code, out)
	}
	for _, want := range []string{"linux/amd64 sha256:", "pg.major: want 17, found 18", "no image fits"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("resolve of a miss: stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// TestLocationMustExist: list, verify and uninstall on a location pgoci
// never installed into fail, naming it, instead of finding nothing.
func TestLocationMustExist(t *testing.T) {
	tmp := t.TempDir()
	missing := filepath.Join(tmp, "missing")
	empty := filepath.Join(tmp, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"list, no root", []string{"list", "--root", missing}, "no pgoci state at " + filepath.Join(missing, ".pgoci") + " (the install root " + missing + ")"},
		{"verify, no root", []string{"verify", "--root", missing}, "no pgoci state at " + filepath.Join(missing, ".pgoci")},
		{"verify, root without state", []string{"verify", "--root", empty}, "no pgoci state at " + filepath.Join(empty, ".pgoci")},
		{"uninstall, no root", []string{"uninstall", "x", "--root", missing}, "no pgoci state at " + filepath.Join(missing, ".pgoci")},
		{"list, no state directory", []string{"list", "--pg-config", "pg_config", "--state", missing}, "no pgoci state at " + missing},
	}
	if runtime.GOOS != "windows" {
		tests = append(tests, struct {
			name string
			args []string
			want string
		}{"verify, no default state directory", []string{"verify", "--pg-config", fakePGConfig(t, empty)},
			"no pgoci state at " + filepath.Join(empty, "share", ".pgoci")})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := pgoci(t, tt.args...)
			if code != 1 || out != "" || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("pgoci %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(tt.args, " "), code, out, errOut, tt.want)
			}
		})
	}
}

// fakePGConfig writes a pg_config script for a PostgreSQL 17 under prefix.
func fakePGConfig(t *testing.T, prefix string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pg_config")
	script := "#!/bin/sh\necho 'VERSION = PostgreSQL 17.5'\necho 'SHAREDIR = " + prefix + "/share'\necho 'PKGLIBDIR = " + prefix + "/lib'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
