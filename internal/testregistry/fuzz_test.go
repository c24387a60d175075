package testregistry_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"pgoci/internal/testregistry"
)

// FuzzManifestPush feeds arbitrary bodies, content types and chunk
// ranges to the push endpoints: the registry must answer every one with
// a spec status and never panic.
func FuzzManifestPush(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`),
		"application/vnd.oci.image.index.v1+json", "0-3")
	f.Add([]byte(`{"schemaVersion":2,"config":{"digest":"sha256:x"}}`), "application/vnd.oci.image.manifest.v1+json", "5-1")
	f.Add([]byte(`{"subject":{"digest":"sha512:"},"schemaVersion":2}`), "text/plain; charset=x", "bytes 0-")
	f.Fuzz(func(t *testing.T, body []byte, contentType, contentRange string) {
		reg := testregistry.New(testregistry.Options{MaxManifestSize: 1 << 16})
		req := httptest.NewRequest(http.MethodPut, "/v2/r/manifests/t", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		reg.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusCreated, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("manifest push answered %d", w.Code)
		}

		w = httptest.NewRecorder()
		reg.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v2/r/blobs/uploads/", nil))
		req = httptest.NewRequest(http.MethodPatch, w.Header().Get("Location"), bytes.NewReader(body))
		req.Header.Set("Content-Range", contentRange)
		w = httptest.NewRecorder()
		reg.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusAccepted, http.StatusBadRequest, http.StatusRequestedRangeNotSatisfiable:
		default:
			t.Fatalf("chunk upload answered %d", w.Code)
		}
	})
}
