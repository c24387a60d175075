package extension_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/internal/imagefixture"
	"pgoci/internal/testregistry"
	"pgoci/labels"
	"pgoci/resolve"
)

var amd64 = ocispec.Platform{OS: "linux", Architecture: "amd64"}

func pg18amd64() resolve.Target {
	return resolve.Target{PG: labels.PG{Major: 18}, Platform: amd64, Libc: labels.Libc{Family: "glibc", Version: "2.36"}}
}

func versionsRegistry(t *testing.T) *testregistry.Server {
	t.Helper()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func versionsRepo(t *testing.T, srv *testregistry.Server, name string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(srv.Host() + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	return repo
}

// pushVersions fills ext/pgoci_demo with versions of the demo package:
//
//	1.3.0-pg17          a tag for PostgreSQL 17 only (rejected by its name)
//	1.2.0               PostgreSQL 17, amd64 (rejected from the index)
//	1.1.0               PostgreSQL 18, amd64
//	1.0.0-2             PostgreSQL 17 and 18, amd64 and arm64 (Debian revision 2)
//	1.0.0, 1.0          the same index as 1.0.0-2's upstream, one version
//	2.0.0-beta1         a pre-release, left out
//	latest              no version
func pushVersions(t *testing.T, srv *testregistry.Server) map[string]ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	repo := versionsRepo(t, srv, "ext/pgoci_demo")
	work := t.TempDir()
	both := []int{17, 18}
	out := map[string]ocispec.Descriptor{}
	for _, v := range []struct {
		version string
		majors  []int
		archs   []string
		tags    []string
	}{
		{"1.3.0", []int{17}, []string{"amd64"}, []string{"1.3.0-pg17"}},
		{"1.2.0", []int{17}, []string{"amd64"}, []string{"1.2.0"}},
		{"1.1.0", []int{18}, []string{"amd64"}, []string{"1.1.0"}},
		{"1.0.0-2", both, []string{"amd64", "arm64"}, []string{"1.0.0-2"}},
		{"1.0.0", both, []string{"amd64", "arm64"}, []string{"1.0.0", "1.0", "latest"}},
		{"2.0.0-beta1", both, []string{"amd64"}, []string{"2.0.0-beta1"}},
	} {
		idx, err := imagefixture.Demo(ctx, repo, work, v.version, v.majors, v.archs, v.tags...)
		if err != nil {
			t.Fatal(err)
		}
		out[v.version] = idx
	}
	return out
}

// summary is what a test compares of a Version.
type summary struct {
	Tag, Version string
	Fits         bool
	Index        string
	Major        int
	Platform     string
	Why          string
}

func summarize(vs []extension.Version) []summary {
	out := make([]summary, len(vs))
	for i, v := range vs {
		out[i] = summary{Tag: v.Tag, Version: v.Version, Fits: v.Fits, Index: string(v.Index), Major: v.Metadata.PG.Major,
			Platform: resolve.PlatformString(v.Platform), Why: v.Why}
	}
	return out
}

func TestListVersions(t *testing.T) {
	srv := versionsRegistry(t)
	idx := pushVersions(t, srv)
	name := srv.Host() + "/ext/pgoci_demo"
	why120 := "none of 1 images fits: linux/amd64: pg.major: want 18, found 17 (mismatch)"
	all := []summary{
		{Tag: "1.3.0-pg17", Version: "1.3.0", Why: "its tags are for PostgreSQL 17, not 18"},
		{Tag: "1.2.0", Version: "1.2.0", Why: why120},
		{Tag: "1.1.0", Version: "1.1.0", Fits: true, Index: string(idx["1.1.0"].Digest), Major: 18, Platform: "linux/amd64"},
		{Tag: "1.0.0-2", Version: "1.0.0-2", Fits: true, Index: string(idx["1.0.0-2"].Digest), Major: 18, Platform: "linux/amd64"},
		{Tag: "1.0", Version: "1.0", Fits: true, Index: string(idx["1.0.0"].Digest), Major: 18, Platform: "linux/amd64"},
	}
	tests := []struct {
		name     string
		target   resolve.Target
		opts     extension.ListVersionsOptions
		want     []summary
		requests int // tag pages + manifest GETs
	}{
		// 1 tags page; 1.2.0 is decided from its index (1 GET), each
		// version that fits costs its index and manifest (2 GETs).
		{name: "rejected too", target: pg18amd64(), opts: extension.ListVersionsOptions{Rejected: true}, want: all, requests: 1 + 1 + 3*2},
		{name: "fitting only", target: pg18amd64(), want: []summary{all[2], all[3], all[4]}, requests: 1 + 1 + 3*2},
		{name: "newest fitting", target: pg18amd64(), opts: extension.ListVersionsOptions{MaxFitting: 1}, want: all[2:3], requests: 1 + 1 + 2},
		{name: "two versions examined", target: pg18amd64(), opts: extension.ListVersionsOptions{MaxVersions: 2, Rejected: true},
			want: []summary{all[0], all[1], all[2],
				{Tag: "1.0.0-2", Version: "1.0.0-2", Why: "not examined: only the 2 newest versions are (ListVersionsOptions.MaxVersions)"},
				{Tag: "1.0", Version: "1.0", Why: "not examined: only the 2 newest versions are (ListVersionsOptions.MaxVersions)"}},
			requests: 1 + 1 + 2},
		{name: "constraint", target: pg18amd64(), opts: extension.ListVersionsOptions{Constraint: "~1.0"}, want: all[3:], requests: 1 + 2*2},
		{name: "pre-release named", target: pg18amd64(), opts: extension.ListVersionsOptions{Constraint: ">=2.0.0-beta1"},
			want:     []summary{{Tag: "2.0.0-beta1", Version: "2.0.0-beta1", Fits: true, Index: string(idx["2.0.0-beta1"].Digest), Major: 18, Platform: "linux/amd64"}},
			requests: 1 + 2},
		{name: "pg 17 arm64", target: resolve.Target{PG: labels.PG{Major: 17}, Platform: ocispec.Platform{OS: "linux", Architecture: "arm64"}},
			want: []summary{
				{Tag: "1.0.0-2", Version: "1.0.0-2", Fits: true, Index: string(idx["1.0.0-2"].Digest), Major: 17, Platform: "linux/arm64/v8"},
				{Tag: "1.0", Version: "1.0", Fits: true, Index: string(idx["1.0.0"].Digest), Major: 17, Platform: "linux/arm64/v8"},
			},
			// 1.3.0-pg17 and 1.2.0 (amd64 only) and 1.1.0 (pg18) are
			// decided from their indexes.
			requests: 1 + 3 + 2*2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			got, err := extension.ListVersions(context.Background(), name, tt.target, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summarize(got)); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
			if n := len(srv.Requests()); n != tt.requests {
				t.Errorf("%d requests, want %d: %v", n, tt.requests, srv.Requests())
			}
			for _, v := range got {
				if v.Fits && (v.Reference != name+"@"+v.Manifest.String() || !v.DirsComplete ||
					fmt.Sprint(v.Dirs) != "[share lib]") {
					t.Errorf("%s: reference %s, dirs %v complete %v", v.Tag, v.Reference, v.Dirs, v.DirsComplete)
				}
			}
		})
	}
}

