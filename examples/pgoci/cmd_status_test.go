package main

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStatusErrors: the status command's failures before any finding (a
// server is needed for those: see e2e/status_test.go).
func TestStatusErrors(t *testing.T) {
	tmp := t.TempDir()
	layoutRef := "oci:" + filepath.Join(tmp, "oci") + ":v1"
	mustRun(t, append([]string{"pack", demoDir(t, "amd64"), layoutRef}, packFlags("amd64")...)...)
	root := filepath.Join(tmp, "root")
	mustRun(t, "install", layoutRef, "--root", root, "--cache", filepath.Join(tmp, "cache"),
		"--pg-major", "18", "--platform", "linux/amd64", "--libc", "glibc-2.36")

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	dsn := "host=127.0.0.1 port=" + port + " user=u password=secret dbname=postgres sslmode=disable connect_timeout=5"

	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"no location", []string{"status", "--dsn", dsn}, 2, "--root DIR"},
		{"positional argument", []string{"status", "x", "--root", root}, 2, "want 0 argument(s)"},
		{"max databases", []string{"status", "--root", root, "--dsn", dsn, "--max-databases", "0"}, 2, "--max-databases"},
		{"no state", []string{"status", "--root", filepath.Join(tmp, "empty"), "--dsn", dsn}, 1, "no pgoci state"},
		{"bad dsn", []string{"status", "--root", root, "--dsn", "port=notaport password=secret"}, 1, "invalid connection string"},
		{"no server", []string{"status", "--root", root, "--dsn", dsn}, 1, "cannot connect"},
		{"no server, json", []string{"status", "--root", root, "--dsn", dsn, "--json"}, 1, "cannot connect"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := pgoci(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("exit %d, want %d; stderr %q lacks %q?", code, tt.code, errOut, tt.inStderr)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Contains(errOut, "secret") {
				t.Errorf("stderr shows the password: %s", errOut)
			}
			if tt.code == 1 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("a failure prints one line on stderr, got:\n%s", errOut)
			}
		})
	}
}
