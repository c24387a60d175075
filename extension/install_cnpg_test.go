package extension

import (
	"bytes"

	"context"
	"encoding/json"
	"errors"
	"github.com/opencontainers/go-digest"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/tartest"
	"pgoci/internal/testregistry"
	"pgoci/labels"
	"pgoci/unpack"
)

// pushCNPG pushes files as a CloudNativePG extension image: one gzip
// layer in the image root layout, CloudNativePG's labels and nothing of
// pgoci's (the shape postgres-extensions-containers builds).
func pushCNPG(t *testing.T, srv *testregistry.Server, repo, tag string, files map[string]string) {
	t.Helper()
	var entries []tartest.Entry
	for _, p := range slices.Sorted(maps.Keys(files)) {
		entries = append(entries, tartest.File(p, files[p]))
	}
	pushCNPGEntries(t, srv, repo, tag, entries)
}

// pushCNPGEntries pushes entries as the one layer of a CloudNativePG image.
func pushCNPGEntries(t *testing.T, srv *testregistry.Server, repo, tag string, entries []tartest.Entry) {
	t.Helper()
	pushEntries(t, srv, repo, tag, map[string]string{
		labels.KeyCNPGBaseName:    "ghcr.io/cloudnative-pg/postgresql:18-minimal-trixie",
		labels.KeyCNPGBasePGMajor: "18",
		labels.KeyCNPGBaseOS:      "trixie",
	}, entries)
}

// pushEntries pushes entries as the one gzip layer of a linux/amd64
// image whose manifest annotations and config labels are ann, built by
// hand so that it may hold what Pack refuses.
func pushEntries(t *testing.T, srv *testregistry.Server, repo, tag string, ann map[string]string, entries []tartest.Entry) {
	t.Helper()
	tarball, err := tartest.Build(entries...)
	if err != nil {
		t.Fatal(err)
	}
	layer := tartest.Gzip(tarball)
	layerDesc := tartest.Descriptor(ocispec.MediaTypeImageLayerGzip, layer)
	config, _ := json.Marshal(ocispec.Image{Platform: instAmd64, Config: ocispec.ImageConfig{Labels: ann},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(tarball)}}})
	configDesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, config)
	manifest, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest, Config: configDesc, Layers: []ocispec.Descriptor{layerDesc}, Annotations: ann})
	r, err := remote.NewRepository(srv.Host() + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	ctx := context.Background()
	for _, b := range []struct {
		d    ocispec.Descriptor
		data []byte
	}{{layerDesc, layer}, {configDesc, config}} {
		if err := pushBlob(ctx, r, b.d, bytes.NewReader(b.data)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := oras.TagBytes(ctx, r, ocispec.MediaTypeImageManifest, manifest, tag); err != nil {
		t.Fatal(err)
	}
}

// TestInstallCloudNativePGImage: an image labelled only by CloudNativePG
// (no package name, no extension list) installs; its extensions and their
// requires come from its control files, and a required extension is
// installed first from the repository next to it.
func TestInstallCloudNativePGImage(t *testing.T) {
	srv := instRegistry(t)
	pushCNPG(t, srv, "cnpg/cube", "1.5-18-trixie", map[string]string{
		"share/extension/cube.control":  "default_version = '1.5'\nmodule_pathname = '$libdir/cube'\nrelocatable = true\ntrusted = true\n",
		"share/extension/cube--1.5.sql": "CREATE FUNCTION cube_in(cstring) RETURNS cube AS 'MODULE_PATHNAME' LANGUAGE C;\n",
		"lib/cube.so":                   instModule("cube"),
		"licenses/cube/copyright":       "PostgreSQL license",
	})
	pushCNPG(t, srv, "cnpg/earthdistance", "1.2-18-trixie", map[string]string{
		"share/extension/earthdistance.control":  "default_version = '1.2'\nmodule_pathname = '$libdir/earthdistance'\nrelocatable = true\nrequires = 'cube'\n",
		"share/extension/earthdistance--1.2.sql": "SELECT 1;\n",
		"lib/earthdistance.so":                   instModule("earthdistance"),
	})
	root := filepath.Join(t.TempDir(), "root")
	res, err := installAt(context.Background(), srv.Host()+"/cnpg/earthdistance:1.2-18-trixie", instTarget(18), instOptions(t, root))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := instNames(res.Packages), []string{"cube installed", "earthdistance installed"}; !slices.Equal(got, want) {
		t.Fatalf("installed %v, want %v", got, want)
	}
	ed := res.Packages[1]
	if len(ed.Extensions) != 1 || ed.Extensions[0].Version != "1.2" || !slices.Equal(ed.Extensions[0].Requires, []string{"cube"}) {
		t.Errorf("earthdistance record extensions = %+v, want earthdistance 1.2 requiring cube (from its control file)", ed.Extensions)
	}
	for _, p := range []string{"share/extension/cube.control", "share/extension/earthdistance.control", "lib/earthdistance.so"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("merged view lacks %s: %v", p, err)
		}
	}
	// Installing it again is a no-op, and uninstalling cube is refused
	// while earthdistance needs it.
	again, err := installAt(context.Background(), srv.Host()+"/cnpg/earthdistance:1.2-18-trixie", instTarget(18), instOptions(t, root))
	if err != nil {
		t.Fatal(err)
	}
	if got := instNames(again.Packages); !slices.Contains(got, "earthdistance unchanged") {
		t.Errorf("second install: %v, want earthdistance unchanged", got)
	}
	if _, err := uninstallAt(context.Background(), "cube", RootOptions{Root: root}); err == nil {
		t.Errorf("uninstalling cube while earthdistance requires it succeeded")
	}
}

// TestInstallRefusesSymlinkedParents: extension images never need to
// write through a symlinked directory, so the installer unpacks strictly
// and the root stays as it was.
func TestInstallRefusesSymlinkedParents(t *testing.T) {
	srv := instRegistry(t)
	pushCNPGEntries(t, srv, "evil/x", "1", []tartest.Entry{
		tartest.Symlink("share/extension", "../../../etc"),
		tartest.File("share/extension/x.control", "default_version = '1'\n"),
	})
	root := filepath.Join(t.TempDir(), "root")
	_, err := installAt(context.Background(), srv.Host()+"/evil/x:1", instTarget(18), instOptions(t, root))
	if !errors.Is(err, unpack.ErrSymlinkParent) && !errors.Is(err, unpack.ErrLinkEscapes) {
		t.Fatalf("err = %v, want the unpacker's refusal", err)
	}
	if list := instList(t, RootOptions{Root: root}); len(list) != 0 {
		t.Errorf("installed %v", list)
	}
}
