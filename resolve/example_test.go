package resolve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
	"pgoci/labels"
	"pgoci/resolve"
)

// srv is the registry the examples resolve from; TestMain fills it with
// ext/vector:0.8.1, an index of builds for PostgreSQL 17 and 18 on amd64
// and arm64.
var srv *testregistry.Server

func TestMain(m *testing.M) {
	var err error
	if srv, err = testregistry.Serve(testregistry.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	repo, err := remote.NewRepository(srv.Host() + "/ext/vector")
	if err == nil {
		repo.PlainHTTP = true
		err = pushVector(context.Background(), repo, "0.8.1")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// pushVector pushes an index of four vector builds and tags it version.
func pushVector(ctx context.Context, dst oras.Target, version string) error {
	var descs []ocispec.Descriptor
	for _, pg := range []int{17, 18} {
		for _, p := range []string{"amd64", "arm64"} {
			m := labels.Metadata{SchemaVersion: 1, Package: labels.Package{Name: "vector", Version: version},
				PG: labels.PG{Major: pg}, Libc: labels.Libc{Family: "glibc", Version: "2.41"},
				Distro: labels.Distro{ID: "debian", Version: "13", Codename: "trixie"}}
			d, err := pushImage(ctx, dst, ocispec.Platform{OS: "linux", Architecture: p}, m)
			if err != nil {
				return err
			}
			descs = append(descs, d)
		}
	}
	idx, err := pushJSON(ctx, dst, ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: descs})
	if err != nil {
		return err
	}
	return dst.Tag(ctx, idx, version)
}

// pushImage pushes a config, a layer and a manifest labelled with m, and
// returns the index descriptor for it: platform plus selection labels.
func pushImage(ctx context.Context, dst content.Pusher, p ocispec.Platform, m labels.Metadata) (ocispec.Descriptor, error) {
	cfg := ocispec.Image{Platform: p, RootFS: ocispec.RootFS{Type: "layers"}}
	cfg.Config.Labels = m.Annotations()
	layer, err := pushBytes(ctx, dst, ocispec.MediaTypeImageLayer, []byte(p.Architecture+fmt.Sprint(m.PG.Major)))
	if err != nil {
		return layer, err
	}
	cd, err := pushJSON(ctx, dst, ocispec.MediaTypeImageConfig, cfg)
	if err != nil {
		return cd, err
	}
	d, err := pushJSON(ctx, dst, ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: []ocispec.Descriptor{layer}, Annotations: m.Annotations()})
	d.Platform, d.Annotations = &p, m.SelectionAnnotations()
	return d, err
}

func pushJSON(ctx context.Context, dst content.Pusher, mt string, v any) (ocispec.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return pushBytes(ctx, dst, mt, b)
}

func pushBytes(ctx context.Context, dst content.Pusher, mt string, b []byte) (ocispec.Descriptor, error) {
	d := content.NewDescriptorFromBytes(mt, b)
	if err := dst.Push(ctx, d, bytes.NewReader(b)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return d, err
	}
	return d, nil
}

// pg18arm is the server the examples resolve for.
var pg18arm = resolve.Target{
	PG:       labels.PG{Major: 18, VersionNum: 180004},
	Platform: ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
	Libc:     labels.Libc{Family: "glibc", Version: "2.41"},
	Distro:   labels.Distro{ID: "debian", Version: "13", Codename: "trixie"},
}

// Resolve a tag in a registry for a PostgreSQL 18 server on arm64: the
// index's annotations select the manifest, so two GETs suffice.
func ExampleResolveReference() {
	srv.ResetRequests()
	res, err := resolve.ResolveReference(context.Background(), srv.Host()+"/ext/vector:0.8.1", pg18arm, resolve.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Tag, resolve.PlatformString(res.Platform), "pg", res.Metadata.PG.Major, res.Metadata.Package.Name, res.Metadata.Package.Version)
	fmt.Println("layers to fetch:", len(res.ManifestBody.Layers))
	fmt.Println("rejected from the index alone:", len(res.Rejected))
	for _, r := range srv.Requests() {
		fmt.Println(r.Method, strings.Replace(r.Path, res.Manifest.Digest.String(), "<manifest>", 1), r.Status)
	}
	// Output:
	// 0.8.1 linux/arm64 pg 18 vector 0.8.1
	// layers to fetch: 1
	// rejected from the index alone: 3
	// GET /v2/ext/vector/manifests/0.8.1 200
	// GET /v2/ext/vector/manifests/<manifest> 200
}

// Resolve from an OCI image layout directory by version constraint: the
// tags are listed, the highest version satisfying "^0.8" is resolved.
func ExampleResolve() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "layout")
	defer os.RemoveAll(dir)
	st, err := oci.New(dir)
	if err == nil {
		for _, v := range []string{"0.7.4", "0.8.0", "0.8.1", "0.9.0-rc1"} {
			if err = pushVector(ctx, st, v); err != nil {
				break
			}
		}
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	src, err := resolve.Layout(ctx, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	target := pg18arm
	target.PG.Major = 17
	res, err := resolve.Resolve(ctx, src, resolve.Reference{Layout: dir}, target, resolve.Options{Version: "^0.8"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Tag, res.Metadata.PG.Major, resolve.PlatformString(res.Platform))
	// Output:
	// 0.8.1 17 linux/arm64
}

// A rejection lists each candidate, each property wanted vs found.
func ExampleIncompatibleError() {
	target := pg18arm
	target.PG.Major = 16
	_, err := resolve.ResolveReference(context.Background(), srv.Host()+"/ext/vector:0.8.1", target, resolve.Options{})
	var ie *resolve.IncompatibleError
	if errors.As(err, &ie) {
		for _, c := range ie.Candidates {
			for _, f := range c.Findings {
				if f.Status == resolve.Mismatch {
					fmt.Println(resolve.PlatformString(c.Platform), f)
				}
			}
		}
	}
	// Output:
	// linux/amd64 pg.major: want 16, found 17 (mismatch)
	// linux/amd64 platform: want linux/arm64/v8, found linux/amd64 (mismatch)
	// linux/arm64 pg.major: want 16, found 17 (mismatch)
	// linux/amd64 pg.major: want 16, found 18 (mismatch)
	// linux/amd64 platform: want linux/arm64/v8, found linux/amd64 (mismatch)
	// linux/arm64 pg.major: want 16, found 18 (mismatch)
}

// Check one image's labels against a server under each policy.
func ExampleCheck() {
	image := labels.Metadata{PG: labels.PG{Major: 18}, Libc: labels.Libc{Family: "glibc", Version: "2.41"}}
	server := resolve.Target{PG: labels.PG{Major: 18}, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Libc: labels.Libc{Family: "glibc", Version: "2.36"}}
	for _, p := range []resolve.Policy{resolve.Default, resolve.Permissive} {
		findings, err := resolve.Check(p, server, ocispec.Platform{OS: "linux", Architecture: "amd64"}, image)
		fmt.Println(p, errors.Is(err, resolve.ErrIncompatible), findings[3])
	}
	// Output:
	// default true libc.version: want <= 2.36, found 2.41 (mismatch)
	// permissive false libc.version: want <= 2.36, found 2.41 (ignored)
}

func ExampleParseReference() {
	for _, s := range []string{"ghcr.io/pgoci/vector:0.8.1", "localhost:5000/ext/postgis", "oci:/srv/extensions:1.4"} {
		r, err := resolve.ParseReference(s)
		fmt.Printf("%q %q %q %v\n", r.Name(), r.Tag, r.Layout, err)
	}
	// Output:
	// "ghcr.io/pgoci/vector" "0.8.1" "" <nil>
	// "localhost:5000/ext/postgis" "" "" <nil>
	// "oci:/srv/extensions" "1.4" "/srv/extensions" <nil>
}

func ExampleParseConstraint() {
	c, _ := resolve.ParseConstraint(">=1.2,<2")
	for _, s := range []string{"1.1", "1.4", "1.9-rc1", "2.0"} {
		v, _ := resolve.ParseVersion(s)
		fmt.Println(s, c.Match(v))
	}
	// Output:
	// 1.1 false
	// 1.4 true
	// 1.9-rc1 false
	// 2.0 false
}

func ExampleParseVersion() {
	a, _ := resolve.ParseVersion("1.0-beta1")
	b, _ := resolve.ParseVersion("1.0")
	c, _ := resolve.ParseVersion("1.0.0")
	fmt.Println(a.Compare(b), b.Compare(c), a.IsPrerelease())
	// Output:
	// -1 0 true
}

func ExampleParseTag() {
	for _, s := range []string{"3.5.2", "3.5.2-pg17", "0.8.1-18-trixie", "latest"} {
		t, ok := resolve.ParseTag(s)
		fmt.Printf("%s %v version %q pg %d distro %q\n", s, ok, t.Version, t.PGMajor, t.Distro)
	}
	// Output:
	// 3.5.2 true version "3.5.2" pg 0 distro ""
	// 3.5.2-pg17 true version "3.5.2" pg 17 distro ""
	// 0.8.1-18-trixie true version "0.8.1" pg 18 distro "trixie"
	// latest false version "" pg 0 distro ""
}

// Tags as Debian, RPM and CloudNativePG publishers write them: a revision
// is a release, a build timestamp is not part of the version, and "1-"
// before a CloudNativePG version is the Debian epoch 1:.
func ExampleParseTag_packaged() {
	for _, s := range []string{"2.4.2-3", "3.3.2_dfsg-1_b1", "1.2.3-1.el9", "0.8.1-202509101200-18-trixie", "1-6.1.0-18-trixie"} {
		t, _ := resolve.ParseTag(s)
		v := t.Version
		fmt.Printf("%-28s epoch %d nums %v revision %-11q pre-release %-5v pg %d distro %q build %q\n",
			s, v.Epoch, v.Nums, v.Revision, v.IsPrerelease(), t.PGMajor, t.Distro, t.Build)
	}
	// Output:
	// 2.4.2-3                      epoch 0 nums [2 4 2] revision "-3"        pre-release false pg 0 distro "" build ""
	// 3.3.2_dfsg-1_b1              epoch 0 nums [3 3 2] revision "+dfsg-1+b1" pre-release false pg 0 distro "" build ""
	// 1.2.3-1.el9                  epoch 0 nums [1 2 3] revision "-1.el9"    pre-release false pg 0 distro "" build ""
	// 0.8.1-202509101200-18-trixie epoch 0 nums [0 8 1] revision ""          pre-release false pg 18 distro "trixie" build "202509101200"
	// 1-6.1.0-18-trixie            epoch 1 nums [6 1 0] revision ""          pre-release false pg 18 distro "trixie" build ""
}

// The newest build of the newest version comes first; both tags of one
// CloudNativePG build name the same version.
func ExampleSelectTags_cloudNativePG() {
	tags := []string{"0.8.0-18-trixie", "0.8.1-18-trixie", "0.8.1-202509101200-18-trixie", "0.8.1-202510011200-18-trixie", "0.8.1-17-trixie"}
	for _, constraint := range []string{"latest", "0.8.1"} {
		c, _ := resolve.ParseConstraint(constraint)
		var names []string
		for _, t := range resolve.SelectTags(tags, c, pg18arm) {
			names = append(names, t.Name)
		}
		fmt.Println(constraint, names)
	}
	// Output:
	// latest [0.8.1-202510011200-18-trixie 0.8.1-202509101200-18-trixie 0.8.1-18-trixie 0.8.0-18-trixie]
	// 0.8.1 [0.8.1-202510011200-18-trixie 0.8.1-202509101200-18-trixie 0.8.1-18-trixie]
}

func ExampleSelectTags() {
	c, _ := resolve.ParseConstraint("^0.8")
	tags := []string{"0.7.4", "0.8.0", "0.8.1", "0.8.1-17-trixie", "0.8.1-18-trixie", "0.8.1-18-bookworm", "latest"}
	for _, t := range resolve.SelectTags(tags, c, pg18arm) {
		fmt.Println(t.Name)
	}
	// A bookworm build (glibc 2.36) loads on a trixie server (glibc
	// 2.41): it stays, after the tags that fit better.
	// Output:
	// 0.8.1-18-trixie
	// 0.8.1
	// 0.8.1-18-bookworm
	// 0.8.0
}

func ExampleMatchPlatform() {
	server := ocispec.Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}
	for _, img := range []string{"linux/amd64/v3", "linux/amd64", "linux/x86_64/v2", "linux/arm64"} {
		p, _ := resolve.ParsePlatform(img)
		d, ok := resolve.MatchPlatform(server, p)
		fmt.Println(img, ok, d)
	}
	// Output:
	// linux/amd64/v3 true 0
	// linux/amd64 true 200
	// linux/x86_64/v2 true 100
	// linux/arm64 false 0
}

func ExampleNormalizePlatform() {
	for _, s := range []string{"linux/aarch64", "linux/armhf", "linux/amd64"} {
		p, _ := resolve.ParsePlatform(s)
		fmt.Println(resolve.PlatformString(resolve.NormalizePlatform(p)))
	}
	// Output:
	// linux/arm64/v8
	// linux/arm/v7
	// linux/amd64/v1
}

// Describe a server from a CloudNativePG PostgreSQL image's labels.
func ExampleTargetFromLabels() {
	m, _ := labels.Parse(map[string]string{
		"io.cloudnativepg.image.base.pgmajor": "18",
		"io.cloudnativepg.image.base.os":      "trixie",
	})
	t, err := resolve.TargetFromLabels(m, ocispec.Platform{OS: "linux", Architecture: "amd64"}, "")
	fmt.Println(t, err)
	// Output:
	// pg 18 linux/amd64 glibc-2.41 debian-13 <nil>
}

func ExampleRemote() {
	repo, err := resolve.Remote("localhost:5000/ext/vector", resolve.RemoteOptions{CredentialsFile: filepath.Join(os.TempDir(), "pgoci-none.json")})
	fmt.Println(repo.Reference, repo.PlainHTTP, err)
	// Output:
	// localhost:5000/ext/vector true <nil>
}

func ExampleLayout() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "layout")
	defer os.RemoveAll(dir)
	st, err := oci.New(dir)
	if err == nil {
		err = pushVector(ctx, st, "0.8.1")
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	src, err := resolve.Layout(ctx, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = src.Tags(ctx, "", func(tags []string) error { fmt.Println(tags); return nil })
	// Output:
	// [0.8.1]
}

func ExampleOpen() {
	_, ref, err := resolve.Open(context.Background(), srv.Host()+"/ext/vector:0.8.1", resolve.RemoteOptions{})
	fmt.Println(ref.Repository, ref.Tag, err)
	// Output:
	// ext/vector 0.8.1 <nil>
}

func ExampleParsePGConfig() {
	cfg, err := resolve.ParsePGConfig(strings.NewReader("SHAREDIR = /usr/share/postgresql/18\nPKGLIBDIR = /usr/lib/postgresql/18/lib\nVERSION = PostgreSQL 18.4 (Debian 18.4-1)\n"))
	fmt.Println(cfg.PG.Major, cfg.PG.VersionNum, cfg.PkgLibDir, err)
	// Output:
	// 18 180004 /usr/lib/postgresql/18/lib <nil>
}

// Detect the local server; here pg_config is a stand-in script.
func ExampleDetect() {
	dir, _ := os.MkdirTemp("", "pgconfig")
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "pg_config")
	_ = os.WriteFile(script, []byte("#!/bin/sh\necho 'SHAREDIR = /s'; echo 'PKGLIBDIR = /l'; echo 'VERSION = PostgreSQL 17.6'\n"), 0o755)
	t, err := resolve.Detect(context.Background(), resolve.DetectOptions{PGConfig: script})
	fmt.Println(t.PG.Major, t.PG.Version, resolve.PlatformString(t.Platform) == resolve.PlatformString(resolve.HostPlatform()), err)
	// Output:
	// 17 17.6 true <nil>
}

