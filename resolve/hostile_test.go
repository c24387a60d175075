package resolve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/labels"
)

// TestTildeCaretExcludePrereleases: ~ and ^ admit no pre-release (their
// synthesized "-0" upper bound does not count as naming one).
func TestTildeCaretExcludePrereleases(t *testing.T) {
	for _, tc := range []struct{ c, v string }{
		{"~1.4", "1.4.5-beta1"},
		{"^1", "1.9-rc1"},
		{"^0.8", "0.8.2-alpha"},
	} {
		c, err := ParseConstraint(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := ParseVersion(tc.v)
		if c.Match(v) {
			t.Errorf("%q matches pre-release %s", tc.c, tc.v)
		}
	}
	c, _ := ParseConstraint("~1.4")
	sel := SelectTags([]string{"1.4.2", "1.4.3-beta1"}, c, server18())
	if len(sel) == 0 || sel[0].Name != "1.4.2" {
		t.Errorf("SelectTags(~1.4) = %v, want 1.4.2 first (a release)", sel)
	}
}

// TestPrereleaseScope: excluding a pre-release admits none, and a clause
// naming one admits pre-releases of that release only.
func TestPrereleaseScope(t *testing.T) {
	c, _ := ParseConstraint("!=1.3-rc1")
	v, _ := ParseVersion("2.0-alpha1")
	if c.Match(v) {
		t.Errorf(`"!=1.3-rc1" matches 2.0-alpha1: excluding a pre-release enables all pre-releases`)
	}
	// And a range naming 1.0-beta1 admits pre-releases of other versions
	// (semver admits only those of the same major.minor.patch).
	c, _ = ParseConstraint(">=1.0-beta1")
	sel := SelectTags([]string{"1.0-beta1", "2.9", "3.0-alpha1"}, c, server18())
	if len(sel) == 0 || sel[0].Name != "2.9" {
		t.Errorf(`SelectTags(">=1.0-beta1") first = %v, want 2.9 (semver: 3.0-alpha1 does not match)`, sel)
	}
}

// TestMajorFromVersionNum: an image whose labels say PostgreSQL 16 only
// through version_num or version is refused for a PostgreSQL 18 server.
func TestMajorFromVersionNum(t *testing.T) {
	for _, ann := range []map[string]string{
		{"org.pgxn.trunk.pg.version_num": "160004"},
		{"org.pgxn.trunk.pg.version": "16.4"},
	} {
		m, err := labels.Parse(ann)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Check(Default, server18(), plat("linux/amd64"), m); err == nil {
			t.Errorf("Default accepts %v (PostgreSQL 16) for a PostgreSQL 18 server", ann)
		}
	}
}

// TestIndexEntryAnnotationBomb: an index entry with 100,000 annotations
// over a nested index of 20,000 entries (every candidate would parse them
// all) is refused up front.
func TestIndexEntryAnnotationBomb(t *testing.T) {
	st := newLayoutStore(t, t.TempDir())
	const nAnn, nEntries = 100_000, 20_000
	// inner entries: s390x, rejected from the descriptor, never fetched.
	s390 := plat("linux/s390x")
	var inner []ocispec.Descriptor
	for i := range nEntries {
		d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest,
			Digest: digestOf(fmt.Sprint(i)), Size: 100, Platform: &s390}
		inner = append(inner, d)
	}
	innerD := pushIndex(t, st, inner)
	ann := make(map[string]string, nAnn)
	for i := range nAnn {
		ann[fmt.Sprintf("k%06d", i)] = ""
	}
	innerD.Annotations = ann
	pushIndex(t, st, []ocispec.Descriptor{innerD}, "bomb")
	t.Logf("inner index %d bytes", innerD.Size)

	_, err := Resolve(context.Background(), st, Reference{Layout: "x", Tag: "bomb"}, server18(), Options{})
	if !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), "annotations") {
		t.Errorf("err = %v, want ErrInvalidManifest naming the annotation count", shortErr(err))
	}
}

func digestOf(s string) digest.Digest { return digest.FromString(s) }

func shortErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// TestResolveTildePicksRelease: Options.Version "~1.4" resolves the
// release 1.4.2, not the higher pre-release tag 1.4.3-beta1.
func TestResolveTildePicksRelease(t *testing.T) {
	st := newLayoutStore(t, t.TempDir())
	for _, v := range []string{"1.4.2", "1.4.3-beta1"} {
		d := pushImage(t, st, testImage{platform: plat("linux/amd64"), meta: meta(v, 18, "glibc", "2.41")})
		pushIndex(t, st, []ocispec.Descriptor{d}, v)
	}
	res, err := Resolve(context.Background(), st, Reference{Layout: "x"}, server18(), Options{Version: "~1.4"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tag != "1.4.2" {
		t.Errorf(`Version "~1.4" resolved tag %q, want the release 1.4.2`, res.Tag)
	}
}

// TestConfigLibcConsulted: when the manifest leaves the C library
// unknown, the config's labels are read, so a glibc 2.41 build is refused
// for a glibc 2.36 server.
func TestConfigLibcConsulted(t *testing.T) {
	st := newLayoutStore(t, t.TempDir())
	full := meta("1.0", 18, "glibc", "2.41").Annotations()
	cfg := ocispec.Image{Platform: plat("linux/amd64"), RootFS: ocispec.RootFS{Type: "layers"}}
	cfg.Config.Labels = full
	layer := pushBlob(t, st, ocispec.MediaTypeImageLayer, []byte("layer"))
	cfg.RootFS.DiffIDs = []digest.Digest{layer.Digest}
	cd := pushJSON(t, st, ocispec.MediaTypeImageConfig, cfg)
	ann := map[string]string{"io.cloudnativepg.image.base.pgmajor": "18"}
	m := ocispec.Manifest{Versioned: specsV2, MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: []ocispec.Descriptor{layer}, Annotations: ann}
	d := pushJSON(t, st, ocispec.MediaTypeImageManifest, m)
	p := plat("linux/amd64")
	d.Platform = &p
	pushIndex(t, st, []ocispec.Descriptor{d}, "1.0")

	bookworm := server18()
	bookworm.Libc.Version = "2.36"
	res, err := Resolve(context.Background(), st, Reference{Layout: "x", Tag: "1.0"}, bookworm, Options{})
	if err == nil {
		t.Errorf("Default resolved %s (config labels: glibc 2.41) for a glibc 2.36 server; config fetched: %v; report %v",
			res.Manifest.Digest, res.Image != nil, res.Report)
	}
	// With FetchConfig the same resolve is refused.
	_, err = Resolve(context.Background(), st, Reference{Layout: "x", Tag: "1.0"}, bookworm, Options{FetchConfig: true})
	t.Logf("with FetchConfig: %v", shortErr(err))
}

// TestDebianReleaseImpliesGlibc: an image that names its Debian release
// but not its C library is checked against the glibc that release ships:
// a trixie build (glibc 2.41) is refused for a glibc 2.36 server.
func TestDebianReleaseImpliesGlibc(t *testing.T) {
	amd := ocispec.Platform{OS: "linux", Architecture: "amd64"}
	for _, tc := range []struct {
		name   string
		distro labels.Distro
		server string
		ok     bool
	}{
		{"trixie on 2.36", labels.Distro{Codename: "trixie"}, "2.36", false},
		{"debian 13 on 2.36", labels.Distro{ID: "debian", Version: "13"}, "2.36", false},
		{"trixie on 2.41", labels.Distro{Codename: "trixie"}, "2.41", true},
		{"bookworm on 2.41", labels.Distro{ID: "debian", Codename: "bookworm"}, "2.41", true},
		{"unknown release", labels.Distro{ID: "debian", Codename: "forky"}, "2.36", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := Target{PG: labels.PG{Major: 18}, Platform: amd, Libc: labels.Libc{Family: "glibc", Version: tc.server}}
			m := labels.Metadata{PG: labels.PG{Major: 18}, Distro: tc.distro}
			_, err := Check(Default, target, amd, m)
			if ok := err == nil; ok != tc.ok {
				t.Errorf("Check = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestNestedEntryPlatformNotInherited: an entry of a nested index that
// states no platform is not taken to have the outer entry's: its config
// is read, and an arm64 image is refused for an amd64 server.
func TestNestedEntryPlatformNotInherited(t *testing.T) {
	st := newLayoutStore(t, t.TempDir())
	m := pushImage(t, st, testImage{platform: plat("linux/arm64"), meta: meta("1.0", 18, "glibc", "2.36"), noDescPlatform: true})
	inner := pushIndex(t, st, []ocispec.Descriptor{m}) // m without a platform
	amd := plat("linux/amd64")
	inner.Platform = &amd // the outer entry claims amd64
	pushIndex(t, st, []ocispec.Descriptor{inner}, "nested")
	_, err := Resolve(context.Background(), st, Reference{Layout: "x", Tag: "nested"}, server18(), Options{})
	if !errors.Is(err, ErrIncompatible) {
		t.Errorf("err = %v, want ErrIncompatible (the config says arm64)", err)
	}
}
