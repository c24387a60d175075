package extension

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/resolve"
)

// TestLockFilePinning: a later install of the same reference gets the
// pinned digest even after the tag moved; UpdateLock re-resolves; a pin
// that no longer fits the target is ErrPinned.
func TestLockFilePinning(t *testing.T) {
	srv := instRegistry(t)
	ref := srv.Host() + "/ext/cube:stable"
	old := instPush(t, srv, "ext/cube", "stable", "cube", 18, instFiles(instExt{name: "cube", version: "1.4"}))
	lock := filepath.Join(t.TempDir(), "lock.json")
	ctx := context.Background()
	install := func(call InstallOptions) (Result, error) {
		return installAt(ctx, ref, instTarget(18), RootOptions{Root: t.TempDir(), LockFile: lock, CacheDir: "-"}, call)
	}
	if res, err := install(InstallOptions{}); err != nil || res.Packages[0].Index != old {
		t.Fatalf("first install: %+v, %v", res.Packages, err)
	}
	moved := instPush(t, srv, "ext/cube", "stable", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	res, err := install(InstallOptions{})
	if err != nil || res.Packages[0].Index != old || res.Packages[0].Version != "1.4" {
		t.Fatalf("pinned install: %+v, %v; want index %s", res.Packages, err, old)
	}
	res, err = install(InstallOptions{UpdateLock: true})
	if err != nil || res.Packages[0].Index != moved || res.Packages[0].Version != "1.5" {
		t.Fatalf("UpdateLock install: %+v, %v; want index %s", res.Packages, err, moved)
	}
	if res, err := install(InstallOptions{}); err != nil || res.Packages[0].Index != moved {
		t.Fatalf("install after the update: %+v, %v", res.Packages, err)
	}
	lf, err := readLockFile(lock)
	if err != nil || lf.Packages["cube"].Index != moved || lf.Packages["cube"].Reference != ref {
		t.Errorf("lock file: %+v, %v", lf, err)
	}
	// The pinned image is for amd64: an arm64 server cannot use it.
	arm := instTarget(18)
	arm.Platform = ocispec.Platform{OS: "linux", Architecture: "arm64"}
	if _, err := installAt(ctx, ref, arm, RootOptions{Root: t.TempDir(), LockFile: lock, CacheDir: "-"}); !errors.Is(err, ErrPinned) {
		t.Errorf("pinned digest for another platform: %v, want ErrPinned", err)
	}
	// "-" disables the lock file: the default one is not written either.
	root := t.TempDir()
	if _, err := installAt(ctx, ref, instTarget(18), RootOptions{Root: root, LockFile: "-", CacheDir: "-"}); err != nil {
		t.Fatal(err)
	}
	if lf, _ := readLockFile(filepath.Join(root, ".pgoci", "lock.json")); len(lf.Packages) != 0 {
		t.Errorf("lock file written with LockFile \"-\": %+v", lf)
	}
}

// FuzzLockFile reads arbitrary lock files: an error or a lock file whose
// pins are references with a valid digest, never a panic.
func FuzzLockFile(f *testing.F) {
	f.Add([]byte(`{"packages":{"cube":{"reference":"r.example/ext/cube:1.5","digest":"sha256:`+strings.Repeat("a", 64)+`"}}}`), "r.example/ext/cube:1.5")
	f.Add([]byte(`{"packages":{"x":{"reference":"oci:/m/x","digest":"sha256:zz","index":"md5:1"}}}`), "oci:/m/x")
	f.Add([]byte(`{"packages":null}`), "")
	f.Add([]byte(`[]`), "x")
	f.Fuzz(func(t *testing.T, data []byte, ref string) {
		p := filepath.Join(t.TempDir(), "lock.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		lf, err := readLockFile(p)
		if err != nil {
			if !errors.Is(err, ErrState) {
				t.Fatalf("error %v does not wrap ErrState", err)
			}
			return
		}
		pin, _, ok := pinnedRef(lf, ref, "")
		if !ok {
			return
		}
		r, err := resolve.ParseReference(pin)
		if err != nil || r.Digest.Validate() != nil {
			t.Fatalf("pinned %q from %q: %v", pin, ref, err)
		}
	})
}

// FuzzRecord reads arbitrary install records: a record of the right name,
// or a damaged record reported with an error wrapping ErrState, never a
// panic.
func FuzzRecord(f *testing.F) {
	f.Add([]byte(`{"name":"cube","manifest":"sha256:` + strings.Repeat("b", 64) + `","files":[{"path":"lib/cube.so","size":3}]}`))
	f.Add([]byte(`{"name":"other"}`))
	f.Add([]byte(`{"name":"cube","files":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		loc := location{state: t.TempDir()}
		if err := loc.prepare(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(loc.recordPath("cube"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		recs, damaged, err := loc.readState()
		if err != nil {
			t.Fatal(err)
		}
		if why, bad := damaged["cube"]; bad {
			if !errors.Is(why, ErrState) || len(recs) != 0 {
				t.Fatalf("damaged: %v (wraps ErrState: %v), records %v", why, errors.Is(why, ErrState), recs)
			}
			return
		}
		if recs["cube"].Name != "cube" {
			t.Fatalf("record named %q", recs["cube"].Name)
		}
	})
}
