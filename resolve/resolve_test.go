package resolve

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"pgoci/internal/testregistry"
	"pgoci/labels"
)

// fixture is a repository holding one index (or manifest) per tag; want
// names the manifests by a short key.
type fixture struct {
	manifests map[string]ocispec.Descriptor
	indexes   map[string]ocispec.Descriptor
}

func attestation(t *testing.T, dst oras.Target, of ocispec.Descriptor) ocispec.Descriptor {
	d := pushImage(t, dst, testImage{platform: plat("unknown/unknown"), meta: labels.Metadata{}, noDescLabels: true})
	d.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	d.Annotations = map[string]string{annotationDockerReferenceType: "attestation-manifest", "vnd.docker.reference.digest": of.Digest.String()}
	return d
}

// buildFixture pushes the images every resolve test uses into dst.
func buildFixture(t *testing.T, dst oras.Target) fixture {
	t.Helper()
	f := fixture{manifests: map[string]ocispec.Descriptor{}, indexes: map[string]ocispec.Descriptor{}}
	img := func(key string, ti testImage) ocispec.Descriptor {
		d := pushImage(t, dst, ti)
		f.manifests[key] = d
		return d
	}
	amd := plat("linux/amd64")
	arm := plat("linux/arm64/v8")

	x := img("amd64", testImage{platform: amd, meta: meta("0.8.1", 18, "glibc", "2.41")})
	a := img("arm64", testImage{platform: arm, meta: meta("0.8.1", 18, "glibc", "2.41")})
	f.indexes["multiarch"] = pushIndex(t, dst, []ocispec.Descriptor{attestation(t, dst, x), x, a, attestation(t, dst, a)}, "multiarch")

	f.indexes["majors"] = pushIndex(t, dst, []ocispec.Descriptor{
		img("pg16", testImage{platform: amd, meta: meta("0.8.1", 16, "glibc", "2.41")}),
		img("pg17", testImage{platform: amd, meta: meta("0.8.1", 17, "glibc", "2.41")}),
		img("pg18", testImage{platform: amd, meta: meta("0.8.1", 18, "glibc", "2.41")}),
	}, "majors")

	f.indexes["libc"] = pushIndex(t, dst, []ocispec.Descriptor{
		img("musl", testImage{platform: amd, meta: meta("0.8.1", 18, "musl", "1.2.5")}),
		img("glibc", testImage{platform: amd, meta: meta("0.8.1", 18, "glibc", "2.36")}),
	}, "libc")

	f.indexes["newlibc"] = pushIndex(t, dst, []ocispec.Descriptor{
		img("glibc-2.41", testImage{platform: amd, meta: meta("0.8.1", 18, "glibc", "2.41")}),
	}, "newlibc")

	f.indexes["bare"] = pushIndex(t, dst, []ocispec.Descriptor{
		img("bare17", testImage{platform: amd, meta: meta("0.8.1", 17, "glibc", "2.36"), noDescLabels: true}),
		img("bare18", testImage{platform: amd, meta: meta("0.8.1", 18, "glibc", "2.36"), noDescLabels: true, configLabelsOnly: true}),
	}, "bare")

	amdIdx := pushIndex(t, dst, []ocispec.Descriptor{
		img("n17", testImage{platform: amd, meta: meta("0.8.1", 17, "glibc", "2.36")}),
		img("n18", testImage{platform: amd, meta: meta("0.8.1", 18, "glibc", "2.36")}),
	})
	amdIdx.Platform = &amd
	armIdx := pushIndex(t, dst, []ocispec.Descriptor{img("n18arm", testImage{platform: arm, meta: meta("0.8.1", 18, "glibc", "2.36")})})
	armIdx.Platform = &arm
	f.indexes["nested"] = pushIndex(t, dst, []ocispec.Descriptor{armIdx, amdIdx}, "nested")

	single := img("single", testImage{platform: amd, meta: meta("0.8.1", 18, "glibc", "2.36")})
	if err := dst.Tag(context.Background(), single, "single"); err != nil {
		t.Fatal(err)
	}
	return f
}

// server18 is the default target: PostgreSQL 18 on Debian 13, amd64.
func server18() Target {
	return Target{
		PG:       labels.PG{Major: 18, VersionNum: 180004, Version: "18.4"},
		Platform: plat("linux/amd64"),
		Libc:     labels.Libc{Family: "glibc", Version: "2.41"},
		Distro:   labels.Distro{ID: "debian", Version: "13", Codename: "trixie"},
	}
}

type resolveCase struct {
	name   string
	ref    string // tag, or "@key" for the digest of index key
	target func(*Target)
	policy Policy
	want   string // manifest key, or "" when an error is expected
	err    error
	// requests made against a registry: manifest GETs, blob GETs.
	manifests, blobs int
}

