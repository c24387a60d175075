package catalog_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/catalog"
	"pgoci/extension"
	"pgoci/internal/imagefixture"
	"pgoci/internal/testregistry"
	"pgoci/labels"
	"pgoci/resolve"
)

var amd64 = ocispec.Platform{OS: "linux", Architecture: "amd64"}

// target is PostgreSQL major on Debian 13 (glibc 2.41), amd64.
func target(major int) resolve.Target {
	return resolve.Target{PG: labels.PG{Major: major}, Platform: amd64, Libc: labels.Libc{Family: "glibc", Version: "2.41"},
		Distro: labels.Distro{ID: "debian", Version: "13", Codename: "trixie"}}
}

// repositories under the prefix ext of the test world, sorted.
var extRepos = []string{"cnpg/pgvector", "empty", "pgoci_demo", "postgis"}

// world starts a registry holding:
//
//	ext/pgoci_demo      the demo package, 1.0.0 for PostgreSQL 17 and 18 (amd64, arm64), 1.1.0 for 18 (amd64)
//	ext/postgis         a pgoci image that bundles system/ libraries, 3.5.2 for 18
//	ext/cnpg/pgvector   an image labelled by CloudNativePG keys alone, 0.8.1-18-trixie
//	ext/empty           a tag that names no version
//	ext-old/zzz, other/hstore   outside the prefix
func world(t testing.TB) *testregistry.Server {
	t.Helper()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	pushWorld(t, srv)
	return srv
}