// Read a registry through a mirror, here a second in-process registry
// holding a copy of ext/vector under the namespace "cache". The upstream
// answers one HEAD request (which digest the tag names); the index and
// the manifest come from the mirror, verified against that digest.
func ExampleMirror() {
	ctx := context.Background()
	mirror, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer mirror.Close()
	up, _ := remote.NewRepository(srv.Host() + "/ext/vector")
	cp, _ := remote.NewRepository(mirror.Host() + "/cache/ext/vector")
	up.PlainHTTP, cp.PlainHTTP = true, true
	if _, err := oras.Copy(ctx, up, "0.8.1", cp, "0.8.1", oras.DefaultCopyOptions); err != nil {
		fmt.Println(err)
		return
	}
	srv.ResetRequests()
	mirror.ResetRequests()

	opts := resolve.RemoteOptions{
		Mirrors: map[string][]resolve.Mirror{srv.Host(): {{Location: mirror.Host() + "/cache"}}},
		OnMirrorError: func(err *resolve.MirrorError) {
			fmt.Println("passed over:", err)
		},
	}
	res, err := resolve.ResolveReference(ctx, srv.Host()+"/ext/vector:0.8.1", pg18arm, resolve.Options{Remote: opts})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Tag, resolve.PlatformString(res.Platform), res.Metadata.Package.Version)
	for _, r := range srv.Requests() {
		fmt.Println("upstream:", r.Method, r.Path, r.Status)
	}
	for _, r := range mirror.Requests() {
		fmt.Println("mirror:  ", r.Method, strings.Replace(strings.Replace(r.Path, res.Manifest.Digest.String(), "<manifest>", 1),
			res.Index.Digest.String(), "<index>", 1), r.Status)
	}
	// Output:
	// 0.8.1 linux/arm64 0.8.1
	// upstream: HEAD /v2/ext/vector/manifests/0.8.1 200
	// mirror:   GET /v2/cache/ext/vector/manifests/<index> 200
	// mirror:   GET /v2/cache/ext/vector/manifests/<manifest> 200
}

