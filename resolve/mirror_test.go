package resolve

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"pgoci/internal/testregistry"
	"pgoci/internal/verify"
)

// mirrorSetup is an upstream registry holding ext/vector:1.0 (an index
// of one pg18 image) and a mirror holding a copy under namespace
// "cache".
type mirrorSetup struct {
	up, mir *testregistry.Server
	index   ocispec.Descriptor // what 1.0 names
	want    ocispec.Descriptor // the manifest a pg18 amd64 server gets
	errs    *mirrorErrors
}

// mirrorErrors collects what OnMirrorError is told.
type mirrorErrors struct {
	mu   sync.Mutex
	list []*MirrorError
}

func (m *mirrorErrors) add(e *MirrorError) { m.mu.Lock(); m.list = append(m.list, e); m.mu.Unlock() }
func (m *mirrorErrors) get() []*MirrorError {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*MirrorError(nil), m.list...)
}

func newMirrorSetup(t *testing.T) *mirrorSetup {
	t.Helper()
	s := &mirrorSetup{up: startRegistry(t, testregistry.Options{}), mir: startRegistry(t, testregistry.Options{}), errs: &mirrorErrors{}}
	s.want = oneImage(t, s.up)
	var err error
	s.index, err = oras.Copy(context.Background(), pushRepo(t, s.up, "ext/vector"), "1.0", pushRepo(t, s.mir, "cache/ext/vector"), "1.0", oras.DefaultCopyOptions)
	if err != nil {
		t.Fatal(err)
	}
	s.up.ResetRequests()
	s.mir.ResetRequests()
	return s
}

// opts reads upstream through the mirror, without retries (so that a
// fault costs one request) and without credentials.
func (s *mirrorSetup) opts(t *testing.T, ms ...Mirror) RemoteOptions {
	if len(ms) == 0 {
		ms = []Mirror{{Location: s.mir.Host() + "/cache"}}
	}
	return RemoteOptions{
		Client:          http.DefaultClient,
		CredentialsFile: filepath.Join(t.TempDir(), "none.json"),
		Mirrors:         map[string][]Mirror{s.up.Host(): ms},
		OnMirrorError:   s.errs.add,
	}
}

// requests lists "METHOD path status" of a registry's log.
func requests(srv *testregistry.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		out = append(out, r.Method+" "+r.Path+" "+itoa(r.Status))
	}
	return out
}