func pushWorld(t testing.TB, srv *testregistry.Server) {
	t.Helper()
	ctx := context.Background()
	work := t.TempDir()
	repo := repository(t, srv, "ext/pgoci_demo")
	if _, err := imagefixture.Demo(ctx, repo, work, "1.0.0", []int{17, 18}, []string{"amd64", "arm64"}, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := imagefixture.Demo(ctx, repo, work, "1.1.0", []int{18}, []string{"amd64"}, "1.1.0"); err != nil {
		t.Fatal(err)
	}
	postgis := labels.Metadata{
		Package:    labels.Package{Name: "postgis", Version: "3.5.2"},
		Extensions: []labels.Extension{{Name: "postgis", Version: "3.5.2"}},
		PG:         labels.PG{Major: 18},
		Libc:       labels.Libc{Family: "glibc", Version: "2.36"},
		Modules:    []string{"postgis-3"},
		Objects:    []labels.Object{{Path: "lib/postgis-3.so"}, {Path: "system/libgeos_c.so.1"}},
	}
	handmade(t, srv, "ext/postgis", []imagefixture.Image{{Platform: amd64, Annotations: postgis.Annotations(),
		IndexAnnotations: postgis.SelectionAnnotations()}}, "3.5.2")
	cnpg := map[string]string{labels.KeyCNPGBasePGMajor: "18", labels.KeyCNPGBaseOS: "trixie"}
	handmade(t, srv, "ext/cnpg/pgvector", []imagefixture.Image{{Platform: amd64, Annotations: cnpg, IndexAnnotations: cnpg}}, "0.8.1-18-trixie")
	handmade(t, srv, "ext/empty", []imagefixture.Image{{Platform: amd64, Annotations: cnpg}}, "latest")
	handmade(t, srv, "ext-old/zzz", []imagefixture.Image{{Platform: amd64, Annotations: cnpg}}, "1.0")
	handmade(t, srv, "other/hstore", []imagefixture.Image{{Platform: amd64, Annotations: cnpg}}, "1.0")
}

func repository(t testing.TB, srv *testregistry.Server, name string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(srv.Host() + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	return repo
}

func handmade(t testing.TB, srv *testregistry.Server, name string, images []imagefixture.Image, tags ...string) {
	t.Helper()
	if _, _, err := imagefixture.Handmade(context.Background(), repository(t, srv, name), images, tags...); err != nil {
		t.Fatal(err)
	}
}

// line is what a test compares of a repository: its newest fitting
// version, or why none fits.
type line struct {
	Path, Version, Tag, Manifest, Index string
	Dirs                                string
	DirsComplete                        bool
	Error                               string
}

func lines(l *catalog.Listing) []line {
	var out []line
	for _, r := range l.Repositories {
		ln := line{Path: r.Path, Error: r.Error}
		if v, ok := r.Newest(); ok {
			ln.Version, ln.Tag, ln.Manifest, ln.Index = v.Version, v.Tag, string(v.Manifest), string(v.Index)
			ln.Dirs, ln.DirsComplete = strings.Join(v.Dirs, ","), v.DirsComplete
		}
		out = append(out, ln)
	}
	return out
}

// countRequests splits the request log: /v2/_catalog pages, tag list
// pages, manifest GETs, blob GETs, and anything else.
func countRequests(reqs []testregistry.Request) (catalogs, tags, manifests, blobs, other int) {
	for _, r := range reqs {
		switch {
		case r.Path == "/v2/_catalog":
			catalogs++
		case strings.HasSuffix(r.Path, "/tags/list"):
			tags++
		case strings.Contains(r.Path, "/manifests/") && r.Method == http.MethodGet:
			manifests++
		case strings.Contains(r.Path, "/blobs/") && r.Method == http.MethodGet:
			blobs++
		default:
			other++
		}
	}
	return
}

func TestListFromRegistry(t *testing.T) {
	srv := world(t)
	ctx := context.Background()
	srv.ResetRequests()
	l, err := catalog.List(ctx, srv.Host()+"/ext", target(18), catalog.Options{Versions: extension.ListVersionsOptions{MaxFitting: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if l.From != catalog.FromRegistry {
		t.Errorf("from %s, want registry", l.From)
	}
	got := lines(l)
	var paths []string
	for _, ln := range got {
		paths = append(paths, ln.Path)
	}
	if diff := cmp.Diff(extRepos, paths); diff != "" {
		t.Fatalf("repositories (-want +got):\n%s", diff)
	}
	want := map[string]line{
		"cnpg/pgvector": {Version: "0.8.1", Tag: "0.8.1-18-trixie"},
		"empty":         {},
		"pgoci_demo":    {Version: "1.1.0", Tag: "1.1.0", Dirs: "share,lib", DirsComplete: true},
		"postgis":       {Version: "3.5.2", Tag: "3.5.2", Dirs: "share,lib,system", DirsComplete: true},
	}
	for _, ln := range got {
		w := want[ln.Path]
		if ln.Version != w.Version || ln.Tag != w.Tag || ln.Dirs != w.Dirs || ln.DirsComplete != w.DirsComplete || ln.Error != "" ||
			(w.Version != "" && (ln.Manifest == "" || ln.Index == "")) {
			t.Errorf("%s: %+v, want %+v", ln.Path, ln, w)
		}
	}
	// One page of /v2/_catalog (starting at the prefix, stopping past
	// it), one tags page per repository, and per repository with a
	// version that fits its index and manifest.
	c, tg, m, b, o := countRequests(srv.Requests())
	if c != 1 || tg != 4 || m != 3*2 || b != 0 || o != 0 {
		t.Errorf("requests: %d catalog, %d tags, %d manifest GETs, %d blob GETs, %d other; want 1, 4, 6, 0, 0", c, tg, m, b, o)
	}
	if q := srv.Requests()[0].Query; q != "last=ext&n=1000" {
		t.Errorf("first /v2/_catalog query %q, want last=ext&n=1000", q)
	}
}

// TestListFromArtifact: a registry without /v2/_catalog is listed from
// the catalog artifact, with the answers the registry gives, in 2
// requests after the refused /v2/_catalog, and none per repository.
func TestListFromArtifact(t *testing.T) {
	srv := world(t)
	ctx := context.Background()
	prefix := srv.Host() + "/ext"
	opts := catalog.Options{Versions: extension.ListVersionsOptions{Rejected: true}}
	var fromRegistry []*catalog.Listing
	for _, major := range []int{17, 18} {
		l, err := catalog.List(ctx, prefix, target(major), opts)
		if err != nil {
			t.Fatal(err)
		}
		fromRegistry = append(fromRegistry, l)
	}
	if got := versions(fromRegistry[0]); len(got["postgis"]) != 1 || !strings.Contains(got["postgis"][0], "pg.major: want 17, found 18") ||
		!strings.Contains(got["cnpg/pgvector"][0], "its tags are for PostgreSQL 18, not 17") {
		t.Errorf("PostgreSQL 17: %q", got)
	}
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Status: 404, Path: "^/v2/_catalog$", Times: -1}); err != nil {
		t.Fatal(err)
	}
	_, err := catalog.Open(ctx, prefix, catalog.Options{})
	if !errors.Is(err, catalog.ErrNoCatalog) || !strings.Contains(err.Error(), "pgoci catalog publish") {
		t.Fatalf("no _catalog, no artifact: %v, want ErrNoCatalog saying what to do", err)
	}
	if _, err := catalog.Publish(ctx, prefix, catalog.PublishOptions{}); err == nil || !strings.Contains(err.Error(), "name the repositories") {
		t.Errorf("publish without _catalog nor names: %v", err)
	}
	pub, err := catalog.Publish(ctx, prefix, catalog.PublishOptions{Repositories: extRepos})
	if err != nil {
		t.Fatal(err)
	}
	if pub.Repositories != 4 || pub.Tags != 4 || pub.Manifests != 7 || len(pub.Skipped) != 0 {
		t.Errorf("published %+v", pub)
	}
	for _, status := range []int{401, 403, 404, 405, 501} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv.ClearFaults()
			if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Status: status, Path: "^/v2/_catalog$", Times: -1}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.ClearFaults)
			o := opts
			// The default client retries 5xx answers (501 included)
			// five times with backoff before Open falls back.
			o.Remote.Client = http.DefaultClient
			srv.ResetRequests()
			c, err := catalog.Open(ctx, prefix, o)
			if err != nil {
				t.Fatal(err)
			}
			cat, tg, m, b, other := countRequests(srv.Requests())
			if c.From != catalog.FromArtifact || !strings.Contains(c.Fallback, "/v2/_catalog") {
				t.Errorf("from %s (%s), want the artifact", c.From, c.Fallback)
			}
			if cat != 1 || tg != 0 || m != 1 || b != 1 || other != 0 {
				t.Errorf("open: %d catalog, %d tags, %d manifest GETs, %d blob GETs, %d other; want 1, 0, 1, 1, 0", cat, tg, m, b, other)
			}
			srv.ResetRequests()
			for i, major := range []int{17, 18} {
				fromArtifact, err := c.List(ctx, target(major))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(versions(fromRegistry[i]), versions(fromArtifact)); diff != "" {
					t.Errorf("PostgreSQL %d: artifact and registry differ (-registry +artifact):\n%s", major, diff)
				}
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("list from the artifact: %d requests, want 0", n)
			}
		})
	}
}