// TestListVersionsCandidates: a version that does not fit says, per
// image, what did not.
func TestListVersionsCandidates(t *testing.T) {
	srv := versionsRegistry(t)
	pushVersions(t, srv)
	got, err := extension.ListVersions(context.Background(), srv.Host()+"/ext/pgoci_demo",
		resolve.Target{PG: labels.PG{Major: 16}, Platform: amd64}, extension.ListVersionsOptions{Rejected: true, Constraint: "1.0.0-2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Fits || len(got[0].Candidates) != 4 {
		t.Fatalf("want one version, rejected with 4 candidates: %+v", got)
	}
	for _, c := range got[0].Candidates {
		if c.Tag != "1.0.0-2" || c.Descriptor.Digest == "" || !strings.Contains(fmt.Sprint(c.Findings), "pg.major") {
			t.Errorf("candidate %+v", c)
		}
	}
}

// TestListVersionsBound: a repository with thousands of tags costs the
// tag pages and the 10 newest versions, whatever its size.
func TestListVersionsBound(t *testing.T) {
	const n = 2500
	srv := versionsRegistry(t)
	ctx := context.Background()
	repo := versionsRepo(t, srv, "ext/many")
	idx, err := imagefixture.Demo(ctx, repo, t.TempDir(), "1.0.0", []int{18}, []string{"amd64"})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := repo.Fetch(ctx, idx)
	if err != nil {
		t.Fatal(err)
	}
	body, err := content.ReadAll(rc, idx)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := repo.PushReference(ctx, idx, bytes.NewReader(body), fmt.Sprintf("1.0.%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	name := srv.Host() + "/ext/many"

	srv.ResetRequests()
	start := time.Now()
	got, err := extension.ListVersions(ctx, name, pg18amd64(), extension.ListVersionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pages, gets := countVersionRequests(srv.Requests())
	t.Logf("%d tags: %d tag pages, %d manifest GETs, %v", n, pages, gets, time.Since(start))
	if pages != 3 || gets != 2*extension.DefaultMaxVersions {
		t.Errorf("%d tag pages and %d manifest GETs, want 3 and %d", pages, gets, 2*extension.DefaultMaxVersions)
	}
	if len(got) != extension.DefaultMaxVersions || got[0].Tag != "1.0.2499" || got[9].Tag != "1.0.2490" {
		t.Errorf("got %d versions, %v", len(got), summarize(got))
	}

	srv.ResetRequests()
	_, err = extension.ListVersions(ctx, name, pg18amd64(), extension.ListVersionsOptions{MaxTagPages: 2})
	if !errors.Is(err, extension.ErrTooManyTags) || !strings.Contains(err.Error(), "ext/many") {
		t.Errorf("two pages allowed: %v, want ErrTooManyTags naming the repository", err)
	}
	if pages, gets := countVersionRequests(srv.Requests()); pages != 2 || gets != 0 {
		t.Errorf("two pages allowed: %d tag pages and %d manifest GETs, want 2 and 0", pages, gets)
	}

	srv.ResetRequests()
	got, err = extension.ListVersions(ctx, name, pg18amd64(), extension.ListVersionsOptions{TagPageSize: 500, MaxTagPages: 5, MaxVersions: 3})
	if err != nil || len(got) != 3 {
		t.Fatalf("pages of 500: %d versions, %v", len(got), err)
	}
	if pages, gets := countVersionRequests(srv.Requests()); pages != 5 || gets != 6 {
		t.Errorf("pages of 500: %d tag pages and %d manifest GETs, want 5 and 6", pages, gets)
	}
}

func countVersionRequests(reqs []testregistry.Request) (pages, gets int) {
	for _, r := range reqs {
		switch {
		case strings.HasSuffix(r.Path, "/tags/list"):
			pages++
		case strings.Contains(r.Path, "/manifests/") && r.Method == http.MethodGet:
			gets++
		}
	}
	return pages, gets
}

// TestListVersionsUnusable: an image that does not verify is a version
// that does not fit, with why; the listing goes on.
func TestListVersionsUnusable(t *testing.T) {
	srv := versionsRegistry(t)
	pushVersions(t, srv)
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: http.MethodGet, Path: "/manifests/1.1.0$"}); err != nil {
		t.Fatal(err)
	}
	got, err := extension.ListVersions(context.Background(), srv.Host()+"/ext/pgoci_demo", pg18amd64(), extension.ListVersionsOptions{Rejected: true})
	if err != nil {
		t.Fatal(err)
	}
	s := summarize(got)
	if len(s) != 5 || s[2].Tag != "1.1.0" || s[2].Fits || !strings.HasPrefix(s[2].Why, "unusable: ") || !strings.Contains(s[2].Why, "digest") || !s[3].Fits {
		t.Errorf("corrupt 1.1.0: %+v", s)
	}
}

// TestListVersionsFailures: a registry that cannot be read ends the
// listing with an error naming the repository (and tag); so does a
// cancelled context, before any request.
func TestListVersionsFailures(t *testing.T) {
	srv := versionsRegistry(t)
	pushVersions(t, srv)
	name := srv.Host() + "/ext/pgoci_demo"
	noRetry := extension.ListVersionsOptions{Remote: resolve.RemoteOptions{Client: http.DefaultClient}}

	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Status: 500, Path: "/manifests/", Times: -1}); err != nil {
		t.Fatal(err)
	}
	_, err := extension.ListVersions(context.Background(), name, pg18amd64(), noRetry)
	if err == nil || !strings.Contains(err.Error(), "ext/pgoci_demo") || !strings.Contains(err.Error(), "tag 1.2.0") {
		t.Errorf("manifests answer 500: %v, want an error naming the repository and tag", err)
	}
	srv.ClearFaults()

	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Status: 404, Path: "/tags/list"}); err != nil {
		t.Fatal(err)
	}
	_, err = extension.ListVersions(context.Background(), name, pg18amd64(), noRetry)
	if err == nil || !strings.Contains(err.Error(), "list the tags of "+name) {
		t.Errorf("tags answer 404: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv.ResetRequests()
	if _, err := extension.ListVersions(ctx, name, pg18amd64(), extension.ListVersionsOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("cancelled: %d requests", n)
	}

	for _, bad := range []string{name + ":1.0", name + "@sha256:" + strings.Repeat("0", 64), "nohost"} {
		if _, err := extension.ListVersions(context.Background(), bad, pg18amd64(), extension.ListVersionsOptions{}); !errors.Is(err, resolve.ErrReference) {
			t.Errorf("%s: %v, want ErrReference", bad, err)
		}
	}
}

// TestListVersionsAmbiguous: a target without a major cannot choose
// between images of several majors; the listing says so rather than
// guess.
func TestListVersionsAmbiguous(t *testing.T) {
	srv := versionsRegistry(t)
	pushVersions(t, srv)
	_, err := extension.ListVersions(context.Background(), srv.Host()+"/ext/pgoci_demo", resolve.Target{Platform: amd64}, extension.ListVersionsOptions{Constraint: "1.0"})
	if !errors.Is(err, resolve.ErrAmbiguous) {
		t.Errorf("no major: %v, want ErrAmbiguous", err)
	}
}

// TestListVersionsCloudNativePG: CloudNativePG's tags (a moving tag and a
// build tag per version, a major and a distribution in each, epochs) are
// ordered as resolve orders them, and images labelled only by
// CloudNativePG keys fit, their directories unknown.
func TestListVersionsCloudNativePG(t *testing.T) {
	srv := versionsRegistry(t)
	ctx := context.Background()
	repo := versionsRepo(t, srv, "cnpg/pgvector")
	image := func(major, os string) []imagefixture.Image {
		a := map[string]string{labels.KeyCNPGBasePGMajor: major, labels.KeyCNPGBaseOS: os}
		return []imagefixture.Image{{Platform: amd64, Annotations: a, IndexAnnotations: a}}
	}
	for tags, im := range map[string][]imagefixture.Image{
		"0.8.1-18-trixie 0.8.1-202509101200-18-trixie": image("18", "trixie"),
		"0.8.1-202508010000-18-trixie":                 image("18", "trixie"),
		"0.8.1-17-trixie":                              image("17", "trixie"),
		"0.8.0-18-bookworm":                            image("18", "bookworm"),
		"1-0.7.0-18-trixie":                            image("18", "trixie"),
	} {
		if _, _, err := imagefixture.Handmade(ctx, repo, im, strings.Fields(tags)...); err != nil {
			t.Fatal(err)
		}
	}
	target := resolve.Target{PG: labels.PG{Major: 18}, Platform: amd64, Libc: labels.Libc{Family: "glibc", Version: "2.41"},
		Distro: labels.Distro{ID: "debian", Version: "13", Codename: "trixie"}}
	got, err := extension.ListVersions(ctx, srv.Host()+"/cnpg/pgvector", target, extension.ListVersionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, v := range got {
		tags = append(tags, v.Version+" "+v.Tag)
		if v.DirsComplete || v.Dirs != nil {
			t.Errorf("%s: dirs %v complete %v, want unknown", v.Tag, v.Dirs, v.DirsComplete)
		}
	}
	want := []string{"1:0.7.0 1-0.7.0-18-trixie", "0.8.1 0.8.1-202509101200-18-trixie", "0.8.0 0.8.0-18-bookworm"}
	if diff := cmp.Diff(want, tags); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
}

// TestListVersionsLayout: an OCI image layout lists like a registry.
func TestListVersionsLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := oci.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if _, err := imagefixture.Demo(ctx, store, work, v, []int{18}, []string{"amd64"}, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := extension.ListVersions(ctx, "oci:"+dir, pg18amd64(), extension.ListVersionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Tag != "1.1.0" || got[1].Tag != "1.0.0" || !got[0].Fits || !strings.HasPrefix(got[0].Reference, "oci:"+dir+"@sha256:") {
		t.Errorf("layout: %+v", summarize(got))
	}
}

func TestImageDirs(t *testing.T) {
	bundled := []labels.Object{{Path: "lib/postgis-3.so"}, {Path: "system/libgeos_c.so.1"}}
	tests := []struct {
		name     string
		m        labels.Metadata
		dirs     string
		complete bool
	}{
		{"SQL only", labels.Metadata{SchemaVersion: 1, Extensions: []labels.Extension{{Name: "x"}}}, "[share]", true},
		{"modules and objects", labels.Metadata{SchemaVersion: 1, Extensions: []labels.Extension{{Name: "x"}}, Modules: []string{"x"},
			Objects: []labels.Object{{Path: "lib/x.so"}}}, "[share lib]", true},
		{"bundled libraries", labels.Metadata{SchemaVersion: 1, Extensions: []labels.Extension{{Name: "postgis"}}, Modules: []string{"postgis-3"},
			Objects: bundled}, "[share lib system]", true},
		{"programs", labels.Metadata{SchemaVersion: 1, Programs: []string{"pg_repack"}, Objects: []labels.Object{{Path: "bin/pg_repack"}}}, "[bin]", true},
		{"objects not recorded", labels.Metadata{SchemaVersion: 1, Extensions: []labels.Extension{{Name: "x"}}, Modules: []string{"x"}}, "[share lib]", false},
		{"CloudNativePG labels only", labels.Metadata{PG: labels.PG{Major: 18}}, "[]", false},
	}
	for _, tt := range tests {
		dirs, complete := extension.ImageDirs(tt.m)
		if fmt.Sprint(dirs) != tt.dirs || complete != tt.complete {
			t.Errorf("%s: %v %v, want %s %v", tt.name, dirs, complete, tt.dirs, tt.complete)
		}
	}
}
