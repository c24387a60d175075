package extension

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"

	"pgoci/internal/testregistry"
)

// instRequests renders the request log as "METHOD path" lines, the
// registry host left out.
func instRequests(srv *testregistry.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// TestInstallCache: a repeated install of the same digest into another
// root makes no request at all; by tag, only the tag's index is fetched.
func TestInstallCache(t *testing.T) {
	srv := instRegistry(t)
	idx := instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	cache := filepath.Join(t.TempDir(), "cache")
	ctx := context.Background()
	install := func(ref string) {
		t.Helper()
		_, err := installAt(ctx, ref, instTarget(18), RootOptions{Root: t.TempDir(), CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
	}
	byDigest := srv.Host() + "/ext/cube@" + idx.String()
	srv.ResetRequests()
	install(byDigest)
	if n := len(srv.Requests()); n != 4 {
		t.Errorf("cold install by digest: %d requests, want 4 (index, manifest, config, layer): %v", n, instRequests(srv))
	}
	srv.ResetRequests()
	install(byDigest)
	if got := instRequests(srv); len(got) != 0 {
		t.Errorf("warm install by digest made requests: %v", got)
	}
	install(srv.Host() + "/ext/cube:1.5")
	if diff := cmp.Diff([]string{"GET /v2/ext/cube/manifests/1.5"}, instRequests(srv)); diff != "" {
		t.Errorf("warm install by tag (-want +got):\n%s", diff)
	}
}

// TestCacheCorruptEntry: a cached blob that no longer hashes to its name
// fails the read, is removed, and the next install fetches it again.
func TestCacheCorruptEntry(t *testing.T) {
	srv := instRegistry(t)
	idx := instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	cache := filepath.Join(t.TempDir(), "cache")
	ctx := context.Background()
	ref := srv.Host() + "/ext/cube@" + idx.String()
	res, err := installAt(ctx, ref, instTarget(18), RootOptions{Root: t.TempDir(), CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	// The cache holds the index, the manifest, the config and the layer.
	entries, _ := os.ReadDir(filepath.Join(cache, "blobs", "sha256"))
	if len(entries) != 4 {
		t.Fatalf("cache holds %d blobs, want 4", len(entries))
	}
	layer := filepath.Join(cache, "blobs", "sha256", res.Packages[0].Resolved[strings.LastIndex(res.Packages[0].Resolved, ":")+1:])
	if m, err := os.ReadFile(layer); err == nil {
		// Resolved names the manifest: its first layer is the blob to spoil.
		var man struct{ Layers []struct{ Digest string } }
		json.Unmarshal(m, &man)
		layer = filepath.Join(cache, "blobs", "sha256", strings.TrimPrefix(man.Layers[0].Digest, "sha256:"))
	}
	b, _ := os.ReadFile(layer)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(layer, b, 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if _, err := installAt(ctx, ref, instTarget(18), RootOptions{Root: root, CacheDir: cache}); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("install from a corrupt cache: %v, want an error saying corrupt", err)
	}
	if _, err := os.Stat(layer); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("corrupt blob still cached: %v", err)
	}
	if _, err := installAt(ctx, ref, instTarget(18), RootOptions{Root: root, CacheDir: cache}); err != nil {
		t.Fatalf("install after the corrupt blob was dropped: %v", err)
	}
	if b, err := os.ReadFile(layer); err != nil || digest.FromBytes(b).Encoded() != filepath.Base(layer) {
		t.Errorf("the layer was not cached again, verified: %v", err)
	}
}

// TestInstallFaults injects faults into the layer transfer: the install
// fails, the root is as it was, the cache holds no bad blob, and the
// install succeeds once the registry behaves.
func TestInstallFaults(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.4", "cube", 18, instFiles(instExt{name: "cube", version: "1.4"}))
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		kind testregistry.FaultKind
	}{
		{"truncate", testregistry.FaultTruncate},
		{"corrupt", testregistry.FaultCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			opts := instOptions(t, root)
			if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.4", instTarget(18), opts); err != nil {
				t.Fatal(err)
			}
			before := instSnapshot(t, root)
			if err := srv.AddFault(testregistry.Fault{Kind: tc.kind, Method: "GET", Path: "/blobs/", Times: -1}); err != nil {
				t.Fatal(err)
			}
			_, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), opts)
			srv.ClearFaults()
			if err == nil {
				t.Fatal("install through a faulty registry succeeded")
			}
			if diff := cmp.Diff(before, instSnapshot(t, root)); diff != "" {
				t.Errorf("failed upgrade changed the root (-before +after):\n%s", diff)
			}
			res, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), opts)
			if err != nil || res.Packages[0].Action != ActionUpgraded {
				t.Fatalf("install after the fault: %+v, %v", res.Packages, err)
			}
			if drift, err := verifyAt(ctx, RootOptions{Root: root}); err != nil || drift != nil {
				t.Errorf("Verify = %+v, %v", drift, err)
			}
		})
	}
	t.Run("reset once, retried", func(t *testing.T) {
		root := t.TempDir()
		if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultReset, Method: "GET", Path: "/blobs/"}); err != nil {
			t.Fatal(err)
		}
		if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), instOptions(t, root)); err != nil {
			t.Fatalf("one reset should be retried: %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		root := t.TempDir()
		cctx, cancel := context.WithCancel(ctx)
		opts := instOptions(t, root)
		opts.Events = func(e Event) {
			if e.Kind == EventResolve {
				cancel()
			}
		}
		if _, err := installAt(cctx, srv.Host()+"/ext/cube:1.5", instTarget(18), opts); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if list := instList(t, RootOptions{Root: root}); len(list) != 0 {
			t.Errorf("cancelled install left %v", list)
		}
		entries, _ := os.ReadDir(filepath.Join(root, ".pgoci", "tmp"))
		if len(entries) != 0 {
			t.Errorf("cancelled install left %d entries in tmp", len(entries))
		}
	})
}
