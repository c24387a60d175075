package extension

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"

	"pgoci/internal/demo"
	"pgoci/labels"
)

const demoTree = "../layout/testdata/demo"

var (
	amd64 = ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
)

func demoBuild(p ocispec.Platform) Build {
	platform, meta := demo.Build(demo.Major, p.Architecture)
	return Build{Platform: platform, Metadata: meta}
}

func newStore(t *testing.T) *oci.Store {
	t.Helper()
	s, err := oci.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// packDemo packs the demo tree for two platforms, indexes and tags it.
func packDemo(t *testing.T, store *oci.Store, opts PackOptions) (ocispec.Descriptor, []Image) {
	t.Helper()
	ctx := context.Background()
	var images []Image
	for _, p := range []ocispec.Platform{arm64, amd64} {
		img, err := Pack(ctx, store, demoTree, demoBuild(p), opts)
		if err != nil {
			t.Fatalf("Pack(%s): %v", p.Architecture, err)
		}
		images = append(images, img)
	}
	idx, err := PushIndex(ctx, store, images, "1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	return idx, images
}

// TestPackMultiMajorIsReproducible packs the demo for two PostgreSQL
// majors and two platforms, twice, into two OCI layouts: the index bytes
// are identical.
func TestPackMultiMajorIsReproducible(t *testing.T) {
	pack := func() []byte {
		store := newStore(t)
		var images []Image
		for _, major := range []int{18, 17} {
			for _, arch := range []string{"arm64", "amd64"} {
				tree, err := demo.Tree(t.TempDir(), major, arch)
				if err != nil {
					t.Fatal(err)
				}
				platform, meta := demo.Build(major, arch)
				img, err := Pack(context.Background(), store, tree, Build{Platform: platform, Metadata: meta}, PackOptions{})
				if err != nil {
					t.Fatal(err)
				}
				images = append(images, img)
			}
		}
		idx, err := PushIndex(context.Background(), store, images, demo.Version)
		if err != nil {
			t.Fatal(err)
		}
		return fetchAll(t, store, idx)
	}
	first, second := pack(), pack()
	if !bytes.Equal(first, second) {
		t.Fatalf("two packs differ:\n%s\n%s", first, second)
	}
	var index ocispec.Index
	if err := json.Unmarshal(first, &index); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range index.Manifests {
		got = append(got, d.Annotations[labels.KeyPGMajor]+" "+d.Platform.Architecture)
	}
	if diff := cmp.Diff([]string{"17 amd64", "17 arm64", "18 amd64", "18 arm64"}, got); diff != "" {
		t.Errorf("index entries (-want +got):\n%s", diff)
	}
}

func TestPackIsReproducible(t *testing.T) {
	idx1, _ := packDemo(t, newStore(t), PackOptions{})
	idx2, _ := packDemo(t, newStore(t), PackOptions{})
	if idx1.Digest != idx2.Digest {
		t.Errorf("index digests differ between two packs of the same tree: %s vs %s", idx1.Digest, idx2.Digest)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	idx3, _ := packDemo(t, newStore(t), PackOptions{})
	if idx3.Digest == idx1.Digest {
		t.Errorf("SOURCE_DATE_EPOCH did not change the digest")
	}
}

func TestPackLayerContent(t *testing.T) {
	store := newStore(t)
	_, images := packDemo(t, store, PackOptions{ModTime: time.Unix(1234, 0)})
	img := images[0]
	if got := img.Layers[0].MediaType; got != ocispec.MediaTypeImageLayerZstd {
		t.Errorf("layer media type = %s, want zstd", got)
	}
	raw := fetchAll(t, store, img.Layers[0])
	dec, err := zstd.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	tarBytes, err := io.ReadAll(dec)
	if err != nil {
		t.Fatal(err)
	}
	if got := digest.FromBytes(tarBytes); got != img.DiffIDs[0] {
		t.Errorf("diff ID = %s, want the uncompressed digest %s", img.DiffIDs[0], got)
	}
	files, names := readTar(t, tarBytes)
	for _, h := range files {
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d:%d %q:%q, want 0:0 with no names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(time.Unix(1234, 0)) {
			t.Errorf("%s: mtime %v, want the stated one", h.Name, h.ModTime)
		}
		if want := map[byte]int64{tar.TypeDir: 0o755, tar.TypeReg: 0o644}[h.Typeflag]; want != 0 && h.Mode != want && h.Mode != 0o755 {
			t.Errorf("%s: mode %o, want normalised 0644 or 0755", h.Name, h.Mode)
		}
	}
	for _, want := range []string{"lib/", "lib/demo.so", "lib/bitcode/demo.index.bc", "share/", "share/extension/",
		"share/extension/demo.control", "share/extension/demo--1.0--1.1.sql", "share/extension/demo_extra.control"} {
		if !slices.Contains(names, want) {
			t.Errorf("layer lacks %s; has %v", want, names)
		}
	}
	if !slices.IsSortedFunc(names, func(a, b string) int {
		return strings.Compare(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
	}) {
		t.Errorf("layer entries are not sorted: %v", names)
	}
	control := files["share/extension/demo.control"].content
	if !strings.Contains(control, "module_pathname = 'demo'") {
		t.Errorf("demo.control not rewritten for dynamic_library_path:\n%s", control)
	}
}

func TestPackLabels(t *testing.T) {
	store := newStore(t)
	idx, images := packDemo(t, store, PackOptions{Annotations: map[string]string{"com.example.team": "db"}})
	var manifest ocispec.Manifest
	if err := json.Unmarshal(fetchAll(t, store, images[0].Manifest), &manifest); err != nil {
		t.Fatal(err)
	}
	meta, err := labels.Parse(manifest.Annotations)
	if err != nil {
		t.Fatalf("manifest annotations do not parse: %v", err)
	}
	if meta.Package != (labels.Package{Name: "pgoci_demo", Version: "1.1.0"}) {
		t.Errorf("package = %+v, want pgoci_demo 1.1.0", meta.Package)
	}
	var names []string
	for _, e := range meta.Extensions {
		names = append(names, e.Name)
	}
	if diff := cmp.Diff([]string{"demo", "demo_extra"}, names); diff != "" {
		t.Errorf("extensions (-want +got):\n%s", diff)
	}
	if e, _ := meta.Extension("demo_extra"); !slices.Equal(e.Requires, []string{"demo"}) || e.Version != "1.0" {
		t.Errorf("demo_extra = %+v, want version 1.0 requiring demo", e)
	}
	if meta.Extra["com.example.team"] != "db" {
		t.Errorf("extra annotation lost: %v", meta.Extra)
	}
	var config ocispec.Image
	if err := json.Unmarshal(fetchAll(t, store, manifest.Config), &config); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(manifest.Annotations, config.Config.Labels); diff != "" {
		t.Errorf("config labels differ from manifest annotations (-manifest +config):\n%s", diff)
	}
	if config.Architecture != "arm64" || config.Variant != "v8" || config.OS != "linux" {
		t.Errorf("config platform = %s/%s/%s, want linux/arm64/v8", config.OS, config.Architecture, config.Variant)
	}
	var index ocispec.Index
	if err := json.Unmarshal(fetchAll(t, store, idx), &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Manifests) != 2 {
		t.Fatalf("index lists %d manifests, want 2", len(index.Manifests))
	}
	for _, d := range index.Manifests {
		if d.Platform == nil || d.Annotations[labels.KeyPGMajor] != "18" || d.Annotations[labels.KeyLibcFamily] != "glibc" {
			t.Errorf("index entry %s lacks platform or selection annotations: %+v %v", d.Digest, d.Platform, d.Annotations)
		}
	}
	if got := index.Manifests[0].Platform.Architecture; got != "amd64" {
		t.Errorf("index order: first entry is %s, want amd64 (stable order)", got)
	}
}

func TestPackGzip(t *testing.T) {
	store := newStore(t)
	img, err := Pack(context.Background(), store, demoTree, demoBuild(amd64), PackOptions{Compression: Gzip})
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Layers[0].MediaType; got != ocispec.MediaTypeImageLayerGzip {
		t.Errorf("media type = %s, want gzip", got)
	}
	if raw := fetchAll(t, store, img.Layers[0]); len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		t.Errorf("layer is not gzip")
	}
}

func TestPackErrors(t *testing.T) {
	noPlatform := demoBuild(amd64)
	noPlatform.Platform = ocispec.Platform{}
	wrongMajor := demoBuild(amd64)
	wrongMajor.Metadata.PG.Major = 17
	badLibc := demoBuild(amd64)
	badLibc.Metadata.Libc.Family = "bionic"
	tests := []struct {
		name  string
		build Build
		opts  PackOptions
		env   string
		want  error
	}{
		{"no platform", noPlatform, PackOptions{}, "", ErrInvalidBuild},
		{"major differs from the tree's paths", wrongMajor, PackOptions{}, "", ErrInvalidBuild},
		{"invalid label value", badLibc, PackOptions{}, "", labels.ErrInvalidValue},
		{"unknown compression", demoBuild(amd64), PackOptions{Compression: "lz4"}, "", ErrUnknownCompression},
		{"bad SOURCE_DATE_EPOCH", demoBuild(amd64), PackOptions{}, "yesterday", ErrInvalidBuild},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("SOURCE_DATE_EPOCH", tt.env)
			}
			tmp := t.TempDir()
			tt.opts.TempDir = tmp
			_, err := Pack(context.Background(), newStore(t), demoTree, tt.build, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Pack error = %v, want %v", err, tt.want)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

func TestPackCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tmp := t.TempDir()
	_, err := Pack(ctx, newStore(t), demoTree, demoBuild(amd64), PackOptions{TempDir: tmp})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestPushIndexRefusesMixedPackages(t *testing.T) {
	store := newStore(t)
	a, err := Pack(context.Background(), store, demoTree, demoBuild(amd64), PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := a
	b.Metadata.Package.Version = "2.0"
	if _, err := PushIndex(context.Background(), store, []Image{a, b}, "x"); !errors.Is(err, ErrInvalidBuild) {
		t.Errorf("err = %v, want ErrInvalidBuild", err)
	}
	if _, err := PushIndex(context.Background(), store, nil, "x"); !errors.Is(err, ErrInvalidBuild) {
		t.Errorf("empty: err = %v, want ErrInvalidBuild", err)
	}
}

func TestPackFromLayoutRoot(t *testing.T) {
	// A layout root (no PostgreSQL major in its paths) takes the stated one.
	root := t.TempDir()
	write(t, filepath.Join(root, "share/extension/solo.control"), "default_version = '2.0'\nmodule_pathname = '$libdir/solo'\n")
	write(t, filepath.Join(root, "share/extension/solo--2.0.sql"), "CREATE FUNCTION solo() RETURNS int AS 'MODULE_PATHNAME' LANGUAGE C;\n")
	write(t, filepath.Join(root, "lib/solo.so"), "not really ELF")
	b := demoBuild(amd64)
	b.Metadata.Package = labels.Package{}
	b.Metadata.PG.Major = 17
	b.Metadata.PG.VersionNum = 0
	img, err := Pack(context.Background(), newStore(t), root, b, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Metadata; got.Package.Name != "solo" || got.Package.Version != "2.0" || got.PG.Major != 17 {
		t.Errorf("metadata = %+v %+v, want solo 2.0 for PostgreSQL 17", got.Package, got.PG)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fetchAll(t *testing.T, store content.Fetcher, desc ocispec.Descriptor) []byte {
	t.Helper()
	b, err := content.FetchAll(context.Background(), store, desc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type tarFile struct {
	*tar.Header
	content string
}

// readTar returns the entries of a tar by name, and the names in order.
func readTar(t *testing.T, b []byte) (map[string]tarFile, []string) {
	t.Helper()
	out := map[string]tarFile{}
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, names
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out[h.Name] = tarFile{h, string(data)}
		names = append(names, h.Name)
	}
}

// TestPackAttachesSBOM: Pack attaches an SPDX 2.3 SBOM referrer to each
// manifest, listing the package and every file of the layer with its
// SHA-256; packing again gives the same SBOM; NoSBOM leaves it out.
func TestPackAttachesSBOM(t *testing.T) {
	store := newStore(t)
	_, images := packDemo(t, store, PackOptions{})
	img := images[0]
	if img.SBOM.ArtifactType != "application/spdx+json" {
		t.Fatalf("SBOM referrer %+v", img.SBOM)
	}
	var man ocispec.Manifest
	if err := json.Unmarshal(fetchAll(t, store, img.SBOM), &man); err != nil || man.Subject == nil || man.Subject.Digest != img.Manifest.Digest {
		t.Fatalf("SBOM manifest: %v, subject %+v", err, man.Subject)
	}
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Files       []struct {
			FileName  string `json:"fileName"`
			Checksums []struct{ Algorithm, ChecksumValue string }
		} `json:"files"`
	}
	if err := json.Unmarshal(fetchAll(t, store, man.Layers[0]), &doc); err != nil || doc.SPDXVersion != "SPDX-2.3" {
		t.Fatalf("SBOM: %v, version %q", err, doc.SPDXVersion)
	}
	dec, err := zstd.NewReader(bytes.NewReader(fetchAll(t, store, img.Layers[0])))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	tarBytes, err := io.ReadAll(dec)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := readTar(t, tarBytes)
	want := map[string]string{}
	for name, e := range entries {
		if e.Typeflag == tar.TypeReg {
			want[name] = digest.FromString(e.content).Encoded()
		}
	}
	got := map[string]string{}
	for _, f := range doc.Files {
		for _, c := range f.Checksums {
			if c.Algorithm == "SHA256" {
				got[strings.TrimPrefix(f.FileName, "./")] = c.ChecksumValue
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SBOM file hashes (-layer +sbom):\n%s", diff)
	}
	_, again := packDemo(t, newStore(t), PackOptions{})
	if again[0].SBOM.Digest != img.SBOM.Digest {
		t.Errorf("SBOM digest %s then %s: not reproducible", img.SBOM.Digest, again[0].SBOM.Digest)
	}
	_, none := packDemo(t, newStore(t), PackOptions{NoSBOM: true})
	if none[0].SBOM.Digest != "" {
		t.Errorf("NoSBOM: SBOM %s attached", none[0].SBOM.Digest)
	}
}
