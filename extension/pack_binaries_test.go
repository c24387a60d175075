package extension

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/elftest"
	"pgoci/labels"
)

// elfFile builds a shared object for a test tree.
func elfFile(t *testing.T, s elftest.Spec) string {
	t.Helper()
	if s.Arch == "" {
		s.Arch = "amd64"
	}
	b, err := elftest.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeFiles writes files (path -> content; "->target" makes a link)
// under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, full)
		} else {
			err = os.WriteFile(full, []byte(content), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// packTree packs a layout-root tree of files for linux/amd64 and returns
// the image, or the error.
func packTree(t *testing.T, files map[string]string, meta labels.Metadata, opts PackOptions) (Image, error) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	if meta.Package.Name == "" {
		meta.Package = labels.Package{Name: "geo", Version: "1.0"}
	}
	if meta.PG.Major == 0 {
		meta.PG.Major = 18
	}
	return Pack(context.Background(), newStore(t), dir, Build{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, Metadata: meta}, opts)
}

// TestPackReadsBinaries: what the binaries prove becomes labels: the C
// library and the version it requires, the ICU major, the compiler, the
// OS libraries needed and not carried, and each object's load facts.
func TestPackReadsBinaries(t *testing.T) {
	files := map[string]string{
		"share/extension/geo.control":  "default_version = '1.0'\nmodule_pathname = '$libdir/geo'\n",
		"share/extension/geo--1.0.sql": "SELECT 1;\n",
		"lib/geo.so": elfFile(t, elftest.Spec{Needed: []string{"libgeos_c.so.1", "libicuuc.so.72", "libhelper.so.1", "libc.so.6"},
			Comment:      "GCC: (Debian 12.2.0-14) 12.2.0",
			VersionNeeds: []elftest.Need{{File: "libc.so.6", Versions: []string{"GLIBC_2.2.5", "GLIBC_2.34"}}}}),
		"lib/libhelper.so.1": elfFile(t, elftest.Spec{Soname: "libhelper.so.1", Needed: []string{"libm.so.6"}}),
		"bin/geo_tool":       elfFile(t, elftest.Spec{Needed: []string{"libpq.so.5"}}),
	}
	img, err := packTree(t, files, labels.Metadata{Libc: labels.Libc{Family: "glibc", Version: "2.36"}}, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := img.Metadata
	got := []any{m.Libc, m.ICUMajor, m.Compiler, m.OSRequires}
	want := []any{labels.Libc{Family: "glibc", Version: "2.36", Requires: "2.34"}, 72, "gcc 12.2.0",
		[]string{"libgeos_c.so.1", "libicuuc.so.72", "libpq.so.5"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	wantObjs := []labels.Object{
		{Path: "bin/geo_tool", Arch: "amd64", Class: 64, Needs: []string{"libpq.so.5"}},
		{Path: "lib/geo.so", Arch: "amd64", Class: 64, Libc: "glibc", Glibc: "2.34", Needs: []string{"libgeos_c.so.1", "libicuuc.so.72", "libhelper.so.1", "libc.so.6"}},
		{Path: "lib/libhelper.so.1", Arch: "amd64", Class: 64, Needs: []string{"libm.so.6"}},
	}
	if diff := cmp.Diff(wantObjs, m.Objects); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	// The labels round-trip through the annotations the image carries.
	parsed, err := labels.Parse(m.Annotations())
	if err != nil || !cmp.Equal(parsed.Objects, m.Objects) || parsed.Libc.Requires != "2.34" {
		t.Errorf("labels.Parse(annotations): %v, objects %+v", err, parsed.Objects)
	}
}

// TestPackRefusesWhatBinariesContradict: the binaries win over what the
// build states; each contradiction is ErrInvalidBuild naming it.
func TestPackRefusesWhatBinariesContradict(t *testing.T) {
	glibc := []elftest.Need{{File: "libc.so.6", Versions: []string{"GLIBC_2.34"}}}
	for _, tc := range []struct {
		name  string
		files map[string]string
		libc  labels.Libc
		want  string
	}{
		{"arm64 module in an amd64 image", map[string]string{"lib/x.so": elfFile(t, elftest.Spec{Arch: "arm64"})}, labels.Libc{}, "lib/x.so"},
		{"newer glibc than stated", map[string]string{"lib/x.so": elfFile(t, elftest.Spec{VersionNeeds: glibc})},
			labels.Libc{Family: "glibc", Version: "2.31"}, "GLIBC_2.34"},
		{"musl stated, glibc built", map[string]string{"lib/x.so": elfFile(t, elftest.Spec{VersionNeeds: glibc})},
			labels.Libc{Family: "musl", Version: "1.2.5"}, "built for glibc"},
		{"two ICU majors", map[string]string{
			"lib/x.so": elfFile(t, elftest.Spec{Needed: []string{"libicuuc.so.72"}}),
			"lib/y.so": elfFile(t, elftest.Spec{Needed: []string{"libicuuc.so.74"}})}, labels.Libc{}, "ICU"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := packTree(t, tc.files, labels.Metadata{Libc: tc.libc}, PackOptions{})
			if !errors.Is(err, ErrInvalidBuild) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrInvalidBuild mentioning %q", err, tc.want)
			}
		})
	}
}

// TestPackWarnsAboutBuildPaths: a RUNPATH into the build machine's
// directories is reported, not fatal.
func TestPackWarnsAboutBuildPaths(t *testing.T) {
	var warnings []string
	_, err := packTree(t, map[string]string{"lib/x.so": elfFile(t, elftest.Spec{RunPath: "/home/builder/src/x/lib"})},
		labels.Metadata{}, PackOptions{Events: func(e Event) {
			if e.Kind == EventWarning {
				warnings = append(warnings, e.Message)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "lib/x.so") || !strings.Contains(warnings[0], "/home/builder/src/x/lib") {
		t.Errorf("warnings %q, want one about lib/x.so's RUNPATH", warnings)
	}
}

// TestPackBundleLibs: --bundle-libs copies into system/, in a layer of
// its own, the libraries the modules need through their RUNPATH ($ORIGIN
// at their place in the tree) and the lib path, with the closure of their
// own needs and their soname links; the C runtime is not bundled. A new
// build of the module against the same libraries reuses the system
// layer's digest.
func TestPackBundleLibs(t *testing.T) {
	libPath := t.TempDir()
	writeFiles(t, libPath, map[string]string{
		"libssl.so.3": elfFile(t, elftest.Spec{Soname: "libssl.so.3", Needed: []string{"libc.so.6"}}),
	})
	tree := func(tag string) map[string]string {
		return map[string]string{
			"share/extension/dbl.control":  "default_version = '1.0'\nmodule_pathname = '$libdir/dbl'\n",
			"share/extension/dbl--1.0.sql": "SELECT 1;\n",
			"lib/dbl.so":                   elfFile(t, elftest.Spec{Needed: []string{"libpq.so.5", "libc.so.6"}, RunPath: "$ORIGIN/../deps", Comment: tag}),
			"deps/libpq.so.5.18":           elfFile(t, elftest.Spec{Soname: "libpq.so.5", Needed: []string{"libssl.so.3", "libc.so.6"}}),
			"deps/libpq.so.5":              "->libpq.so.5.18",
		}
	}
	pack := func(tag string) Image {
		img, err := packTree(t, tree(tag), labels.Metadata{}, PackOptions{BundleLibs: true, LibPath: []string{libPath}})
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	img := pack("build 1")
	if len(img.Layers) != 2 {
		t.Fatalf("%d layers, want the bundled libraries' and the extension's", len(img.Layers))
	}
	if len(img.Metadata.OSRequires) != 0 {
		t.Errorf("os.requires %v: the bundled libraries are carried, the C runtime is not listed", img.Metadata.OSRequires)
	}
	var paths []string
	for _, o := range img.Metadata.Objects {
		paths = append(paths, o.Path)
	}
	if want := []string{"lib/dbl.so", "system/libpq.so.5.18", "system/libssl.so.3"}; !cmp.Equal(want, paths) {
		t.Errorf("objects %v, want %v", paths, want)
	}
	again := pack("build 2")
	if again.Layers[0].Digest != img.Layers[0].Digest || again.Layers[1].Digest == img.Layers[1].Digest {
		t.Errorf("rebuilt module: system layer %s -> %s (want equal), extension layer %s -> %s (want different)",
			img.Layers[0].Digest, again.Layers[0].Digest, img.Layers[1].Digest, again.Layers[1].Digest)
	}
}
