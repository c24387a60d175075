package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/blobcache"
	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "1024", want: 1024},
		{in: "500MB", want: 500_000_000},
		{in: "500mb", want: 500_000_000},
		{in: "500M", want: 500_000_000},
		{in: "2GiB", want: 2 << 30},
		{in: "2gi", want: 2 << 30},
		{in: "1.5G", want: 1_500_000_000},
		{in: "1.5KiB", want: 1536},
		{in: "10 kB", want: 10_000},
		{in: "7B", want: 7},
		{in: "0.3B", want: 0},
		{in: "8EiB", bad: true},
		{in: "9223372036854775808", bad: true},
		{in: "", bad: true},
		{in: "MB", bad: true},
		{in: "-1", bad: true},
		{in: "12XB", bad: true},
		{in: "1.2.3MB", bad: true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if tt.bad != (err != nil) || (!tt.bad && got != tt.want) {
			t.Errorf("parseSize(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// fillCache stores five 100-byte blobs, blob 0 used longest ago.
func fillCache(t *testing.T, dir string) []digest.Digest {
	t.Helper()
	c, err := blobcache.Open(dir, blobcache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ds []digest.Digest
	for k := range 5 {
		b := bytes.Repeat([]byte{byte('a' + k)}, 100)
		d := ocispec.Descriptor{Digest: digest.FromBytes(b), Size: 100}
		if err := c.Push(context.Background(), d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-time.Duration(5-k) * time.Hour)
		if err := os.Chtimes(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()), at, at); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d.Digest)
	}
	return ds
}

func TestCacheDuPrune(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if out := mustRun(t, "cache", "du", "--cache", dir); out != dir+": 0 blob(s), 0 B\n" {
		t.Errorf("du of a cache that does not exist yet: %q", out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("du created the cache: %v", err)
	}
	ds := fillCache(t, dir)
	if out := mustRun(t, "cache", "du", "--cache", dir); out != dir+": 5 blob(s), 500 B\n" {
		t.Errorf("du: %q", out)
	}
	var du struct {
		Dir   string
		Blobs int
		Size  int64
	}
	if err := json.Unmarshal([]byte(mustRun(t, "cache", "du", "--cache", dir, "--json")), &du); err != nil || du.Dir != dir || du.Blobs != 5 || du.Size != 500 {
		t.Errorf("du --json: %+v, %v", du, err)
	}

	out := mustRun(t, "cache", "prune", "--cache", dir, "--max-size", "250B")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("prune printed %d lines, want 3 removals and a summary:\n%s", len(lines), out)
	}
	for k, d := range ds[:3] {
		if !strings.HasPrefix(lines[k], "removed "+d.String()+" 100 B, last used ") {
			t.Errorf("line %d: %q, want the removal of %s (least recently used first)", k+1, lines[k], d)
		}
	}
	if want := dir + ": 5 blob(s), 500 B before, 2 blob(s), 200 B after; 3 blob(s) removed, 300 B freed"; lines[3] != want {
		t.Errorf("summary %q, want %q", lines[3], want)
	}

	var res struct {
		Removed []struct{ Digest string }
		After   struct{ Blobs int }
	}
	if err := json.Unmarshal([]byte(mustRun(t, "cache", "prune", "--cache", dir, "--max-size", "0", "--json")), &res); err != nil ||
		len(res.Removed) != 2 || res.Removed[0].Digest != ds[3].String() || res.After.Blobs != 0 {
		t.Errorf("prune --max-size 0 --json: %+v, %v", res, err)
	}
	if out := mustRun(t, "cache", "du", "--cache", dir); out != dir+": 0 blob(s), 0 B\n" {
		t.Errorf("du after pruning everything: %q", out)
	}
}

// TestCacheDefaultDir: without --cache, the commands use the default
// location: $PGOCI_CACHE_DIR, else the user cache directory, else a
// private temporary directory (a container without HOME).
func TestCacheDefaultDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "env")
	t.Setenv(blobcache.EnvDir, dir)
	fillCache(t, dir)
	if out := mustRun(t, "cache", "du"); out != dir+": 5 blob(s), 500 B\n" {
		t.Errorf("du with $%s: %q", blobcache.EnvDir, out)
	}
	for _, v := range []string{blobcache.EnvDir, "HOME", "XDG_CACHE_HOME"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	if _, err := os.UserCacheDir(); err == nil {
		t.Skip("os.UserCacheDir works without HOME here")
	}
	want := filepath.Join(tmp, fmt.Sprintf("pgoci-cache-%d", os.Geteuid()))
	if out := mustRun(t, "cache", "du"); out != want+": 0 blob(s), 0 B\n" {
		t.Errorf("du without HOME: %q, want the cache in %s", out, want)
	}
}

func TestCacheUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"cache"}, "want one subcommand"},
		{[]string{"cache", "frob"}, `unknown subcommand "frob"`},
		{[]string{"cache", "prune", "--cache", dir}, "needs --max-size"},
		{[]string{"cache", "du", "--max-size", "1", "--cache", dir}, "--max-size is for cache prune"},
		{[]string{"cache", "prune", "--max-size", "12XB", "--cache", dir}, `size "12XB"`},
		{[]string{"cache", "du", "--cache", "-"}, "no cache"},
		{[]string{"install", "x", "--root", dir, "--cache", "-", "--cache-max-size", "1GB"}, "--cache-max-size needs a cache"},
	} {
		code, out, errOut := pgoci(t, tt.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, tt.msg) {
			t.Errorf("pgoci %s: exit %d, stdout %q, stderr %q; want exit 2 saying %q", strings.Join(tt.args, " "), code, out, errOut, tt.msg)
		}
	}
}

// TestInstallCacheMaxSize: install --cache-max-size bounds the cache as
// it fills: under a bound smaller than the package, the install works and
// the cache stays within the bound; under a larger one it holds it all.
func TestInstallCacheMaxSize(t *testing.T) {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ref := srv.Host() + "/ext/pgoci_demo:" + demo.Version
	mustRun(t, append([]string{"pack", demoDir(t, "amd64"), ref}, packFlags("amd64")...)...)
	target := []string{"--pg-major", "18", "--platform", "linux/amd64", "--libc", "glibc-2.36", "--lock-file", "-"}
	cache := filepath.Join(t.TempDir(), "cache")
	install := func(bound string) {
		t.Helper()
		mustRun(t, append([]string{"install", ref, "--root", t.TempDir(), "--cache", cache, "--cache-max-size", bound}, target...)...)
	}
	install("1KiB") // the manifest and the layer are larger: left out
	c, err := blobcache.Open(cache, blobcache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.Usage(context.Background())
	if err != nil || u.Size > 1024 || u.Blobs >= 4 {
		t.Fatalf("after install --cache-max-size 1KiB: %+v, %v; want less than the 4 blobs, within 1 KiB", u, err)
	}
	install("1MiB")
	if u, err = c.Usage(context.Background()); err != nil || u.Blobs != 4 || u.Size > 1<<20 {
		t.Fatalf("after install --cache-max-size 1MiB: %+v, %v; want the 4 blobs (index, manifest, config, layer)", u, err)
	}
	install("0") // no bound
}
