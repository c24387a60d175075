package resolve

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/labels"
)

func TestMatchPlatform(t *testing.T) {
	tests := []struct {
		want, have string
		ok         bool
		distance   int
	}{
		{"linux/amd64", "linux/amd64", true, 0},
		{"linux/amd64", "linux/x86_64", true, 0},
		{"linux/amd64/v3", "linux/amd64", true, 200},
		{"linux/amd64/v3", "linux/amd64/v2", true, 100},
		{"linux/amd64/v2", "linux/amd64/v3", false, 0},
		{"linux/amd64", "linux/amd64/v2", false, 0},
		{"linux/arm64", "linux/arm64/v8", true, 0},
		{"linux/arm64/v8", "linux/arm64", true, 0},
		{"linux/aarch64", "linux/arm64/v8", true, 0},
		{"linux/arm64/v9", "linux/arm64/v8", true, 100},
		{"linux/arm64/v8", "linux/arm64/v8.2", false, 0},
		{"linux/arm/v7", "linux/arm/v6", true, 100},
		{"linux/arm/v7", "linux/arm/v5", true, 200},
		{"linux/arm/v6", "linux/arm/v7", false, 0},
		{"linux/arm", "linux/arm/v7", true, 0},
		{"linux/armhf", "linux/arm/v7", true, 0},
		{"linux/arm64", "linux/amd64", false, 0},
		{"linux/amd64", "windows/amd64", false, 0},
		{"linux/amd64/vx", "linux/amd64/v1", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.want+" runs "+tc.have, func(t *testing.T) {
			d, ok := MatchPlatform(plat(tc.want), plat(tc.have))
			if ok != tc.ok || d != tc.distance {
				t.Errorf("MatchPlatform = %d, %v; want %d, %v", d, ok, tc.distance, tc.ok)
			}
		})
	}
}

