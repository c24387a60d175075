package extension

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"pgoci/internal/testregistry"
	"pgoci/unpack"
)

// TestUnpack: Unpack writes an image's files into a new directory and
// reports resolve, fetch and done events; a layer that fails its digest
// leaves no directory.
func TestUnpack(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	dir := filepath.Join(t.TempDir(), "out")
	var kinds []EventKind
	u, err := Unpack(context.Background(), srv.Host()+"/ext/cube:1.5", dir, UnpackOptions{Platform: instAmd64,
		Events: func(e Event) {
			if len(kinds) == 0 || kinds[len(kinds)-1] != e.Kind {
				kinds = append(kinds, e.Kind)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "share/extension/cube.control")); err != nil || len(b) == 0 {
		t.Errorf("cube.control: %v", err)
	}
	if u.Stats.Files == 0 || u.Resolved.Metadata.Package.Name != "cube" {
		t.Errorf("unpacked %+v of %s", u.Stats, u.Resolved.Metadata.Package.Name)
	}
	if want := []EventKind{EventResolve, EventFetch, EventDone}; len(kinds) != 3 || kinds[0] != want[0] || kinds[1] != want[1] || kinds[2] != want[2] {
		t.Errorf("events %v, want %v", kinds, want)
	}

	layer := u.Resolved.ManifestBody.Layers[0].Digest.Encoded()
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: "GET", Path: layer, Times: -1}); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	if _, err := Unpack(context.Background(), srv.Host()+"/ext/cube:1.5", bad, UnpackOptions{Platform: instAmd64}); !errors.Is(err, unpack.ErrDigestMismatch) && !errors.Is(err, unpack.ErrMediaTypeMismatch) {
		t.Errorf("corrupted layer: %v, want it refused by the unpacker's checks", err)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a failed unpack left %s: %v", bad, err)
	}
}
