package testregistry_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/testregistry"
)

// endpointCase is one request and what the response must hold.
type endpointCase struct {
	name       string
	method     string
	path       string
	header     map[string]string
	body       []byte
	wantStatus int
	wantHeader map[string]string
	wantBody   string // exact body when set
	wantCode   string // OCI error code when set
}

func runEndpointCases(t *testing.T, srv *testregistry.Server, cases []endpointCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, srv.URL()+tc.path, tc.body, tc.header)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.wantStatus, body)
			}
			for k, v := range tc.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.wantBody != "" {
				if diff := cmp.Diff(tc.wantBody, string(body)); diff != "" {
					t.Errorf("body mismatch (-want +got):\n%s", diff)
				}
			}
			if tc.wantCode != "" && !strings.Contains(string(body), `"code":"`+tc.wantCode+`"`) {
				t.Errorf("body %s lacks error code %s", body, tc.wantCode)
			}
		})
	}
}

func TestReadEndpoints(t *testing.T) {
	srv := start(t, testregistry.Options{})
	img := pushImage(t, srv, "ext/hstore", "1.8")
	pushImage(t, srv, "ext/hstore", "1.7")
	pushImage(t, srv, "ext/cube", "1.5")
	layer := "layer of 1.8"
	mt := ocispec.MediaTypeImageManifest
	ref := "/v2/ext/hstore/"
	cases := []endpointCase{
		{name: "ping", method: "GET", path: "/v2/", wantStatus: 200},
		{name: "blob get", method: "GET", path: ref + "blobs/" + img.layer.String(), wantStatus: 200,
			wantBody: layer, wantHeader: map[string]string{"Docker-Content-Digest": img.layer.String(), "Content-Length": "12"}},
		{name: "blob head", method: "HEAD", path: ref + "blobs/" + img.layer.String(), wantStatus: 200,
			wantHeader: map[string]string{"Content-Length": "12", "Docker-Content-Digest": img.layer.String()}},
		{name: "blob range", method: "GET", path: ref + "blobs/" + img.layer.String(), header: map[string]string{"Range": "bytes=0-4"},
			wantStatus: 206, wantBody: "layer", wantHeader: map[string]string{"Content-Range": "bytes 0-4/12"}},
		{name: "blob suffix range", method: "GET", path: ref + "blobs/" + img.layer.String(), header: map[string]string{"Range": "bytes=-3"},
			wantStatus: 206, wantBody: "1.8"},
		{name: "blob range unsatisfiable", method: "GET", path: ref + "blobs/" + img.layer.String(), header: map[string]string{"Range": "bytes=100-200"},
			wantStatus: 416},
		{name: "blob unknown", method: "GET", path: ref + "blobs/" + digest.FromString("x").String(), wantStatus: 404, wantCode: "BLOB_UNKNOWN"},
		{name: "blob bad digest", method: "GET", path: ref + "blobs/sha256:nothex", wantStatus: 400, wantCode: "DIGEST_INVALID"},
		{name: "blob of another repository", method: "GET", path: "/v2/other/blobs/" + img.layer.String(), wantStatus: 404},
		{name: "manifest by tag", method: "GET", path: ref + "manifests/1.8", wantStatus: 200, wantBody: string(img.manifest),
			wantHeader: map[string]string{"Content-Type": mt, "Docker-Content-Digest": img.digest.String()}},
		{name: "manifest by digest", method: "GET", path: ref + "manifests/" + img.digest.String(), wantStatus: 200, wantBody: string(img.manifest)},
		{name: "manifest head", method: "HEAD", path: ref + "manifests/1.8", wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": mt, "Docker-Content-Digest": img.digest.String()}},
		{name: "manifest unknown tag", method: "GET", path: ref + "manifests/9.9", wantStatus: 404, wantCode: "MANIFEST_UNKNOWN"},
		{name: "manifest unknown digest", method: "GET", path: ref + "manifests/" + digest.FromString("y").String(), wantStatus: 404},
		{name: "tags list", method: "GET", path: ref + "tags/list", wantStatus: 200, wantBody: `{"name":"ext/hstore","tags":["1.7","1.8"]}`},
		{name: "tags first page", method: "GET", path: ref + "tags/list?n=1", wantStatus: 200, wantBody: `{"name":"ext/hstore","tags":["1.7"]}`,
			wantHeader: map[string]string{"Link": `</v2/ext/hstore/tags/list?last=1.7&n=1>; rel="next"`}},
		{name: "tags second page", method: "GET", path: ref + "tags/list?n=1&last=1.7", wantStatus: 200, wantBody: `{"name":"ext/hstore","tags":["1.8"]}`,
			wantHeader: map[string]string{"Link": ""}},
		{name: "tags after the end", method: "GET", path: ref + "tags/list?last=1.8", wantStatus: 200, wantBody: `{"name":"ext/hstore","tags":[]}`},
		{name: "tags bad n", method: "GET", path: ref + "tags/list?n=x", wantStatus: 400},
		{name: "tags unknown repository", method: "GET", path: "/v2/nope/tags/list", wantStatus: 404, wantCode: "NAME_UNKNOWN"},
		{name: "referrers none", method: "GET", path: ref + "referrers/" + img.digest.String(), wantStatus: 200,
			wantBody:   `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`,
			wantHeader: map[string]string{"Content-Type": ocispec.MediaTypeImageIndex}},
		{name: "referrers bad digest", method: "GET", path: ref + "referrers/sha256:zz", wantStatus: 400},
		{name: "catalog", method: "GET", path: "/v2/_catalog", wantStatus: 200, wantBody: `{"repositories":["ext/cube","ext/hstore"]}`},
		{name: "catalog page", method: "GET", path: "/v2/_catalog?n=1", wantStatus: 200, wantBody: `{"repositories":["ext/cube"]}`,
			wantHeader: map[string]string{"Link": `</v2/_catalog?last=ext%2Fcube&n=1>; rel="next"`}},
		{name: "invalid name", method: "GET", path: "/v2/Upper/tags/list", wantStatus: 400, wantCode: "NAME_INVALID"},
		{name: "method not allowed", method: "POST", path: ref + "tags/list", wantStatus: 405},
		{name: "no route", method: "GET", path: "/v2/ext/hstore/nothing", wantStatus: 404},
		{name: "upload status unknown", method: "GET", path: ref + "blobs/uploads/abc", wantStatus: 404, wantCode: "BLOB_UPLOAD_UNKNOWN"},
	}
	runEndpointCases(t, srv, cases)
}

func TestManifestPush(t *testing.T) {
	srv := start(t, testregistry.Options{MaxManifestSize: 1024})
	config, layer := []byte(`{}`), []byte("layer")
	pushBlob(t, srv, "r", config)
	pushBlob(t, srv, "r", layer)
	good := imageManifest(t, config, layer, nil, "")
	missing := imageManifest(t, config, []byte("never pushed"), nil, "")
	mt := ocispec.MediaTypeImageManifest
	ct := map[string]string{"Content-Type": mt}
	index := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)
	cases := []endpointCase{
		{name: "by tag", method: "PUT", path: "/v2/r/manifests/v1", header: ct, body: good, wantStatus: 201,
			wantHeader: map[string]string{"Docker-Content-Digest": digest.FromBytes(good).String(),
				"Location": "/v2/r/manifests/" + digest.FromBytes(good).String()}},
		{name: "by digest", method: "PUT", path: "/v2/r/manifests/" + digest.FromBytes(good).String(), header: ct, body: good, wantStatus: 201},
		{name: "by sha512 digest", method: "PUT", path: "/v2/r/manifests/" + digest.SHA512.FromBytes(good).String(), header: ct, body: good, wantStatus: 201,
			wantHeader: map[string]string{"Docker-Content-Digest": digest.SHA512.FromBytes(good).String()}},
		{name: "with tag parameters", method: "PUT", path: "/v2/r/manifests/" + digest.FromBytes(good).String() + "?tag=a&tag=b", header: ct, body: good,
			wantStatus: 201, wantHeader: map[string]string{"OCI-Tag": "a,b"}},
		{name: "index without children check", method: "PUT", path: "/v2/r/manifests/idx", header: map[string]string{"Content-Type": ocispec.MediaTypeImageIndex},
			body: index, wantStatus: 201},
		{name: "digest mismatch", method: "PUT", path: "/v2/r/manifests/" + digest.FromString("other").String(), header: ct, body: good,
			wantStatus: 400, wantCode: "DIGEST_INVALID"},
		{name: "bad digest", method: "PUT", path: "/v2/r/manifests/sha256:baddigeststring", header: ct, body: good, wantStatus: 400, wantCode: "DIGEST_INVALID"},
		{name: "missing blob", method: "PUT", path: "/v2/r/manifests/v2", header: ct, body: missing, wantStatus: 400, wantCode: "MANIFEST_BLOB_UNKNOWN"},
		{name: "no content type", method: "PUT", path: "/v2/r/manifests/v3", body: good, wantStatus: 400, wantCode: "MANIFEST_INVALID"},
		{name: "content type mismatch", method: "PUT", path: "/v2/r/manifests/v3", header: map[string]string{"Content-Type": ocispec.MediaTypeImageIndex},
			body: good, wantStatus: 400, wantCode: "MANIFEST_INVALID"},
		{name: "not json", method: "PUT", path: "/v2/r/manifests/v3", header: ct, body: []byte("{"), wantStatus: 400, wantCode: "MANIFEST_INVALID"},
		{name: "wrong schema version", method: "PUT", path: "/v2/r/manifests/v3", header: ct,
			body: bytes.Replace(good, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":1`), 1), wantStatus: 400, wantCode: "MANIFEST_INVALID"},
		{name: "image without config", method: "PUT", path: "/v2/r/manifests/v3", header: ct,
			body: []byte(`{"schemaVersion":2,"mediaType":"` + mt + `","layers":[]}`), wantStatus: 400, wantCode: "MANIFEST_INVALID"},
		{name: "too large", method: "PUT", path: "/v2/r/manifests/v3", header: ct, body: bytes.Repeat([]byte(" "), 1025),
			wantStatus: 413, wantCode: "SIZE_INVALID"},
		{name: "invalid tag", method: "PUT", path: "/v2/r/manifests/.bad", header: ct, body: good, wantStatus: 400, wantCode: "MANIFEST_INVALID"},
	}
	runEndpointCases(t, srv, cases)
	t.Run("tags after pushes", func(t *testing.T) {
		_, body := do(t, "GET", srv.URL()+"/v2/r/tags/list", nil, nil)
		if diff := cmp.Diff(`{"name":"r","tags":["a","b","idx","v1"]}`, string(body)); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
	})
}

func TestDefaultManifestLimit(t *testing.T) {
	srv := start(t, testregistry.Options{})
	body := append([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`),
		bytes.Repeat([]byte(" "), testregistry.DefaultMaxManifestSize)...)
	ct := map[string]string{"Content-Type": ocispec.MediaTypeImageIndex}
	resp, _ := do(t, "PUT", srv.URL()+"/v2/r/manifests/big", body, ct)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status of a manifest over 4 MiB = %d, want 413", resp.StatusCode)
	}
	resp, _ = do(t, "PUT", srv.URL()+"/v2/r/manifests/fits", body[:testregistry.DefaultMaxManifestSize], ct)
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("status of a 4 MiB manifest = %d, want 201", resp.StatusCode)
	}
}

func TestDelete(t *testing.T) {
	srv := start(t, testregistry.Options{})
	img := pushImage(t, srv, "r", "v1")
	do(t, "PUT", srv.URL()+"/v2/r/manifests/v2", img.manifest, map[string]string{"Content-Type": ocispec.MediaTypeImageManifest})
	cases := []endpointCase{
		{name: "tag", method: "DELETE", path: "/v2/r/manifests/v1", wantStatus: 202},
		{name: "tag is gone", method: "HEAD", path: "/v2/r/manifests/v1", wantStatus: 404},
		{name: "manifest stays after tag delete", method: "HEAD", path: "/v2/r/manifests/" + img.digest.String(), wantStatus: 200},
		{name: "tag again", method: "DELETE", path: "/v2/r/manifests/v1", wantStatus: 404},
		{name: "manifest", method: "DELETE", path: "/v2/r/manifests/" + img.digest.String(), wantStatus: 202},
		{name: "manifest is gone", method: "GET", path: "/v2/r/manifests/" + img.digest.String(), wantStatus: 404},
		{name: "its tags are gone", method: "GET", path: "/v2/r/manifests/v2", wantStatus: 404},
		{name: "blob", method: "DELETE", path: "/v2/r/blobs/" + img.layer.String(), wantStatus: 202},
		{name: "blob is gone", method: "HEAD", path: "/v2/r/blobs/" + img.layer.String(), wantStatus: 404},
		{name: "blob again", method: "DELETE", path: "/v2/r/blobs/" + img.layer.String(), wantStatus: 404},
		{name: "blob bad digest", method: "DELETE", path: "/v2/r/blobs/sha256:x", wantStatus: 400},
		{name: "unknown repository", method: "DELETE", path: "/v2/none/manifests/v1", wantStatus: 404},
	}
	runEndpointCases(t, srv, cases)
}

func TestReferrers(t *testing.T) {
	srv := start(t, testregistry.Options{})
	img := pushImage(t, srv, "r", "v1")
	subject := &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: img.digest, Size: int64(len(img.manifest))}
	config := []byte(`{}`)
	pushBlob(t, srv, "r", config)
	ct := map[string]string{"Content-Type": ocispec.MediaTypeImageManifest}
	var pushed []ocispec.Descriptor
	for _, at := range []string{"application/vnd.example.sbom", "application/vnd.example.sig"} {
		layer := []byte(at)
		pushBlob(t, srv, "r", layer)
		m := imageManifest(t, config, layer, subject, at)
		d := digest.FromBytes(m)
		resp, body := do(t, "PUT", srv.URL()+"/v2/r/manifests/"+d.String(), m, ct)
		if resp.StatusCode != 201 || resp.Header.Get("OCI-Subject") != img.digest.String() {
			t.Fatalf("push referrer: status %d, OCI-Subject %q: %s", resp.StatusCode, resp.Header.Get("OCI-Subject"), body)
		}
		pushed = append(pushed, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: at, Digest: d, Size: int64(len(m))})
	}
	tests := []struct {
		name, query string
		want        []ocispec.Descriptor
		filtered    bool
	}{
		{name: "all", want: pushed},
		{name: "sbom only", query: "?artifactType=application/vnd.example.sbom", want: pushed[:1], filtered: true},
		{name: "no match", query: "?artifactType=application/none", want: []ocispec.Descriptor{}, filtered: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, "GET", srv.URL()+"/v2/r/referrers/"+img.digest.String()+tc.query, nil, nil)
			var idx ocispec.Index
			if err := json.Unmarshal(body, &idx); err != nil {
				t.Fatal(err)
			}
			want := append([]ocispec.Descriptor{}, tc.want...)
			sortDescs(want)
			if diff := cmp.Diff(want, idx.Manifests); diff != "" {
				t.Errorf("referrers (-want +got):\n%s", diff)
			}
			if got := resp.Header.Get("OCI-Filters-Applied") == "artifactType"; got != tc.filtered {
				t.Errorf("OCI-Filters-Applied set = %v, want %v", got, tc.filtered)
			}
		})
	}
}

func sortDescs(d []ocispec.Descriptor) {
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			if d[j].Digest < d[i].Digest {
				d[i], d[j] = d[j], d[i]
			}
		}
	}
}
