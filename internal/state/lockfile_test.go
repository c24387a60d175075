package state

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLockFileRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "lock.json")
	lf, err := ReadLockFile(p)
	if err != nil || len(lf.Packages) != 0 {
		t.Fatalf("missing lock file: %v, %v; want empty", lf, err)
	}
	a := Pin{Reference: "ghcr.io/acme/cube:1.5", Digest: "sha256:aa"}
	if err := WriteLockFile(p, lf, map[string]Pin{"cube": a}); err != nil {
		t.Fatal(err)
	}
	lf, err = ReadLockFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if name, e, ok := lf.PinnedAs(a.Reference, ""); !ok || name != "cube" || e != a {
		t.Errorf("PinnedAs = %q, %+v, %v; want cube", name, e, ok)
	}
	if _, _, ok := lf.PinnedAs(a.Reference, ">=2"); ok {
		t.Error("PinnedAs matched another version constraint")
	}
	// The same reference pinned under another name replaces the old pin.
	lf.PinAs("cube2", a)
	if _, ok := lf.Packages["cube"]; ok || len(lf.Packages) != 1 {
		t.Errorf("PinAs kept the old pin: %v", lf.Packages)
	}
}

func TestReadLockFileDamaged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock.json")
	if err := os.WriteFile(p, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadLockFile(p)
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		t.Errorf("damaged lock file: %v, want a JSON syntax error naming the file", err)
	}
}
