package extension

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestInstallConcurrent runs eight installs into one root at once: four
// of the same package, four of different ones. Every one succeeds, the
// same package is committed once, and the root verifies clean.
func TestInstallConcurrent(t *testing.T) {
	srv := instRegistry(t)
	refs := make([]string, 8)
	for k := range refs {
		name := "cube"
		if k >= 4 {
			name = fmt.Sprintf("pkg%d", k)
		}
		if k == 0 || k >= 4 {
			instPush(t, srv, "ext/"+name, "1.0", name, 18, instFiles(instExt{name: name, version: "1.0"}))
		}
		refs[k] = srv.Host() + "/ext/" + name + ":1.0"
	}
	root := t.TempDir()
	cache := filepath.Join(t.TempDir(), "cache")
	ctx := context.Background()
	results := make([]Result, len(refs))
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for k, ref := range refs {
		wg.Go(func() {
			results[k], errs[k] = installAt(ctx, ref, instTarget(18), RootOptions{Root: root, CacheDir: cache})
		})
	}
	wg.Wait()
	installed := 0
	for k, err := range errs {
		if err != nil {
			t.Errorf("install %s: %v", refs[k], err)
			continue
		}
		if results[k].Packages[0].Name == "cube" && results[k].Packages[0].Action == ActionInstalled {
			installed++
		}
	}
	if installed != 1 {
		t.Errorf("cube committed %d times, want once", installed)
	}
	list, err := listAt(ctx, RootOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range list {
		names = append(names, r.Name)
	}
	if diff := cmp.Diff([]string{"cube", "pkg4", "pkg5", "pkg6", "pkg7"}, names); diff != "" {
		t.Errorf("installed (-want +got):\n%s", diff)
	}
	if drift, err := verifyAt(ctx, RootOptions{Root: root}); err != nil || drift != nil {
		t.Errorf("Verify = %+v, %v", drift, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, ".pgoci", "tmp")); len(entries) != 0 {
		t.Errorf("tmp holds %d entries after the installs", len(entries))
	}
	lf, err := readLockFile(filepath.Join(root, ".pgoci", "lock.json"))
	if err != nil || len(lf.Packages) != 5 {
		t.Errorf("lock file has %d packages, want 5 (no entry lost): %v", len(lf.Packages), err)
	}
}

// instChildEnv makes the test binary an installing child process (see
// TestInstallHelperProcess).
const instChildEnv = "PGOCI_TEST_INSTALL_CHILD"

// TestInstallHelperProcess is not a test: run by TestInstallKilled as a
// child process (with instChildEnv set to a JSON job), it installs and
// prints each event kind as it happens, slowly, so the parent can kill it
// mid-unpack. Without the variable it returns at once.
func TestInstallHelperProcess(t *testing.T) {
	job := os.Getenv(instChildEnv)
	if job == "" {
		return
	}
	var j struct{ Ref, Root, PGConfig, Cache, StallAt string }
	if err := json.Unmarshal([]byte(job), &j); err != nil {
		t.Fatal(err)
	}
	if j.StallAt != "" {
		// Hold the commit at one step until the parent kills us.
		commitStep = func(step string) error {
			if step == j.StallAt {
				fmt.Println("stalled", step)
				time.Sleep(time.Hour)
			}
			return nil
		}
	}
	target := instTarget(18)
	if j.PGConfig != "" {
		target = instTarget(17)
	}
	opts := RootOptions{Root: j.Root, PGConfig: j.PGConfig, CacheDir: j.Cache, Events: func(e Event) {
		fmt.Printf("%s %d\n", e.Kind, e.Bytes)
		if e.Kind == EventFetch {
			time.Sleep(100 * time.Millisecond) // slow unpacking down
		}
	}}
	_, err := installAt(context.Background(), j.Ref, target, opts)
	fmt.Println("finished", err)
	os.Exit(0)
}

// TestInstallKilled kills (SIGKILL) a child process in the middle of
// unpacking a large layer: nothing of the package is visible in the root,
// and the next install removes the child's leftovers.
func TestInstallKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("packs a 24 MiB layer")
	}
	srv := instRegistry(t)
	big := make([]byte, 24<<20)
	rand.Read(big) // incompressible: the layer stays big
	files := instFiles(instExt{name: "bigext", version: "1.0"})
	files["lib/bigext.so"] = string(big)
	instPush(t, srv, "ext/bigext", "1.0", "bigext", 18, files)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	root, cache := t.TempDir(), filepath.Join(t.TempDir(), "cache")
	job, _ := json.Marshal(map[string]string{"Ref": srv.Host() + "/ext/bigext:1.0", "Root": root, "Cache": cache})
	cmd := exec.Command(os.Args[0], "-test.run=^TestInstallHelperProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), instChildEnv+"="+string(job))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill at the second progress event: bytes are being unpacked.
	var seen []string
	buf := make([]byte, 4096)
	fetches := 0
	for fetches < 2 {
		n, err := out.Read(buf)
		if err != nil {
			t.Fatalf("child ended before unpacking: %v; output %q", err, seen)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
			seen = append(seen, line)
			if strings.HasPrefix(line, "fetch ") {
				fetches++
			}
			if strings.HasPrefix(line, "finished") || strings.HasPrefix(line, "commit") {
				t.Fatalf("child got too far before the kill: %q", seen)
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	visible := instSnapshot(t, root, ".pgoci")
	want := map[string]string{".": "dir -rwxr-xr-x"} // the root as it was, but for its state directory
	if diff := cmp.Diff(want, visible); diff != "" {
		t.Errorf("killed install left something visible (-want +got):\n%s", diff)
	}
	tmp := filepath.Join(root, ".pgoci", "tmp")
	if entries, _ := os.ReadDir(tmp); len(entries) == 0 {
		t.Error("the killed child left no staging: was it killed mid-unpack?")
	}
	if list := instList(t, RootOptions{Root: root}); len(list) != 0 {
		t.Errorf("killed install recorded %v", list)
	}
	if _, err := installAt(context.Background(), srv.Host()+"/ext/cube:1.5", instTarget(18), RootOptions{Root: root, CacheDir: cache}); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the next install left the killed child's leftovers: %v", names)
	}
	if entries, _ := os.ReadDir(filepath.Join(cache, "tmp")); len(entries) > 1 {
		t.Errorf("cache tmp holds %d partial blobs", len(entries))
	}
}
