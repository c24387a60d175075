package resolve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote/auth"

	"pgoci/internal/testregistry"
)

// oneImage pushes an index of one pg18 amd64 image tagged "1.0".
func oneImage(t *testing.T, srv *testregistry.Server) ocispec.Descriptor {
	t.Helper()
	repo := pushRepo(t, srv, "ext/vector")
	d := pushImage(t, repo, testImage{platform: plat("linux/amd64"), meta: meta("1.0", 18, "glibc", "2.41")})
	pushIndex(t, repo, []ocispec.Descriptor{d}, "1.0")
	return d
}

func TestResolveAuth(t *testing.T) {
	srv := startRegistry(t, testregistry.Options{})
	want := oneImage(t, srv)
	srv.SetAuth(testregistry.Auth{Mode: testregistry.AuthToken, Username: "pg", Password: "secret"})
	ref := srv.Host() + "/ext/vector:1.0"

	dockerConfig := filepath.Join(t.TempDir(), "config.json")
	cfg := map[string]any{"auths": map[string]any{srv.Host(): map[string]string{
		"auth": base64.StdEncoding.EncodeToString([]byte("pg:secret"))}}}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(dockerConfig, b, 0o600); err != nil {
		t.Fatal(err)
	}
	emptyConfig := filepath.Join(t.TempDir(), "missing.json")

	tests := []struct {
		name    string
		opts    RemoteOptions
		wantErr bool
	}{
		{"static credential", RemoteOptions{Credential: auth.StaticCredential(srv.Host(), auth.Credential{Username: "pg", Password: "secret"})}, false},
		{"docker config file", RemoteOptions{CredentialsFile: dockerConfig}, false},
		{"wrong password", RemoteOptions{Credential: auth.StaticCredential(srv.Host(), auth.Credential{Username: "pg", Password: "nope"})}, true},
		{"no credentials", RemoteOptions{CredentialsFile: emptyConfig}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetRequests()
			res, err := ResolveReference(context.Background(), ref, server18(), Options{Remote: tc.opts})
			if tc.wantErr {
				if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), srv.Host()) {
					t.Fatalf("err = %v (resolved %s), want ErrUnauthorized naming the registry", err, res.Manifest.Digest)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Manifest.Digest != want.Digest {
				t.Errorf("resolved %s, want %s", res.Manifest.Digest, want.Digest)
			}
			// challenge, token, index, manifest: the token is reused.
			if n := len(srv.Requests()); n != 4 {
				t.Errorf("%d requests, want 4: %v", n, srv.Requests())
			}
		})
	}
}

