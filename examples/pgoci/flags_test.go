package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgoci/internal/demo"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args     []string
		pos      []string
		json     bool
		platform string
	}{
		{args: []string{"a", "--json", "b"}, pos: []string{"a", "b"}, json: true},
		{args: []string{"a", "--", "--json"}, pos: []string{"a", "--json"}},
		{args: []string{"--", "-h", "--platform", "x"}, pos: []string{"-h", "--platform", "x"}},
		{args: []string{"--json", "--", "--", "b"}, pos: []string{"--", "b"}, json: true},
		{args: []string{"a", "--platform", "--", "b"}, pos: []string{"a", "b"}, platform: "--"},
		{args: []string{"--platform=x", "--", "--json"}, pos: []string{"--json"}, platform: "x"},
		{args: []string{"--json=false", "--", "b"}, pos: []string{"b"}},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		asJSON := fs.Bool("json", false, "")
		platform := fs.String("platform", "", "")
		pos, err := parseArgs(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.pos) || *asJSON != tt.json || *platform != tt.platform {
			t.Errorf("parseArgs(%q) = %q, %v (json %v, platform %q), want %q (json %v, platform %q)",
				tt.args, pos, err, *asJSON, *platform, tt.pos, tt.json, tt.platform)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	if _, err := parseArgs(fs, []string{"a", "-h"}); !errors.Is(err, errHelp) {
		t.Errorf("parseArgs(-h) = %v, want errHelp", err)
	}
}

// TestDashDashEndsFlags: an argument after "--" is never a flag, even one
// that parses as one.
func TestDashDashEndsFlags(t *testing.T) {
	ref := "oci:" + filepath.Join(t.TempDir(), "oci") + ":v1"
	mustRun(t, append([]string{"pack", demoDir(t, "amd64"), ref}, packFlags("amd64")...)...)
	t.Chdir(t.TempDir())
	mustRun(t, "unpack", "--platform", "linux/amd64", ref, "--", "--weird-dir-name")
	if _, err := os.Stat(filepath.Join("--weird-dir-name", "share/extension/demo.control")); err != nil {
		t.Errorf("unpack into --weird-dir-name: %v", err)
	}
	// Neither the command's flags nor the global one are taken from after "--".
	mustRun(t, "unpack", "--platform", "linux/amd64", ref, "--", "--plain-http")
	if _, err := os.Stat("--plain-http"); err != nil {
		t.Errorf("unpack into --plain-http: %v", err)
	}
}

// TestDeprecatedVersionFlag: --version still works in pack (package
// version) and resolve (constraint), with one line of warning each.
func TestDeprecatedVersionFlag(t *testing.T) {
	layout := "oci:" + filepath.Join(t.TempDir(), "oci")
	flags := packFlags("amd64")
	flags[len(flags)-2] = "--version" // was --package-version
	code, out, errOut := pgoci(t, append([]string{"pack", demoDir(t, "amd64"), layout + ":" + demo.Version}, flags...)...)
	if code != 0 || !strings.Contains(out, "packed "+demo.Package+" "+demo.Version) {
		t.Fatalf("pack --version: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	wantWarning(t, errOut, "pgoci pack: warning: --version is deprecated", "use --package-version")

	code, out, errOut = pgoci(t, "resolve", layout, "--version=>=1", "--pg-major", "18", "--platform", "linux/amd64", "--libc", "glibc-2.36")
	if code != 0 || !strings.HasPrefix(out, layout+"@sha256:") {
		t.Fatalf("resolve --version: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	wantWarning(t, errOut, "pgoci resolve: warning: --version is deprecated", "use --version-constraint")
	if code, _, errOut := pgoci(t, "resolve", layout, "--version", "9", "--pg-major", "18"); code != 1 {
		t.Errorf("resolve --version 9: exit %d, want 1 (the alias sets the constraint); stderr:\n%s", code, errOut)
	}
}

func wantWarning(t *testing.T, stderr string, parts ...string) {
	t.Helper()
	var warnings []string
	for line := range strings.Lines(stderr) {
		if strings.Contains(line, "deprecated") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 1 {
		t.Fatalf("want one deprecation warning, got %d:\n%s", len(warnings), stderr)
	}
	for _, p := range parts {
		if !strings.Contains(warnings[0], p) {
			t.Errorf("warning %q lacks %q", warnings[0], p)
		}
	}
}