// versions is every version of every repository of a listing, as the
// artifact can tell them (its labels are the selection subset).
func versions(l *catalog.Listing) map[string][]string {
	out := map[string][]string{}
	for _, r := range l.Repositories {
		for _, v := range r.Versions {
			out[r.Path] = append(out[r.Path], strings.Join([]string{v.Tag, v.Version, v.Reference, string(v.Index),
				string(v.Manifest), resolve.PlatformString(v.Platform), strings.Join(v.Dirs, ","), v.Why,
				v.Metadata.Package.Name, v.Metadata.Package.Version}, " "))
		}
	}
	return out
}

// TestPublish: the artifact is reproducible, and a second publish of the
// same content writes only its manifest.
func TestPublish(t *testing.T) {
	srv := world(t)
	ctx := context.Background()
	prefix := srv.Host() + "/ext"
	srv.ResetRequests()
	first, err := catalog.Publish(ctx, prefix, catalog.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// /v2/_catalog, then per repository its tags page, each version
	// tag's index (4) and each manifest of the indexes (7); then the
	// push: 2 HEADs, 2 uploads (POST, PUT) and the tagged manifest.
	c, tg, m, b, o := countRequests(srv.Requests())
	t.Logf("publish: %d catalog, %d tags, %d manifest GETs, %d blob GETs, %d other", c, tg, m, b, o)
	if c != 1 || tg != 4 || m != 4+7 || b != 0 || o != 2+2*2+1 {
		t.Errorf("publish: %d catalog, %d tags, %d manifest GETs, %d blob GETs, %d other; want 1, 4, 11, 0, 7", c, tg, m, b, o)
	}
	if first.Repositories != 4 || first.Tags != 4 || first.Manifests != 7 || !strings.HasPrefix(first.Reference, prefix+"/catalog:latest@sha256:") {
		t.Errorf("published %+v", first)
	}
	srv.ResetRequests()
	second, err := catalog.Publish(ctx, prefix, catalog.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Manifest.Digest != first.Manifest.Digest {
		t.Errorf("published %s then %s: not reproducible", first.Manifest.Digest, second.Manifest.Digest)
	}
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost || r.Method == http.MethodPatch {
			t.Errorf("second publish uploaded a blob: %s %s", r.Method, r.Path)
		}
	}
	doc, _, err := catalog.Build(ctx, prefix, catalog.PublishOptions{Repositories: []string{"postgis"}})
	if err != nil {
		t.Fatal(err)
	}
	labelsKept := doc.Repositories[0].Tags[0].Manifests[0].Labels
	if _, ok := labelsKept[labels.KeyObjects]; ok || labelsKept[labels.KeyModules] != "postgis-3" || labelsKept[labels.KeyPGMajor] != "18" {
		t.Errorf("labels kept: %v", labelsKept)
	}
	for _, bad := range []string{"catalog", "Bad/Name", "a//b"} {
		if _, _, err := catalog.Build(ctx, prefix, catalog.PublishOptions{Repositories: []string{bad}}); !errors.Is(err, catalog.ErrPrefix) {
			t.Errorf("repository %q: %v, want ErrPrefix", bad, err)
		}
	}
}

// TestPublishSkips: a tag whose content does not verify is left out and
// reported; the rest is published.
func TestPublishSkips(t *testing.T) {
	srv := world(t)
	ctx := context.Background()
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: http.MethodGet, Path: "/ext/pgoci_demo/manifests/1.1.0$"}); err != nil {
		t.Fatal(err)
	}
	doc, skipped, err := catalog.Build(ctx, srv.Host()+"/ext", catalog.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], "pgoci_demo:1.1.0") || !strings.Contains(skipped[0], "digest") {
		t.Errorf("skipped %q", skipped)
	}
	for _, r := range doc.Repositories {
		if r.Name == "pgoci_demo" && (len(r.Tags) != 1 || r.Tags[0].Tag != "1.0.0") {
			t.Errorf("pgoci_demo tags %+v", r.Tags)
		}
	}
}

