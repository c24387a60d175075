package main

import (
	"strings"
	"testing"

	"pgoci/internal/demo"
)

// packNoIndex runs pack --no-index and returns the digest it prints,
// checking that the digest is all stdout holds.
func packNoIndex(t *testing.T, ref string, flags ...string) string {
	t.Helper()
	code, out, errOut := pgoci(t, append([]string{"pack", "--no-index", demoDir(t, flagArch(flags)), ref}, flags...)...)
	digest := strings.TrimSuffix(out, "\n")
	if code != 0 || !strings.HasPrefix(digest, "sha256:") || strings.Contains(digest, "\n") || !strings.Contains(errOut, "packed ") {
		t.Fatalf("pack --no-index: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	return digest
}

// TestIndexFromParallelPacks: per-platform images pushed by digest, then
// one index over them, resolve as the index pack builds would.
func TestIndexFromParallelPacks(t *testing.T) {
	srv := serveRegistry(t)
	repo := srv.Host() + "/ext/pgoci_demo"
	ref := repo + ":" + demo.Version
	amd64 := packNoIndex(t, ref, packFlags("amd64")...)
	arm64 := packNoIndex(t, ref, packFlags("arm64")...)
	if code, _, errOut := pgoci(t, "resolve", ref, "--pg-major", "18"); code != 1 {
		t.Fatalf("pack --no-index tagged %s: resolve exit %d, stderr %q", ref, code, errOut)
	}

	out := mustRun(t, "index", ref, amd64, arm64)
	if !strings.HasPrefix(out, "pushed "+ref+" sha256:") {
		t.Fatalf("index printed %q", out)
	}
	index := strings.TrimSpace(strings.TrimPrefix(out, "pushed "+ref))
	for arch, want := range map[string]string{"amd64": amd64, "arm64": arm64} {
		got := mustRun(t, "resolve", ref, "--pg-major", "18", "--platform", "linux/"+arch, "--libc", "glibc-2.36")
		if got != repo+"@"+want+"\n" {
			t.Errorf("resolve for linux/%s = %q, want %s@%s", arch, got, repo, want)
		}
	}

	// The same index as packs merging one after the other make, and the
	// package version as the tag when REF has none.
	mustRun(t, append([]string{"pack", demoDir(t, "arm64"), repo + ":merged"}, packFlags("arm64")...)...)
	merged := mustRun(t, append([]string{"pack", demoDir(t, "amd64"), repo + ":merged"}, packFlags("amd64")...)...)
	if !strings.HasSuffix(merged, " "+index+"\n") {
		t.Errorf("index made %s; packs merging into a tag made:\n%s", index, merged)
	}
	if out := mustRun(t, "index", repo, arm64, amd64); out != "pushed "+ref+" "+index+"\n" {
		t.Errorf("index without a tag printed %q, want the same index tagged %s", out, demo.Version)
	}
}

func TestIndexRefuses(t *testing.T) {
	srv := serveRegistry(t)
	repo := srv.Host() + "/ext/pgoci_demo"
	amd64 := packNoIndex(t, repo, packFlags("amd64")...)
	rebuilt := packNoIndex(t, repo, append(packFlags("amd64"), "--annotation", "build=2")...)
	index := strings.Fields(mustRun(t, "index", repo+":v1", amd64))[2]
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no digest", []string{repo + ":v1"}, 2, "want REF and at least one DIGEST"},
		{"not a digest", []string{repo + ":v1", "latest"}, 2, `DIGEST "latest"`},
		{"REF with a digest", []string{repo + "@" + amd64, amd64}, 2, "want a tag, not a digest"},
		{"an index", []string{repo + ":v2", index}, 1, "not an image manifest"},
		{"two builds for one slot", []string{repo + ":v2", amd64, rebuilt}, 1, "are both built for PostgreSQL 18 linux/amd64 glibc debian-12"},
		{"unknown digest", []string{repo + ":v2", "sha256:" + strings.Repeat("0", 64)}, 1, "manifest sha256:0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := pgoci(t, append([]string{"index"}, tt.args...)...)
			if code != tt.code || out != "" || !strings.Contains(errOut, tt.want) {
				t.Errorf("pgoci index %s: exit %d, stdout %q, stderr %q; want exit %d and %q",
					strings.Join(tt.args, " "), code, out, errOut, tt.code, tt.want)
			}
		})
	}
}

// flagArch is the architecture a --platform linux/ARCH flag names.
func flagArch(flags []string) string {
	for k, f := range flags {
		if f == "--platform" && k+1 < len(flags) {
			return strings.TrimPrefix(flags[k+1], "linux/")
		}
	}
	return "amd64"
}