// Parse the pgoci command's --mirror flag.
func ExampleParseMirror() {
	host, m, err := resolve.ParseMirror("ghcr.io=mirror.example:5000/ghcr")
	fmt.Println(host, m.Location, m.Tags, err)
	host, m, err = resolve.ParseMirror("localhost:5000=http://cache.internal:5000,tags")
	fmt.Println(host, m.Location, m.Tags, err)
	// Output:
	// ghcr.io mirror.example:5000/ghcr false <nil>
	// localhost:5000 http://cache.internal:5000 true <nil>
}

// Decide whether to retry: a missing tag needs a person, a registry that
// cannot be reached only time.
func ExampleIsTemporary() {
	ctx := context.Background()
	opts := resolve.Options{Remote: resolve.RemoteOptions{Client: http.DefaultClient}} // no retries inside
	_, err := resolve.ResolveReference(ctx, srv.Host()+"/ext/vector:9.9", pg18arm, opts)
	fmt.Println(errors.Is(err, resolve.ErrNotFound), resolve.IsTemporary(err))

	down, _ := testregistry.Serve(testregistry.Options{})
	down.Close() // nothing listens there any more
	_, err = resolve.ResolveReference(ctx, down.Host()+"/ext/vector:0.8.1", pg18arm, opts)
	fmt.Println(errors.Is(err, resolve.ErrNotFound), resolve.IsTemporary(err))
	// Output:
	// true false
	// false true
}