func TestResolveFaults(t *testing.T) {
	tests := []struct {
		name   string
		fault  testregistry.Fault
		err    error // nil: resolves after a retry
		status []int // statuses of the manifest GETs, in order
	}{
		{"503 on the index is retried", testregistry.Fault{Kind: testregistry.FaultStatus, Status: 503, Path: `/manifests/1\.0$`}, nil, []int{503, 200, 200}},
		{"429 on the manifest is retried", testregistry.Fault{Kind: testregistry.FaultStatus, Status: 429, Path: `/manifests/sha256:`}, nil, []int{200, 429, 200}},
		{"connection reset is retried", testregistry.Fault{Kind: testregistry.FaultReset, Path: `/manifests/sha256:`}, nil, []int{200, 0, 200}},
		{"corrupted index", testregistry.Fault{Kind: testregistry.FaultCorrupt, Path: `/manifests/1\.0$`}, ErrDigest, []int{200}},
		{"corrupted manifest", testregistry.Fault{Kind: testregistry.FaultCorrupt, Path: `/manifests/sha256:`}, ErrDigest, []int{200, 200}},
		{"404 is not retried", testregistry.Fault{Kind: testregistry.FaultStatus, Status: 404, Path: `/manifests/sha256:`}, errAny, []int{200, 404}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startRegistry(t, testregistry.Options{})
			want := oneImage(t, srv)
			if err := srv.AddFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			srv.ResetRequests()
			res, err := ResolveReference(context.Background(), srv.Host()+"/ext/vector:1.0", server18(), Options{})
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("resolve: %v", err)
			case tc.err == nil && res.Manifest.Digest != want.Digest:
				t.Errorf("resolved %s, want %s", res.Manifest.Digest, want.Digest)
			case tc.err == errAny && err == nil, tc.err != nil && tc.err != errAny && !errors.Is(err, tc.err):
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var got []int
			for _, r := range srv.Requests() {
				if strings.Contains(r.Path, "/manifests/") {
					got = append(got, r.Status)
				}
			}
			// Compare the statuses as a multiset: what is asserted is how
			// many requests each outcome took, not their interleaving.
			wantStatus := slices.Sorted(slices.Values(tc.status))
			slices.Sort(got)
			if diff := cmp.Diff(wantStatus, got); diff != "" {
				t.Errorf("manifest GET statuses, sorted (-want +got):\n%s", diff)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestResolveOversizedManifest(t *testing.T) {
	srv := startRegistry(t, testregistry.Options{MaxManifestSize: 8 << 20})
	repo := pushRepo(t, srv, "ext/vector")
	repo.MaxMetadataBytes = 16 << 20 // oras-go refuses to push it otherwise
	big := pushImage(t, repo, testImage{platform: plat("linux/amd64"), meta: meta("1.0", 18, "glibc", "2.41"),
		extraManifest: map[string]string{"org.example.padding": strings.Repeat("x", MaxManifestSize)}})
	pushIndex(t, repo, []ocispec.Descriptor{big}, "indexed")
	if err := repo.Tag(context.Background(), big, "direct"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tag       string
		manifests int
	}{{"indexed", 1}, {"direct", 1}} {
		t.Run(tc.tag, func(t *testing.T) {
			srv.ResetRequests()
			_, err := ResolveReference(context.Background(), srv.Host()+"/ext/vector:"+tc.tag, server18(), Options{})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge; requests %v", err, srv.Requests())
			}
			// The log entry of an abandoned response may land late: at
			// most one request, never a fetch of the big manifest by digest.
			if m, _, _, _ := countRequests(srv); m > tc.manifests {
				t.Errorf("%d manifest requests, want at most %d: %v", m, tc.manifests, srv.Requests())
			}
		})
	}
}

// lyingSource answers Resolve with another descriptor, or Fetch with
// other bytes, than a truthful store would.
type lyingSource struct {
	Source
	resolveAs *ocispec.Descriptor
	body      []byte
}

func (s lyingSource) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if s.resolveAs != nil {
		return *s.resolveAs, nil
	}
	return s.Source.Resolve(ctx, ref)
}

func (s lyingSource) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if s.body != nil && d.MediaType == ocispec.MediaTypeImageManifest {
		return io.NopCloser(bytes.NewReader(s.body)), nil
	}
	return s.Source.Fetch(ctx, d)
}

func TestResolveVerification(t *testing.T) {
	dir := t.TempDir()
	st := newLayoutStore(t, dir)
	good := pushImage(t, st, testImage{platform: plat("linux/amd64"), meta: meta("1.0", 18, "glibc", "2.41")})
	other := pushImage(t, st, testImage{platform: plat("linux/amd64"), meta: meta("2.0", 18, "glibc", "2.41")})
	idx := pushIndex(t, st, []ocispec.Descriptor{good}, "1.0")

	// An index entry that calls an index a manifest (CVE-2021-41190).
	wrongType := idx
	wrongType.MediaType = ocispec.MediaTypeImageManifest
	wrongType.Platform = good.Platform
	wrongType.Annotations = good.Annotations
	pushIndex(t, st, []ocispec.Descriptor{wrongType}, "wrong-type")
	// A manifest without mediaType field whose body has manifests.
	shapeless := pushBlob(t, st, ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"`+
		good.Digest.String()+`","size":1},"manifests":[]}`))
	shapeless.Platform, shapeless.Annotations = good.Platform, good.Annotations
	pushIndex(t, st, []ocispec.Descriptor{shapeless}, "shapeless")

	src, err := Layout(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	goodBody, _ := FetchVerified(context.Background(), src, good)
	flipped := bytes.Clone(goodBody)
	flipped[0] ^= 0xff

	tests := []struct {
		name string
		src  Source
		ref  Reference
		err  error
	}{
		{"truthful", src, Reference{Tag: "1.0"}, nil},
		{"digest pinned, other digest answered", lyingSource{Source: src, resolveAs: &other}, Reference{Digest: good.Digest}, ErrDigest},
		{"manifest bytes corrupted", lyingSource{Source: src, body: flipped}, Reference{Tag: "1.0"}, ErrDigest},
		{"manifest bytes longer", lyingSource{Source: src, body: append(bytes.Clone(goodBody), ' ')}, Reference{Tag: "1.0"}, ErrSize},
		{"manifest bytes shorter", lyingSource{Source: src, body: goodBody[:len(goodBody)-1]}, Reference{Tag: "1.0"}, ErrSize},
		{"index entry with wrong media type", src, Reference{Tag: "wrong-type"}, ErrMediaType},
		{"manifest shaped like an index", src, Reference{Tag: "shapeless"}, ErrMediaType},
		{"digest of a manifest not in index.json", src, Reference{Digest: other.Digest}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Resolve(context.Background(), tc.src, tc.ref, server18(), Options{})
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestRemoteOptionsPlainHTTP(t *testing.T) {
	for _, tc := range []struct {
		ref   string
		plain bool
	}{
		{"127.0.0.1:5000/a", true}, {"localhost:5000/a", true}, {"[::1]:5000/a", true},
		{"localhost/a", true}, {"registry.example/a", false}, {"10.0.0.1:5000/a", false},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			repo, err := Remote(tc.ref, RemoteOptions{Client: http.DefaultClient, CredentialsFile: filepath.Join(t.TempDir(), "none.json")})
			if err != nil {
				t.Fatal(err)
			}
			if repo.PlainHTTP != tc.plain {
				t.Errorf("PlainHTTP = %v, want %v", repo.PlainHTTP, tc.plain)
			}
		})
	}
}
