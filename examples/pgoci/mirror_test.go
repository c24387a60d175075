package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
)

func TestExtractValues(t *testing.T) {
	tests := []struct {
		args, rest, values []string
		err                bool
	}{
		{args: []string{"--mirror", "a=b", "resolve", "--mirror=c=d", "x", "-mirror", "e=f"}, rest: []string{"resolve", "x"}, values: []string{"a=b", "c=d", "e=f"}},
		{args: []string{"unpack", "x", "--", "--mirror", "a=b"}, rest: []string{"unpack", "x", "--", "--mirror", "a=b"}},
		{args: []string{"resolve", "--mirrors", "x"}, rest: []string{"resolve", "--mirrors", "x"}},
		{args: []string{"resolve", "x", "--mirror"}, err: true},
	}
	for _, tt := range tests {
		rest, values, err := extractValues(tt.args, "mirror")
		if tt.err != (err != nil) || !slices.Equal(rest, tt.rest) || !slices.Equal(values, tt.values) {
			t.Errorf("extractValues(%q) = %q, %q, %v; want %q, %q, error %v", tt.args, rest, values, err, tt.rest, tt.values, tt.err)
		}
	}
}

// TestMirrorFlag: --mirror sends reads to the mirror, the upstream only
// resolves the tag, a mirror serving bad bytes is passed over with a note,
// and a malformed --mirror is a usage error.
func TestMirrorFlag(t *testing.T) {
	up, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	mir, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mir.Close()
	ref := up.Host() + "/ext/pgoci_demo:" + demo.Version
	mustRun(t, append([]string{"pack", demoDir(t, "amd64"), ref}, packFlags("amd64")...)...)
	mustRun(t, "copy", ref, mir.Host()+"/cache/ext/pgoci_demo:"+demo.Version)
	up.ResetRequests()
	mir.ResetRequests()
	mirror := up.Host() + "=" + mir.Host() + "/cache"

	out := mustRun(t, "--mirror", mirror, "resolve", ref, "--pg-major", "18", "--platform", "linux/amd64")
	if !strings.HasPrefix(out, up.Host()+"/ext/pgoci_demo@sha256:") {
		t.Errorf("resolve printed %q", out)
	}
	dst := filepath.Join(t.TempDir(), "root")
	code, _, errOut := pgoci(t, "unpack", "--mirror="+mirror, ref, dst, "--platform", "linux/amd64")
	if code != 0 || errOut != "" {
		t.Fatalf("unpack through the mirror: exit %d, stderr %q", code, errOut)
	}
	for _, r := range up.Requests() {
		if r.Method != "HEAD" || !strings.HasSuffix(r.Path, "/manifests/"+demo.Version) {
			t.Errorf("the upstream served %s %s: only the tag's HEAD should reach it", r.Method, r.Path)
		}
	}
	var blobs int
	for _, r := range mir.Requests() {
		if strings.Contains(r.Path, "/blobs/") && r.Status == 200 {
			blobs++
		}
	}
	if blobs == 0 {
		t.Errorf("no blob came from the mirror: %v", mir.Requests())
	}

	// A mirror that corrupts a manifest is passed over, and said so.
	if err := mir.AddFault(testregistry.Fault{Kind: testregistry.FaultCorrupt, Path: `/manifests/sha256:`}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = pgoci(t, "resolve", ref, "--mirror", mirror, "--pg-major", "18", "--platform", "linux/amd64")
	if code != 0 || !strings.HasPrefix(out, up.Host()+"/ext/pgoci_demo@sha256:") ||
		!strings.Contains(errOut, "pgoci resolve: note: mirror passed over: resolve: mirror "+mir.Host()+"/cache/ext/pgoci_demo") ||
		!strings.Contains(errOut, "digest mismatch") {
		t.Errorf("resolve through a corrupting mirror: exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}

	for _, bad := range [][]string{{"--mirror", "nohost", "resolve", ref}, {"resolve", ref, "--mirror"}, {"--mirror", "a.example=b.example,pull", "resolve", ref}} {
		if code, _, errOut := pgoci(t, bad...); code != 2 || !strings.Contains(errOut, "mirror") {
			t.Errorf("pgoci %q: exit %d, stderr %q; want a usage error about --mirror", bad, code, errOut)
		}
	}
}