var resolveCases = []resolveCase{
	{name: "multi-arch amd64", ref: "multiarch", want: "amd64", manifests: 2},
	{name: "multi-arch arm64 without variant", ref: "multiarch", target: func(t *Target) { t.Platform = plat("linux/arm64") }, want: "arm64", manifests: 2},
	{name: "multi-arch arm64/v8", ref: "multiarch", target: func(t *Target) { t.Platform = plat("linux/aarch64/v8") }, want: "arm64", manifests: 2},
	{name: "multi-arch amd64/v3 falls back to v1", ref: "multiarch", target: func(t *Target) { t.Platform = plat("linux/amd64/v3") }, want: "amd64", manifests: 2},
	{name: "multi-arch no s390x", ref: "multiarch", target: func(t *Target) { t.Platform = plat("linux/s390x") }, err: ErrIncompatible, manifests: 1},
	{name: "pg 16 of three majors", ref: "majors", target: func(t *Target) { t.PG = labels.PG{Major: 16} }, want: "pg16", manifests: 2},
	{name: "pg 17 of three majors", ref: "majors", target: func(t *Target) { t.PG = labels.PG{Major: 17} }, want: "pg17", manifests: 2},
	{name: "pg 18 of three majors", ref: "majors", want: "pg18", manifests: 2},
	{name: "pg 15 absent", ref: "majors", target: func(t *Target) { t.PG = labels.PG{Major: 15} }, err: ErrIncompatible, manifests: 1},
	{name: "glibc server takes glibc", ref: "libc", want: "glibc", manifests: 2},
	{name: "musl server takes musl", ref: "libc", target: func(t *Target) { t.Libc = labels.Libc{Family: "musl", Version: "1.2.5"} }, want: "musl", manifests: 2},
	{name: "libc unknown takes the first", ref: "libc", target: func(t *Target) { t.Libc = labels.Libc{} }, want: "musl", manifests: 2},
	{name: "libc unknown refused under strict", ref: "libc", policy: Strict, target: func(t *Target) { t.Libc = labels.Libc{} }, err: ErrIncompatible, manifests: 3},
	{name: "libc too new", ref: "newlibc", target: func(t *Target) { t.Libc.Version = "2.36" }, err: ErrIncompatible, manifests: 1},
	{name: "libc too new permitted", ref: "newlibc", policy: Permissive, target: func(t *Target) { t.Libc.Version = "2.36" }, want: "glibc-2.41", manifests: 2},
	{name: "strict same distro", ref: "newlibc", policy: Strict, want: "glibc-2.41", manifests: 2},
	{name: "strict other distro", ref: "newlibc", policy: Strict, target: func(t *Target) { t.Distro.Version = "12" }, err: ErrIncompatible, manifests: 2},
	{name: "missing annotations fall back to fetching", ref: "bare", want: "bare18", manifests: 3, blobs: 2},
	{name: "missing annotations none fits", ref: "bare", target: func(t *Target) { t.PG = labels.PG{Major: 16} }, err: ErrIncompatible, manifests: 3, blobs: 2},
	{name: "nested index", ref: "nested", want: "n18", manifests: 3},
	{name: "nested index arm64 skips amd64 index", ref: "nested", target: func(t *Target) { t.Platform = plat("linux/arm64") }, want: "n18arm", manifests: 3},
	{name: "single manifest tag", ref: "single", want: "single", manifests: 1, blobs: 1},
	{name: "digest-pinned index", ref: "@majors", target: func(t *Target) { t.PG = labels.PG{Major: 17} }, want: "pg17", manifests: 2},
}

func TestResolveRegistry(t *testing.T) {
	srv := startRegistry(t, testregistry.Options{})
	f := buildFixture(t, pushRepo(t, srv, "ext/vector"))
	for _, tc := range resolveCases {
		t.Run(tc.name, func(t *testing.T) {
			ref := srv.Host() + "/ext/vector" + refSuffix(f, tc.ref)
			srv.ResetRequests()
			res, err := ResolveReference(context.Background(), ref, targetFor(tc), Options{Policy: tc.policy})
			checkResolved(t, f, tc, res, err)
			m, b, tags, other := countRequests(srv)
			if diff := cmp.Diff([4]int{tc.manifests, tc.blobs, 0, 0}, [4]int{m, b, tags, other}); diff != "" {
				t.Errorf("requests [manifests blobs tags other] (-want +got):\n%s\nlog: %v", diff, srv.Requests())
			}
		})
	}
}

