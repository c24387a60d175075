package extension

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRootLogsCleanupFailures: what pgoci fails to clean up (a leftover it
// cannot remove) reaches RootOptions.Logger with the path and the error,
// instead of vanishing.
func TestRootLogsCleanupFailures(t *testing.T) {
	var buf bytes.Buffer
	r, err := Open(context.Background(), RootOptions{Root: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r.logCleanup("remove staged package", "/x/staged", errors.New("read-only file system"))
	r.logCleanup("remove staged package", "/x/other", nil)
	out := buf.String()
	if !strings.Contains(out, "/x/staged") || !strings.Contains(out, "read-only file system") || strings.Contains(out, "/x/other") {
		t.Errorf("log:\n%s\nwant the failure, with its path and error, and nothing for the success", out)
	}
}

// TestOpenRunsPGConfigOnce: a Root runs pg_config once, however many
// calls it serves; the target is detected on first need only.
func TestOpenRunsPGConfigOnce(t *testing.T) {
	pgConfig, _ := instServer(t)
	count := filepath.Join(t.TempDir(), "count")
	wrapper := filepath.Join(t.TempDir(), "pg_config")
	script := "#!/bin/sh\necho x >> " + count + "\nexec " + pgConfig + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := Open(ctx, RootOptions{PGConfig: wrapper, CacheDir: "-"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := r.List(ctx); err != nil && !errors.Is(err, ErrNoState) {
			t.Fatal(err)
		}
	}
	target, err := r.Target(ctx)
	if err != nil || target.PG.Major != 17 {
		t.Fatalf("target %v, %v; want PostgreSQL 17 from pg_config", target, err)
	}
	b, _ := os.ReadFile(count)
	if n := strings.Count(string(b), "x"); n != 1 {
		t.Errorf("pg_config ran %d times, want 1", n)
	}
}

// TestRefusedInstallLeavesNewRootEmpty: an install refused before any
// layer is fetched (no image fits the target) leaves a new root exactly
// as empty as it was: not even the state directory appears.
func TestRefusedInstallLeavesNewRootEmpty(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	root := t.TempDir()
	arm := instTarget(18)
	arm.Platform.Architecture = "arm64"
	if _, err := installAt(context.Background(), srv.Host()+"/ext/cube:1.5", arm, RootOptions{Root: root, CacheDir: "-"}); err == nil {
		t.Fatal("an amd64-only image installed for arm64")
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("the refused install left %d entries in the new root, the first %s", len(entries), entries[0].Name())
	}
}
