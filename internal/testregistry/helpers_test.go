package testregistry_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/testregistry"
)

// start serves a fresh registry for one test.
func start(t *testing.T, opts testregistry.Options) *testregistry.Server {
	t.Helper()
	srv, err := testregistry.Serve(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// do sends one request and returns the response with its body read.
func do(t *testing.T, method, url string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, b
}

// pushBlob uploads data to repo in a single POST and returns its digest.
func pushBlob(t *testing.T, srv *testregistry.Server, repo string, data []byte) digest.Digest {
	t.Helper()
	d := digest.FromBytes(data)
	resp, _ := do(t, http.MethodPost, srv.URL()+"/v2/"+repo+"/blobs/uploads/?digest="+d.String(), data, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("pushing blob %s: status %d", d, resp.StatusCode)
	}
	return d
}

// image is a pushed image: its manifest bytes and the blobs it uses.
type image struct {
	manifest []byte
	digest   digest.Digest
	config   digest.Digest
	layer    digest.Digest
}

// imageManifest builds an image manifest over the given config and layer.
func imageManifest(t *testing.T, config, layer []byte, subject *ocispec.Descriptor, artifactType string) []byte {
	t.Helper()
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(config), Size: int64(len(config))},
		Layers:       []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(layer), Size: int64(len(layer))}},
		Subject:      subject,
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pushImage pushes a config, a layer and a manifest tagged tag.
func pushImage(t *testing.T, srv *testregistry.Server, repo, tag string) image {
	t.Helper()
	config, layer := []byte(`{"architecture":"amd64","os":"linux"}`), []byte("layer of "+tag)
	img := image{config: pushBlob(t, srv, repo, config), layer: pushBlob(t, srv, repo, layer)}
	img.manifest = imageManifest(t, config, layer, nil, "")
	img.digest = digest.FromBytes(img.manifest)
	resp, body := do(t, http.MethodPut, srv.URL()+"/v2/"+repo+"/manifests/"+tag, img.manifest,
		map[string]string{"Content-Type": ocispec.MediaTypeImageManifest})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("pushing manifest %s: status %d: %s", tag, resp.StatusCode, body)
	}
	return img
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
