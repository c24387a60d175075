package testregistry_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/opencontainers/go-digest"

	"pgoci/internal/testregistry"
)

// Push a blob and a manifest with plain net/http, read the manifest back,
// then count the requests the registry saw.
func Example() {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	config := []byte("{}")
	d := digest.FromBytes(config)
	resp, err := http.Post(srv.URL()+"/v2/ext/hstore/blobs/uploads/?digest="+d.String(), "application/octet-stream", bytes.NewReader(config))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("blob push:", resp.StatusCode)

	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[]}`, d)
	req, _ := http.NewRequest(http.MethodPut, srv.URL()+"/v2/ext/hstore/manifests/1.8", bytes.NewReader([]byte(manifest)))
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println("manifest push:", resp.StatusCode, resp.Header.Get("Docker-Content-Digest") == digest.FromString(manifest).String())

	// The next manifest GET fails once, as a flaky registry would.
	_ = srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Status: http.StatusServiceUnavailable, Path: "/manifests/"})
	for range 2 {
		if resp, err = http.Get(srv.URL() + "/v2/ext/hstore/manifests/1.8"); err != nil {
			fmt.Println(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println("manifest get:", resp.StatusCode)
	}

	for _, r := range srv.Requests() {
		fmt.Println(r.Method, r.Path, r.Status)
	}
	fmt.Println("requests:", len(srv.Requests()))
	// Output:
	// blob push: 201
	// manifest push: 201 true
	// manifest get: 503
	// manifest get: 200
	// POST /v2/ext/hstore/blobs/uploads/ 201
	// PUT /v2/ext/hstore/manifests/1.8 201
	// GET /v2/ext/hstore/manifests/1.8 503
	// GET /v2/ext/hstore/manifests/1.8 200
	// requests: 4
}