func TestMirrorServesContentTagsUpstream(t *testing.T) {
	s := newMirrorSetup(t)
	res, err := ResolveReference(context.Background(), s.up.Host()+"/ext/vector:1.0", server18(), Options{Remote: s.opts(t)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Digest != s.want.Digest || res.Index.Digest != s.index.Digest {
		t.Errorf("resolved %s in %s, want %s in %s", res.Manifest.Digest, res.Index.Digest, s.want.Digest, s.index.Digest)
	}
	// The upstream says which digest 1.0 names, with one HEAD; the
	// content (index and manifest) comes from the mirror.
	if got := requests(s.up); len(got) != 1 || got[0] != "HEAD /v2/ext/vector/manifests/1.0 200" {
		t.Errorf("upstream requests %v, want the one HEAD of the tag", got)
	}
	want := []string{
		"GET /v2/cache/ext/vector/manifests/" + s.index.Digest.String() + " 200",
		"GET /v2/cache/ext/vector/manifests/" + s.want.Digest.String() + " 200",
	}
	if got := requests(s.mir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mirror requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if e := s.errs.get(); len(e) != 0 {
		t.Errorf("mirror errors reported: %v", e)
	}

	// A layer, by digest, from the mirror too.
	src, _, err := Open(context.Background(), s.up.Host()+"/ext/vector", s.opts(t))
	if err != nil {
		t.Fatal(err)
	}
	s.up.ResetRequests()
	body, err := FetchVerified(context.Background(), src, res.ManifestBody.Layers[0])
	if err != nil || !bytes.HasPrefix(body, []byte("not a real tar")) {
		t.Fatalf("layer: %q, %v", body, err)
	}
	if got := requests(s.up); len(got) != 0 {
		t.Errorf("the layer was asked of the upstream: %v", got)
	}
}

// TestMirrorFallsThrough: a mirror that fails in any way is passed over
// for the upstream, the caller gets the right content, and OnMirrorError
// hears of the failure, naming the mirror and the digest.
func TestMirrorFallsThrough(t *testing.T) {
	tests := []struct {
		name    string
		fault   *testregistry.Fault // on the mirror; nil: see setup
		setup   func(t *testing.T, s *mirrorSetup) []Mirror
		wantErr error // in the reported MirrorError; nil: any
	}{
		{name: "404: the mirror lacks the repository", setup: func(t *testing.T, s *mirrorSetup) []Mirror {
			return []Mirror{{Location: s.mir.Host() + "/elsewhere"}}
		}, wantErr: ErrNotFound},
		{name: "503", fault: &testregistry.Fault{Kind: testregistry.FaultStatus, Status: 503, Times: -1}},
		{name: "500", fault: &testregistry.Fault{Kind: testregistry.FaultStatus, Status: 500, Times: -1}},
		{name: "connection reset", fault: &testregistry.Fault{Kind: testregistry.FaultReset, Times: -1}},
		{name: "unreachable", setup: func(t *testing.T, s *mirrorSetup) []Mirror {
			return []Mirror{{Location: closedPort(t)}}
		}},
		{name: "corrupted index", fault: &testregistry.Fault{Kind: testregistry.FaultCorrupt, Path: `/manifests/sha256:`}, wantErr: ErrDigest},
		{name: "truncated manifest", fault: &testregistry.Fault{Kind: testregistry.FaultTruncate, Path: `/manifests/sha256:`}},
		{name: "second mirror serves", setup: func(t *testing.T, s *mirrorSetup) []Mirror {
			return []Mirror{{Location: closedPort(t)}, {Location: s.mir.Host() + "/cache"}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newMirrorSetup(t)
			var ms []Mirror
			if tc.setup != nil {
				ms = tc.setup(t, s)
			}
			if tc.fault != nil {
				if err := s.mir.AddFault(*tc.fault); err != nil {
					t.Fatal(err)
				}
			}
			res, err := ResolveReference(context.Background(), s.up.Host()+"/ext/vector:1.0", server18(), Options{Remote: s.opts(t, ms...)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Manifest.Digest != s.want.Digest {
				t.Errorf("resolved %s, want %s", res.Manifest.Digest, s.want.Digest)
			}
			errs := s.errs.get()
			if tc.name == "second mirror serves" {
				if len(errs) != 1 || len(requests(s.up)) != 1 {
					t.Errorf("want one failure (the closed port) and the upstream's HEAD only; errors %v, upstream %v", errs, requests(s.up))
				}
				return
			}
			if len(errs) == 0 {
				t.Fatal("OnMirrorError was not called")
			}
			e := errs[0]
			if !strings.HasPrefix(e.Object, "sha256:") || !strings.Contains(e.Error(), e.Object) || !strings.Contains(e.Error(), e.Mirror) ||
				e.Upstream != s.up.Host()+"/ext/vector" {
				t.Errorf("MirrorError %+v does not name the mirror, upstream and digest: %v", e, e)
			}
			if tc.wantErr != nil && !errors.Is(e, tc.wantErr) {
				t.Errorf("MirrorError %v, want %v", e, tc.wantErr)
			}
			if !hasGET(s.up) {
				t.Errorf("the upstream served no content: %v", requests(s.up))
			}
		})
	}
}

func hasGET(srv *testregistry.Server) bool {
	for _, r := range srv.Requests() {
		if r.Method == "GET" && r.Status == 200 {
			return true
		}
	}
	return false
}

// closedPort returns a loopback host:port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	srv := startRegistry(t, testregistry.Options{})
	host := srv.Host()
	srv.Close()
	return host
}

// TestMirrorCannotSubstitute: a mirror whose copy of the repository
// holds other content cannot answer a digest-pinned reference with it,
// nor a tag unless it is trusted with tags.
func TestMirrorCannotSubstitute(t *testing.T) {
	up := startRegistry(t, testregistry.Options{})
	mir := startRegistry(t, testregistry.Options{})
	want := oneImage(t, up)
	upIndex, err := pushRepo(t, up, "ext/vector").Resolve(context.Background(), "1.0")
	if err != nil {
		t.Fatal(err)
	}
	// The mirror's ext/vector:1.0 is another build of the same version.
	mrepo := pushRepo(t, mir, "ext/vector")
	other := pushImage(t, mrepo, testImage{platform: plat("linux/amd64"), meta: meta("1.0", 18, "glibc", "2.40")})
	pushIndex(t, mrepo, []ocispec.Descriptor{other}, "1.0")

	tests := []struct {
		name string
		ref  string
		tags bool
		want ocispec.Descriptor
	}{
		{"tag, resolved upstream", up.Host() + "/ext/vector:1.0", false, want},
		{"digest", up.Host() + "/ext/vector@" + upIndex.Digest.String(), false, want},
		{"digest, mirror trusted with tags", up.Host() + "/ext/vector@" + upIndex.Digest.String(), true, want},
		// The trust Tags grants: the mirror's answer is taken.
		{"tag, mirror trusted with tags", up.Host() + "/ext/vector:1.0", true, other},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := &mirrorErrors{}
			opts := RemoteOptions{Client: http.DefaultClient, CredentialsFile: filepath.Join(t.TempDir(), "none.json"),
				Mirrors: map[string][]Mirror{up.Host(): {{Location: mir.Host(), Tags: tc.tags}}}, OnMirrorError: errs.add}
			res, err := ResolveReference(context.Background(), tc.ref, server18(), Options{Remote: opts})
			if err != nil {
				t.Fatal(err)
			}
			if res.Manifest.Digest != tc.want.Digest {
				t.Errorf("resolved %s, want %s", res.Manifest.Digest, tc.want.Digest)
			}
		})
	}
}

// TestMirrorTagsWhileUpstreamDown: without Tags, a tag cannot be
// resolved while the upstream is unreachable, and the error says why and
// is temporary; with Tags, the mirror answers.
func TestMirrorTagsWhileUpstreamDown(t *testing.T) {
	s := newMirrorSetup(t)
	ref := s.up.Host() + "/ext/vector:1.0"
	if err := s.up.AddFault(testregistry.Fault{Kind: testregistry.FaultReset, Times: -1}); err != nil {
		t.Fatal(err)
	}
	_, err := ResolveReference(context.Background(), ref, server18(), Options{Remote: s.opts(t)})
	if err == nil || !IsTemporary(err) || !strings.Contains(err.Error(), "tags are resolved upstream") {
		t.Fatalf("err = %v, want a temporary error saying tags are resolved upstream", err)
	}
	res, err := ResolveReference(context.Background(), ref, server18(), Options{Remote: s.opts(t, Mirror{Location: s.mir.Host() + "/cache", Tags: true})})
	if err != nil || res.Manifest.Digest != s.want.Digest {
		t.Fatalf("through a mirror trusted with tags: %s, %v", res.Manifest.Digest, err)
	}
	// A digest needs no upstream at all.
	res, err = ResolveReference(context.Background(), s.up.Host()+"/ext/vector@"+s.index.Digest.String(), server18(), Options{Remote: s.opts(t)})
	if err != nil || res.Manifest.Digest != s.want.Digest {
		t.Fatalf("by digest: %s, %v", res.Manifest.Digest, err)
	}
}

// TestMirrorLargeBlob: a blob over MaxManifestSize is streamed from the
// mirror; bytes that do not hash to its digest end the read with a
// *MirrorError, and the next Fetch goes upstream. A small blob that
// fails is replaced by the upstream's at once.
func TestMirrorLargeBlob(t *testing.T) {
	s := newMirrorSetup(t)
	big := make([]byte, MaxManifestSize+1<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	small := []byte("a small layer")
	var descs []ocispec.Descriptor
	for _, b := range [][]byte{big, small} {
		d := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayer, b)
		for _, r := range []*remote.Repository{pushRepo(t, s.up, "ext/vector"), pushRepo(t, s.mir, "cache/ext/vector")} {
			if err := r.Push(context.Background(), d, bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
		}
		descs = append(descs, d)
	}
	src, _, err := Open(context.Background(), s.up.Host()+"/ext/vector", s.opts(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Small: corrupted by the mirror, served by the upstream, unseen.
	if err := s.mir.AddFault(testregistry.Fault{Kind: testregistry.FaultCorrupt, Path: descs[1].Digest.Encoded()}); err != nil {
		t.Fatal(err)
	}
	got, err := FetchVerified(ctx, src, descs[1])
	if err != nil || !bytes.Equal(got, small) {
		t.Fatalf("small blob: %q, %v", got, err)
	}
	if e := s.errs.get(); len(e) != 1 || !errors.Is(e[0], ErrDigest) || e[0].Object != descs[1].Digest.String() {
		t.Fatalf("reported %v, want one digest mismatch of %s", e, descs[1].Digest)
	}

	// The mirror served bad content: it is not asked again by this
	// source, so the large blob comes from the upstream.
	s.mir.ResetRequests()
	rc, err := src.Fetch(ctx, descs[0])
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, verifyingCopy(rc, descs[0]))
	rc.Close()
	if err != nil || n != descs[0].Size || len(s.mir.Requests()) != 0 {
		t.Fatalf("large blob after the mirror was caught: %d bytes, %v; mirror requests %v", n, err, requests(s.mir))
	}

	// A fresh source asks the mirror again, and the large blob's
	// corruption is found at its end.
	src, _, err = Open(ctx, s.up.Host()+"/ext/vector", s.opts(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.mir.AddFault(testregistry.Fault{Kind: testregistry.FaultCorrupt, Path: descs[0].Digest.Encoded()}); err != nil {
		t.Fatal(err)
	}
	rc, err = src.Fetch(ctx, descs[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	var me *MirrorError
	if !errors.As(err, &me) || !errors.Is(err, ErrDigest) || me.Object != descs[0].Digest.String() || me.Mirror != s.mir.Host()+"/cache/ext/vector" {
		t.Fatalf("large corrupted blob: %v, want a MirrorError naming the mirror and digest", err)
	}
	if IsTemporary(err) {
		t.Errorf("IsTemporary(%v) = true", err)
	}
	s.up.ResetRequests()
	s.mir.ResetRequests()
	rc, err = src.Fetch(ctx, descs[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, verifyingCopy(rc, descs[0]))
	rc.Close()
	if err != nil || len(s.mir.Requests()) != 0 || !hasGET(s.up) {
		t.Fatalf("retry: %v; mirror %v, upstream %v", err, requests(s.mir), requests(s.up))
	}
}

// verifyingCopy checks what is read, as a caller does.
func verifyingCopy(r io.Reader, d ocispec.Descriptor) io.Reader { return verify.NewReader(r, d, nil) }

// TestMirrorNeverPushes: Remote ignores Mirrors, so a push reaches the
// registry named and no mirror.
func TestMirrorNeverPushes(t *testing.T) {
	s := newMirrorSetup(t)
	repo, err := Remote(s.up.Host()+"/ext/pushed", s.opts(t))
	if err != nil {
		t.Fatal(err)
	}
	d := pushBlob(t, repo, ocispec.MediaTypeImageLayer, []byte("pushed"))
	if ok, err := pushRepo(t, s.up, "ext/pushed").Exists(context.Background(), d); !ok || err != nil {
		t.Errorf("the upstream does not have the pushed blob: %v", err)
	}
	if got := requests(s.mir); len(got) != 0 {
		t.Errorf("the mirror was asked: %v", got)
	}
	// Without mirrors for the host, Open is what it was: the registry's
	// own repository.
	src, _, err := Open(context.Background(), s.up.Host()+"/ext/vector", RemoteOptions{Mirrors: map[string][]Mirror{"other.example": {{Location: s.mir.Host()}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*remote.Repository); !ok {
		t.Errorf("Open without mirrors for the host returned %T", src)
	}
}

// TestMirrorCredentials: credentials are looked up for the mirror's host.
func TestMirrorCredentials(t *testing.T) {
	s := newMirrorSetup(t)
	s.mir.SetAuth(testregistry.Auth{Mode: testregistry.AuthToken, Username: "mirror", Password: "m-secret"})
	var (
		mu    sync.Mutex
		asked []string
	)
	opts := s.opts(t)
	opts.Credential = func(_ context.Context, host string) (auth.Credential, error) {
		mu.Lock()
		asked = append(asked, host)
		mu.Unlock()
		if host == s.mir.Host() {
			return auth.Credential{Username: "mirror", Password: "m-secret"}, nil
		}
		return auth.EmptyCredential, nil
	}
	res, err := ResolveReference(context.Background(), s.up.Host()+"/ext/vector:1.0", server18(), Options{Remote: opts})
	if err != nil || res.Manifest.Digest != s.want.Digest {
		t.Fatalf("resolve: %s, %v", res.Manifest.Digest, err)
	}
	if e := s.errs.get(); len(e) != 0 {
		t.Errorf("mirror failures: %v", e)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(asked, " "), s.mir.Host()) {
		t.Errorf("credentials asked for %v, want the mirror's host %s", asked, s.mir.Host())
	}
}

// TestMirrorCancel: a cancelled context stops at the mirror; the
// upstream is not asked.
func TestMirrorCancel(t *testing.T) {
	s := newMirrorSetup(t)
	if err := s.mir.AddFault(testregistry.Fault{Kind: testregistry.FaultDelay, Delay: 5 * time.Second, Times: -1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := ResolveReference(ctx, s.up.Host()+"/ext/vector@"+s.index.Digest.String(), server18(), Options{Remote: s.opts(t)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if got := requests(s.up); len(got) != 0 {
		t.Errorf("the upstream was asked after the deadline: %v", got)
	}
}

// TestMirrorAllFail: when mirrors and upstream all lack the digest, the
// error is ErrNotFound, names the reference and lists the mirrors'
// failures.
func TestMirrorAllFail(t *testing.T) {
	s := newMirrorSetup(t)
	missing := "sha256:" + strings.Repeat("ab", 32)
	_, err := ResolveReference(context.Background(), s.up.Host()+"/ext/vector@"+missing, server18(), Options{Remote: s.opts(t)})
	if !errors.Is(err, ErrNotFound) || IsTemporary(err) || !strings.Contains(err.Error(), s.up.Host()+"/ext/vector@"+missing) ||
		!strings.Contains(err.Error(), "mirrors tried first: resolve: mirror "+s.mir.Host()+"/cache/ext/vector") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseMirror(t *testing.T) {
	tests := []struct {
		in   string
		host string
		want Mirror
		err  bool
	}{
		{in: "ghcr.io=mirror.example:5000/ghcr", host: "ghcr.io", want: Mirror{Location: "mirror.example:5000/ghcr"}},
		{in: "localhost:5000=http://cache.internal:5000,tags", host: "localhost:5000", want: Mirror{Location: "http://cache.internal:5000", Tags: true}},
		{in: "ghcr.io=https://m.example/a/b/", host: "ghcr.io", want: Mirror{Location: "https://m.example/a/b/"}},
		{in: "ghcr.io", err: true},
		{in: "=m.example", err: true},
		{in: "ghcr.io=", err: true},
		{in: "ghcr.io/ns=m.example", err: true},
		{in: "ghcr.io=m.example,pull", err: true},
		{in: "ghcr.io=m.example/UPPER", err: true},
		{in: "ghcr.io=ftp://m.example", err: true},
		{in: "ghcr.io=m.example@sha256:ab", err: true},
	}
	for _, tc := range tests {
		host, m, err := ParseMirror(tc.in)
		if tc.err {
			if !errors.Is(err, ErrReference) {
				t.Errorf("ParseMirror(%q) = %q, %+v, %v; want ErrReference", tc.in, host, m, err)
			}
			continue
		}
		if err != nil || host != tc.host || m != tc.want {
			t.Errorf("ParseMirror(%q) = %q, %+v, %v; want %q, %+v", tc.in, host, m, err, tc.host, tc.want)
		}
	}
	// A bad location in RemoteOptions is refused by Open.
	_, _, err := Open(context.Background(), "ghcr.io/ext/vector", RemoteOptions{Mirrors: map[string][]Mirror{"ghcr.io": {{Location: "bad location"}}}})
	if !errors.Is(err, ErrReference) {
		t.Errorf("Open with a bad mirror location: %v", err)
	}
}

// TestMirrorLargeBlobCut: a large blob whose transfer from the mirror is
// cut ends in a temporary *MirrorError, and the next Fetch of the same
// Source reads the upstream.
func TestMirrorLargeBlobCut(t *testing.T) {
	s := newMirrorSetup(t)
	big := make([]byte, MaxManifestSize+1<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	d := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayer, big)
	for _, r := range []*remote.Repository{pushRepo(t, s.up, "ext/vector"), pushRepo(t, s.mir, "cache/ext/vector")} {
		if err := r.Push(context.Background(), d, bytes.NewReader(big)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.mir.AddFault(testregistry.Fault{Kind: testregistry.FaultTruncate, Path: d.Digest.Encoded()}); err != nil {
		t.Fatal(err)
	}
	src, _, err := Open(context.Background(), s.up.Host()+"/ext/vector", s.opts(t))
	if err != nil {
		t.Fatal(err)
	}
	read := func() error {
		rc, err := src.Fetch(context.Background(), d)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, verifyingCopy(rc, d))
		return err
	}
	err = read()
	var me *MirrorError
	if !errors.As(err, &me) || !IsTemporary(err) || me.Object != d.Digest.String() {
		t.Fatalf("cut transfer: %v, want a temporary MirrorError naming %s", err, d.Digest)
	}
	s.mir.ResetRequests()
	if err := read(); err != nil || len(s.mir.Requests()) != 0 || !hasGET(s.up) {
		t.Fatalf("retry: %v; mirror %v, upstream %v", err, requests(s.mir), requests(s.up))
	}
}