func TestOpenBounds(t *testing.T) {
	srv := world(t)
	ctx := context.Background()
	srv.ResetRequests()
	_, err := catalog.Open(ctx, srv.Host()+"/ext", catalog.Options{PageSize: 1, MaxPages: 3})
	if !errors.Is(err, catalog.ErrTooManyRepositories) {
		t.Errorf("3 pages of 1: %v, want ErrTooManyRepositories", err)
	}
	if c, _, _, _, _ := countRequests(srv.Requests()); c != 4 {
		t.Errorf("3 pages of 1: %d /v2/_catalog requests, want 3 and one that finds more", c)
	}
	if _, err := catalog.Open(ctx, srv.Host()+"/ext", catalog.Options{MaxRepositories: 3}); !errors.Is(err, catalog.ErrTooManyRepositories) {
		t.Errorf("3 repositories: %v, want ErrTooManyRepositories", err)
	}
	c, err := catalog.Open(ctx, srv.Host(), catalog.Options{})
	if err != nil || len(c.Repositories) != 6 {
		t.Errorf("the whole registry: %v %v", c, err)
	}
	for _, bad := range []string{"", "oci:/tmp/x", srv.Host() + "/ext:1.0", srv.Host() + "/ext@sha256:" + strings.Repeat("0", 64), srv.Host() + "/Ext", "/ext"} {
		if _, err := catalog.Open(ctx, bad, catalog.Options{}); !errors.Is(err, catalog.ErrPrefix) {
			t.Errorf("prefix %q: %v, want ErrPrefix", bad, err)
		}
	}
}

// TestOpenLyingRegistry: a registry whose /v2/_catalog pages never end
// costs MaxPages pages (and one more), then an error.
func TestOpenLyingRegistry(t *testing.T) {
	reg := testregistry.New(testregistry.Options{})
	calls := 0
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/_catalog" {
			reg.ServeHTTP(w, r)
			return
		}
		calls++
		w.Header().Set("Link", `</v2/_catalog?last=ext/a&n=1000>; rel="next"`)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"repositories":["ext/a","ext/a"]}`))
	}))
	_, err := catalog.Open(context.Background(), srv+"/ext", catalog.Options{MaxPages: 5})
	if !errors.Is(err, catalog.ErrTooManyRepositories) || calls != 6 {
		t.Errorf("endless pages: %v after %d requests, want ErrTooManyRepositories after 6", err, calls)
	}
}

// newServer serves h on a loopback port and returns its host:port.
func newServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
