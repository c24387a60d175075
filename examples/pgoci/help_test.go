package main

import (
	"bytes"
	"flag"
	"runtime/debug"
	"strings"
	"testing"
)

// TestHelpDocumentsEveryFlag: the flags a command parses are the flags its
// help lists, each with a sentence.
func TestHelpDocumentsEveryFlag(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, help, errOut := pgoci(t, "help", c.name)
			if code != 0 || errOut != "" {
				t.Fatalf("pgoci help %s: exit %d, stderr %q", c.name, code, errOut)
			}
			if !strings.HasPrefix(help, "usage: pgoci "+c.name) || !strings.Contains(help, "--plain-http") {
				t.Errorf("pgoci help %s lacks the usage line or the global flags:\n%s", c.name, help)
			}
			fs, _ := c.bind()
			fs.VisitAll(func(f *flag.Flag) {
				if strings.TrimSpace(f.Usage) == "" {
					t.Errorf("--%s has no usage", f.Name)
				}
				if !strings.Contains(help, "\n  --"+f.Name+" ") && !strings.Contains(help, "\n  --"+f.Name+"\n") {
					t.Errorf("pgoci help %s does not list --%s:\n%s", c.name, f.Name, help)
				}
			})
			for _, arg := range []string{"--help", "-h"} {
				code, out, errOut := pgoci(t, c.name, arg)
				if code != 0 || out != help || errOut != "" {
					t.Errorf("pgoci %s %s: exit %d, stderr %q, stdout differs from pgoci help %s: %v",
						c.name, arg, code, errOut, c.name, out != help)
				}
			}
		})
	}
}

func TestHelpExitCodes(t *testing.T) {
	tests := []struct {
		name            string
		args            []string
		code            int
		inStdout, inErr string
		emptyOut        bool
	}{
		{name: "bare pgoci", code: 2, inErr: "Commands:", emptyOut: true},
		{name: "help", args: []string{"help"}, code: 0, inStdout: "Commands:"},
		{name: "--help", args: []string{"--help"}, code: 0, inStdout: "Commands:"},
		{name: "-h", args: []string{"-h"}, code: 0, inStdout: "Commands:"},
		{name: "help COMMAND", args: []string{"help", "pack"}, code: 0, inStdout: "usage: pgoci pack [flags] DIR REF"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, inErr: `unknown command "frobnicate"`, emptyOut: true},
		{name: "help unknown command", args: []string{"help", "frobnicate"}, code: 2, inErr: `unknown command "frobnicate"`, emptyOut: true},
		{name: "usage error", args: []string{"resolve"}, code: 2, inErr: "usage: pgoci resolve [flags] REF", emptyOut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := pgoci(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.inStdout) || !strings.Contains(errOut, tt.inErr) || (tt.emptyOut && out != "") {
				t.Errorf("pgoci %s: exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), code, tt.code, out, errOut)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out := mustRun(t, args...)
		if !strings.HasPrefix(out, "pgoci ") {
			t.Errorf("pgoci %s printed %q", args[0], out)
		}
	}
	var b bytes.Buffer
	writeVersion(&b, &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "pgoci", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"}}})
	want := "pgoci v1.2.0\ncommit: abc123 (modified)\ncommit time: 2026-01-02T03:04:05Z\ngo: go1.26.1\n"
	if b.String() != want {
		t.Errorf("writeVersion:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	writeVersion(&b, &debug.BuildInfo{Main: debug.Module{Path: "pgoci"}})
	if b.String() != "pgoci (devel)\n" {
		t.Errorf("writeVersion of a checkout build: %q", b.String())
	}
}