func TestResolveLayout(t *testing.T) {
	dir := t.TempDir()
	f := buildFixture(t, newLayoutStore(t, dir))
	for _, tc := range resolveCases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ResolveReference(context.Background(), "oci:"+dir+refSuffix(f, tc.ref), targetFor(tc), Options{Policy: tc.policy})
			checkResolved(t, f, tc, res, err)
		})
	}
}

func targetFor(tc resolveCase) Target {
	t := server18()
	if tc.target != nil {
		tc.target(&t)
	}
	return t
}

func refSuffix(f fixture, ref string) string {
	if ref[0] == '@' {
		return "@" + f.indexes[ref[1:]].Digest.String()
	}
	return ":" + ref
}

func checkResolved(t *testing.T, f fixture, tc resolveCase, res Resolved, err error) {
	t.Helper()
	if tc.err != nil {
		if !errors.Is(err, tc.err) {
			t.Fatalf("err = %v, want %v", err, tc.err)
		}
		var ie *IncompatibleError
		if errors.As(err, &ie) && len(ie.Candidates) == 0 {
			t.Errorf("IncompatibleError lists no candidate: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	want := f.manifests[tc.want]
	if res.Manifest.Digest != want.Digest {
		t.Errorf("resolved %s, want %s (%s)\nrejected: %v", res.Manifest.Digest, tc.want, want.Digest, res.Rejected)
	}
	if res.Manifest.Platform == nil || !platformKnown(*res.Manifest.Platform) {
		t.Errorf("resolved manifest has no platform: %+v", res.Manifest)
	}
	if res.Config.Digest != res.ManifestBody.Config.Digest || len(res.ManifestBody.Layers) != 1 {
		t.Errorf("resolved config %v, manifest body %+v", res.Config, res.ManifestBody)
	}
	if res.Metadata.Package.Name != "vector" || res.Metadata.PG.Major == 0 {
		t.Errorf("resolved metadata %+v", res.Metadata)
	}
}

func TestResolveReportAndConfig(t *testing.T) {
	srv := startRegistry(t, testregistry.Options{})
	want := oneImage(t, srv)
	target := server18()
	target.Libc = labels.Libc{} // unknown: reported, not fatal
	srv.ResetRequests()
	res, err := ResolveReference(context.Background(), srv.Host()+"/ext/vector:1.0", target, Options{FetchConfig: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Digest != want.Digest || res.Image == nil || res.Image.RootFS.DiffIDs[0] != res.ManifestBody.Layers[0].Digest {
		t.Fatalf("resolved %s with config %+v", res.Manifest.Digest, res.Image)
	}
	var got []string
	for _, f := range res.Report {
		got = append(got, f.String())
	}
	wantReport := []string{
		"libc.family: want ?, found glibc (unknown)",
		"libc.version: want ?, found 2.41 (unknown)",
		"base.digest: want ?, found ? (unknown)",
	}
	if diff := cmp.Diff(wantReport, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if m, b, _, _ := countRequests(srv); m != 2 || b != 1 {
		t.Errorf("%d manifest and %d blob GETs, want 2 and 1", m, b)
	}
	if res.Reference != srv.Host()+"/ext/vector@"+want.Digest.String() {
		t.Errorf("Reference = %q", res.Reference)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ResolveReference(ctx, srv.Host()+"/ext/vector:1.0", target, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
}

// TestResolveAmbiguousMajor: with images for several PostgreSQL majors and
// a target whose major is unknown, resolve refuses to pick one and lists
// the majors; a target that states its major resolves.
func TestResolveAmbiguousMajor(t *testing.T) {
	srv := startRegistry(t, testregistry.Options{})
	repo := pushRepo(t, srv, "ext/vector")
	amd := plat("linux/amd64")
	pushIndex(t, repo, []ocispec.Descriptor{
		pushImage(t, repo, testImage{platform: amd, meta: meta("1.0", 17, "glibc", "2.41")}),
		pushImage(t, repo, testImage{platform: amd, meta: meta("1.0", 18, "glibc", "2.41")}),
	}, "1.0")
	ref := srv.Host() + "/ext/vector:1.0"
	_, err := ResolveReference(context.Background(), ref, Target{Platform: amd}, Options{})
	if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "PostgreSQL 17, 18") || !strings.Contains(err.Error(), "--pg-major") {
		t.Errorf("unknown major: %v, want ErrAmbiguous listing 17, 18 and the flag", err)
	}
	res, err := ResolveReference(context.Background(), ref, Target{PG: labels.PG{Major: 17}, Platform: amd}, Options{})
	if err != nil || res.Metadata.PG.Major != 17 {
		t.Errorf("major 17: %v, major %d", err, res.Metadata.PG.Major)
	}
}
