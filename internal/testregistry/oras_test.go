package testregistry_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/retry"

	"pgoci/internal/testregistry"
)

// pushWithOras packs a one-layer image with oras-go, pushes it to ref's
// repository through client and tags it with each tag.
func pushWithOras(t *testing.T, srv *testregistry.Server, client remote.Client, tags ...string) (*remote.Repository, ocispec.Descriptor) {
	t.Helper()
	ctx := context.Background()
	repo, err := remote.NewRepository(srv.Host() + "/ext/hstore")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	repo.Client = client
	layer := content.NewDescriptorFromBytes("application/vnd.example.layer", []byte("hstore.so"))
	if err := repo.Push(ctx, layer, bytesReader([]byte("hstore.so"))); err != nil {
		t.Fatalf("push layer: %v", err)
	}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.example.ext",
		oras.PackManifestOptions{Layers: []ocispec.Descriptor{layer},
			ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2025-01-01T00:00:00Z"}})
	if err != nil {
		t.Fatalf("pack manifest: %v", err)
	}
	for _, tag := range tags {
		if err := repo.Tag(ctx, desc, tag); err != nil {
			t.Fatalf("tag %s: %v", tag, err)
		}
	}
	return repo, desc
}

func TestOrasPushPull(t *testing.T) {
	ctx := context.Background()
	srv := start(t, testregistry.Options{})
	repo, desc := pushWithOras(t, srv, http.DefaultClient, "1.8", "latest")
	repo.TagListPageSize = 1 // exercise Link pagination

	tags, err := registry.Tags(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.8", "latest"}, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	dst := memory.New()
	got, err := oras.Copy(ctx, repo, "latest", dst, "latest", oras.DefaultCopyOptions)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if got.Digest != desc.Digest {
		t.Errorf("pulled %s, pushed %s", got.Digest, desc.Digest)
	}
	successors, err := content.Successors(ctx, dst, got)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := content.FetchAll(ctx, dst, successors[len(successors)-1])
	if err != nil || string(layer) != "hstore.so" {
		t.Errorf("pulled layer %q, err %v", layer, err)
	}

	// Referrers through oras-go's client, which uses the referrers API.
	sig, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.example.sig",
		oras.PackManifestOptions{Subject: &desc})
	if err != nil {
		t.Fatal(err)
	}
	var refs []ocispec.Descriptor
	if err := repo.Referrers(ctx, desc, "", func(r []ocispec.Descriptor) error {
		refs = append(refs, r...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Digest != sig.Digest {
		t.Errorf("referrers = %v, want [%s]", refs, sig.Digest)
	}
}

func TestOrasRetriesInjectedFaults(t *testing.T) {
	ctx := context.Background()
	srv := start(t, testregistry.Options{})
	repo, desc := pushWithOras(t, srv, http.DefaultClient, "1.8")
	repo.Client = retry.DefaultClient
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Method: "GET", Path: "/manifests/", Times: 2}); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	_, body, err := oras.FetchBytes(ctx, repo, "1.8", oras.DefaultFetchBytesOptions)
	if err != nil {
		t.Fatalf("fetch after two 503s: %v", err)
	}
	if len(body) != int(desc.Size) {
		t.Errorf("fetched %d bytes, want %d", len(body), desc.Size)
	}
	var statuses []int
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	if diff := cmp.Diff([]int{503, 503, 200}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestOrasAuth(t *testing.T) {
	creds := testregistry.Auth{Username: "alice", Password: "s3cret"}
	tests := []struct {
		name    string
		mode    testregistry.AuthMode
		cred    auth.Credential
		oauth2  bool
		wantErr bool
	}{
		{name: "token with basic credentials", mode: testregistry.AuthToken, cred: auth.Credential{Username: "alice", Password: "s3cret"}},
		{name: "token with oauth2 password grant", mode: testregistry.AuthToken, cred: auth.Credential{Username: "alice", Password: "s3cret"}, oauth2: true},
		{name: "token with wrong password", mode: testregistry.AuthToken, cred: auth.Credential{Username: "alice", Password: "nope"}, wantErr: true},
		{name: "token without credentials", mode: testregistry.AuthToken, wantErr: true},
		{name: "basic", mode: testregistry.AuthBasic, cred: auth.Credential{Username: "alice", Password: "s3cret"}},
		{name: "basic with wrong password", mode: testregistry.AuthBasic, cred: auth.Credential{Username: "alice", Password: "nope"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := creds
			a.Mode = tc.mode
			srv := start(t, testregistry.Options{Auth: a})
			client := &auth.Client{
				Client:             http.DefaultClient,
				Credential:         auth.StaticCredential(srv.Host(), tc.cred),
				Cache:              auth.NewCache(),
				ForceAttemptOAuth2: tc.oauth2,
			}
			ctx := context.Background()
			repo, err := remote.NewRepository(srv.Host() + "/ext/hstore")
			if err != nil {
				t.Fatal(err)
			}
			repo.PlainHTTP, repo.Client = true, client
			data := []byte("payload")
			err = repo.Push(ctx, content.NewDescriptorFromBytes("application/octet-stream", data), bytesReader(data))
			if (err != nil) != tc.wantErr {
				t.Fatalf("push error = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if _, err := content.FetchAll(ctx, repo, content.NewDescriptorFromBytes("application/octet-stream", data)); err != nil {
				t.Errorf("fetch: %v", err)
			}
		})
	}
}

func TestAuthChallenge(t *testing.T) {
	srv := start(t, testregistry.Options{Auth: testregistry.Auth{Mode: testregistry.AuthToken}})
	resp, _ := do(t, "GET", srv.URL()+"/v2/ext/hstore/tags/list", nil, nil)
	want := `Bearer realm="` + srv.URL() + `/token",service="testregistry",scope="repository:ext/hstore:pull"`
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != want {
		t.Fatalf("status %d, challenge %q; want 401, %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
	// Anonymous token mode: the token endpoint gives a token to anyone.
	resp, body := do(t, "GET", srv.URL()+"/token?service=testregistry", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("token status %d: %s", resp.StatusCode, body)
	}
	srv.SetAuth(testregistry.Auth{})
	if resp, _ := do(t, "GET", srv.URL()+"/v2/", nil, nil); resp.StatusCode != 200 {
		t.Errorf("status after SetAuth(none) = %d, want 200", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", srv.URL()+"/token", nil, nil); resp.StatusCode != 404 {
		t.Errorf("token endpoint without token mode: status %d, want 404", resp.StatusCode)
	}
}