func TestIsAttestation(t *testing.T) {
	unknown := ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	for _, tc := range []struct {
		name string
		d    ocispec.Descriptor
		want bool
	}{
		{"unknown/unknown", ocispec.Descriptor{Platform: &unknown}, true},
		{"reference type annotation", ocispec.Descriptor{Annotations: map[string]string{annotationDockerReferenceType: "attestation-manifest"}}, true},
		{"image", ocispec.Descriptor{Platform: &ocispec.Platform{OS: "linux", Architecture: "amd64"}}, false},
		{"no platform", ocispec.Descriptor{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isAttestation(tc.d); got != tc.want {
				t.Errorf("isAttestation = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	base := digest.FromString("postgres:18-trixie")
	img := func(edit func(*labels.Metadata)) labels.Metadata {
		m := meta("1.0", 18, "glibc", "2.41")
		if edit != nil {
			edit(&m)
		}
		return m
	}
	amd := plat("linux/amd64")
	tests := []struct {
		name     string
		policy   Policy
		target   func(*Target)
		platform ocispec.Platform
		image    labels.Metadata
		// statuses in property order: pg, platform, libc family,
		// libc version, distro, base.
		want []Status
	}{
		{"default all known", Default, nil, amd, img(nil), []Status{Match, Match, Match, Match, Match, Unknown}},
		{"default pg differs", Default, nil, amd, img(func(m *labels.Metadata) { m.PG.Major = 17 }), []Status{Mismatch, Match, Match, Match, Match, Unknown}},
		{"default platform differs", Default, nil, plat("linux/arm64"), img(nil), []Status{Match, Mismatch, Match, Match, Match, Unknown}},
		{"default musl vs glibc", Default, nil, amd, img(func(m *labels.Metadata) { m.Libc = labels.Libc{Family: "musl", Version: "1.2.5"} }), []Status{Match, Match, Mismatch, Ignored, Match, Unknown}},
		{"default libc too new", Default, func(t *Target) { t.Libc.Version = "2.36" }, amd, img(nil), []Status{Match, Match, Match, Mismatch, Match, Unknown}},
		{"default libc older is fine", Default, func(t *Target) { t.Libc.Version = "2.41.1" }, amd, img(func(m *labels.Metadata) { m.Libc.Version = "2.4" }), []Status{Match, Match, Match, Match, Match, Unknown}},
		{"default distro differs is ignored", Default, func(t *Target) { t.Distro.Version = "12" }, amd, img(nil), []Status{Match, Match, Match, Match, Ignored, Unknown}},
		{"default unknowns pass", Default, nil, ocispec.Platform{}, labels.Metadata{}, []Status{Unknown, Unknown, Unknown, Unknown, Unknown, Unknown}},
		{"strict unknowns fail", Strict, nil, ocispec.Platform{}, labels.Metadata{}, []Status{Mismatch, Mismatch, Mismatch, Mismatch, Mismatch, Mismatch}},
		{"strict same distro", Strict, nil, amd, img(nil), []Status{Match, Match, Match, Match, Match, Ignored}},
		{"strict other distro", Strict, func(t *Target) { t.Distro.Version = "12" }, amd, img(nil), []Status{Match, Match, Match, Match, Mismatch, Mismatch}},
		{"strict same base, libc unknown", Strict, func(t *Target) { t.Base.Digest = base; t.Distro = labels.Distro{} }, amd,
			img(func(m *labels.Metadata) { m.Base.Digest = base; m.Libc = labels.Libc{}; m.Distro = labels.Distro{} }),
			[]Status{Match, Match, Unknown, Unknown, Ignored, Match}},
		{"strict other base, same distro", Strict, func(t *Target) { t.Base.Digest = base }, amd,
			img(func(m *labels.Metadata) { m.Base.Digest = digest.FromString("other") }), []Status{Match, Match, Match, Match, Match, Ignored}},
		{"permissive libc too new", Permissive, func(t *Target) { t.Libc.Version = "2.36" }, amd, img(nil), []Status{Match, Match, Match, Ignored, Match, Unknown}},
		{"permissive musl vs glibc", Permissive, nil, amd, img(func(m *labels.Metadata) { m.Libc = labels.Libc{Family: "musl"} }), []Status{Match, Match, Ignored, Ignored, Match, Unknown}},
		{"permissive pg differs", Permissive, nil, amd, img(func(m *labels.Metadata) { m.PG.Major = 17 }), []Status{Mismatch, Match, Match, Match, Match, Unknown}},
		// What the binaries require (libc.requires), then icu.major and
		// compiler, follow the six above when the image states them.
		{"default binaries need a newer glibc than labelled", Default, func(t *Target) { t.Libc.Version = "2.36" }, amd,
			img(func(m *labels.Metadata) { m.Libc = labels.Libc{Family: "glibc", Version: "2.31", Requires: "2.38"} }),
			[]Status{Match, Match, Match, Match, Mismatch, Match, Unknown}},
		{"default binaries fit", Default, nil, amd, img(func(m *labels.Metadata) { m.Libc.Requires = "2.34" }),
			[]Status{Match, Match, Match, Match, Match, Match, Unknown}},
		{"default other ICU and compiler are reported", Default, func(t *Target) { t.ICUMajor, t.Compiler = 72, "gcc 12.2.0" }, amd,
			img(func(m *labels.Metadata) { m.ICUMajor, m.Compiler = 76, "gcc 14.2.0" }),
			[]Status{Match, Match, Match, Match, Match, Unknown, Ignored, Ignored}},
		{"strict other ICU", Strict, func(t *Target) { t.ICUMajor = 72 }, amd, img(func(m *labels.Metadata) { m.ICUMajor = 76 }),
			[]Status{Match, Match, Match, Match, Match, Ignored, Mismatch}},
		{"strict same compiler major", Strict, func(t *Target) { t.Compiler = "gcc 12.2.0" }, amd, img(func(m *labels.Metadata) { m.Compiler = "gcc 12.3.0" }),
			[]Status{Match, Match, Match, Match, Match, Ignored, Match}},
		{"strict other compiler", Strict, func(t *Target) { t.Compiler = "gcc 12.2.0" }, amd, img(func(m *labels.Metadata) { m.Compiler = "clang 16.0.6" }),
			[]Status{Match, Match, Match, Match, Match, Ignored, Mismatch}},
		{"strict compiler unknown on the server", Strict, nil, amd, img(func(m *labels.Metadata) { m.Compiler = "gcc 12.2.0" }),
			[]Status{Match, Match, Match, Match, Match, Ignored, Unknown}},
		{"permissive binaries need a newer glibc", Permissive, func(t *Target) { t.Libc.Version = "2.36" }, amd,
			img(func(m *labels.Metadata) { m.Libc.Version, m.Libc.Requires = "2.31", "2.38" }),
			[]Status{Match, Match, Match, Match, Ignored, Match, Unknown}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := server18()
			if tc.target != nil {
				tc.target(&target)
			}
			fs, err := Check(tc.policy, target, tc.platform, tc.image)
			var got []Status
			mismatch := false
			for _, f := range fs {
				got = append(got, f.Status)
				mismatch = mismatch || f.Status == Mismatch
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s\nfindings: %v", diff, fs)
			}
			var ie *IncompatibleError
			if mismatch != errors.As(err, &ie) || mismatch != errors.Is(err, ErrIncompatible) {
				t.Errorf("mismatch %v but err = %v", mismatch, err)
			}
		})
	}
}

func TestIncompatibleErrorMessage(t *testing.T) {
	target := server18()
	target.Libc.Version = "2.36"
	_, err := Check(Default, target, plat("linux/arm64"), meta("1.0", 17, "glibc", "2.41"))
	want := "resolve: no compatible image for target pg 18.4 linux/amd64 glibc-2.36 debian-13 (policy default); " +
		"linux/arm64: pg.major: want 18, found 17 (mismatch), platform: want linux/amd64, found linux/arm64 (mismatch), " +
		"libc.version: want <= 2.36, found 2.41 (mismatch)"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}

func TestTargetFromLabels(t *testing.T) {
	// A CloudNativePG PostgreSQL image says what it is through anchors.
	m, err := labels.Parse(map[string]string{
		labels.KeyCNPGBasePGMajor: "18",
		labels.KeyCNPGBaseOS:      "trixie",
		labels.KeyCNPGBaseName:    "ghcr.io/cloudnative-pg/postgresql:18-minimal-trixie",
	})
	if err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("server image")
	got, err := TargetFromLabels(m, plat("linux/arm64"), d)
	if err != nil {
		t.Fatal(err)
	}
	lt, _ := m.Target()
	want := Target{
		PG:       labels.PG{Major: lt.PGMajor},
		Platform: plat("linux/arm64"),
		Libc:     labels.Libc{Family: lt.LibcFamily, Version: lt.LibcVersion},
		Distro:   labels.Distro{ID: "debian", Version: "13", Codename: "trixie"},
		Base:     labels.Base{Name: lt.BaseName, Digest: d},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if want.Libc.Version != "2.41" {
		t.Errorf("labels.Target gives libc %q for trixie, want 2.41", want.Libc.Version)
	}
	if _, err := TargetFromLabels(labels.Metadata{}, plat("linux/amd64"), ""); !errors.Is(err, labels.ErrMissingKey) {
		t.Errorf("no PG major: err = %v, want labels.ErrMissingKey", err)
	}
}

func TestCompareDotted(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		c    int
		ok   bool
	}{
		{"2.36", "2.41", -1, true}, {"2.4", "2.36", -1, true}, {"1.2", "1.2.0", 0, true},
		{"2.41", "2.36", 1, true}, {"", "2.36", 0, false}, {"2.x", "2.36", 0, false}, {"2..1", "2.1", 0, false},
	} {
		c, ok := compareDotted(tc.a, tc.b)
		if c != tc.c || ok != tc.ok {
			t.Errorf("compareDotted(%q, %q) = %d, %v; want %d, %v", tc.a, tc.b, c, ok, tc.c, tc.ok)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	for _, p := range []Policy{Default, Strict, Permissive} {
		if got, err := ParsePolicy(p.String()); err != nil || got != p {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v", p.String(), got, err, p)
		}
	}
	if got, err := ParsePolicy(""); err != nil || got != Default {
		t.Errorf("ParsePolicy(\"\") = %v, %v; want default", got, err)
	}
	if _, err := ParsePolicy("lenient"); !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), "lenient") {
		t.Errorf("ParsePolicy(lenient) error = %v, want ErrPolicy naming the value", err)
	}
}
