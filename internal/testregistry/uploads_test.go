package testregistry_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"pgoci/internal/testregistry"
)

// startSession opens an upload session and returns its absolute URL.
func startSession(t *testing.T, srv *testregistry.Server, repo string) string {
	t.Helper()
	resp, _ := do(t, "POST", srv.URL()+"/v2/"+repo+"/blobs/uploads/", nil, nil)
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Location") == "" {
		t.Fatalf("start upload: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return srv.URL() + resp.Header.Get("Location")
}

func withDigest(loc string, d digest.Digest) string {
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	return loc + sep + "digest=" + d.String()
}

func TestUploads(t *testing.T) {
	data := []byte("0123456789abcdef")
	d := digest.FromBytes(data)
	tests := []struct {
		name       string
		run        func(t *testing.T, srv *testregistry.Server) *http.Response
		wantStatus int
		stored     bool
	}{
		{name: "monolithic post then put", wantStatus: 201, stored: true,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				resp, _ := do(t, "PUT", withDigest(startSession(t, srv, "r"), d), data, nil)
				return resp
			}},
		{name: "single post", wantStatus: 201, stored: true,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				resp, _ := do(t, "POST", srv.URL()+"/v2/r/blobs/uploads/?digest="+d.String(), data, nil)
				return resp
			}},
		{name: "chunked with content range", wantStatus: 201, stored: true,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				loc := startSession(t, srv, "r")
				for _, c := range [][2]int{{0, 6}, {6, 12}} {
					resp, _ := do(t, "PATCH", loc, data[c[0]:c[1]], map[string]string{"Content-Range": fmt.Sprintf("%d-%d", c[0], c[1]-1)})
					if resp.StatusCode != 202 || resp.Header.Get("Range") != fmt.Sprintf("0-%d", c[1]-1) {
						t.Fatalf("patch %v: status %d, Range %q", c, resp.StatusCode, resp.Header.Get("Range"))
					}
					loc = srv.URL() + resp.Header.Get("Location")
				}
				resp, _ := do(t, "PUT", withDigest(loc, d), data[12:], map[string]string{"Content-Range": "12-15"})
				return resp
			}},
		{name: "streamed patch", wantStatus: 201, stored: true,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				loc := startSession(t, srv, "r")
				do(t, "PATCH", loc, data, nil)
				resp, _ := do(t, "PUT", withDigest(loc, d), nil, nil)
				return resp
			}},
		{name: "status after a chunk", wantStatus: 204,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				loc := startSession(t, srv, "r")
				do(t, "PATCH", loc, data[:4], nil)
				resp, _ := do(t, "GET", loc, nil, nil)
				if got := resp.Header.Get("Range"); got != "0-3" {
					t.Errorf("Range = %q, want 0-3", got)
				}
				return resp
			}},
		{name: "out of order chunk", wantStatus: 416,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				loc := startSession(t, srv, "r")
				resp, _ := do(t, "PATCH", loc, data[4:8], map[string]string{"Content-Range": "4-7"})
				return resp
			}},
		{name: "content range longer than body", wantStatus: 400,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				resp, _ := do(t, "PATCH", startSession(t, srv, "r"), data[:4], map[string]string{"Content-Range": "0-9"})
				return resp
			}},
		{name: "digest mismatch", wantStatus: 400,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				resp, _ := do(t, "PUT", withDigest(startSession(t, srv, "r"), d), data[:5], nil)
				return resp
			}},
		{name: "single post digest mismatch", wantStatus: 400,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				resp, _ := do(t, "POST", srv.URL()+"/v2/r/blobs/uploads/?digest="+d.String(), data[1:], nil)
				return resp
			}},
		{name: "put without digest", wantStatus: 400,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				resp, _ := do(t, "PUT", startSession(t, srv, "r"), data, nil)
				return resp
			}},
		{name: "unsupported algorithm", wantStatus: 400,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				resp, _ := do(t, "PUT", startSession(t, srv, "r")+"?digest=md5:0123", data, nil)
				return resp
			}},
		{name: "cancel", wantStatus: 404,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				loc := startSession(t, srv, "r")
				if resp, _ := do(t, "DELETE", loc, nil, nil); resp.StatusCode != 204 {
					t.Fatalf("cancel status %d, want 204", resp.StatusCode)
				}
				resp, _ := do(t, "GET", loc, nil, nil)
				return resp
			}},
		{name: "session of another repository", wantStatus: 404,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				loc := startSession(t, srv, "r")
				resp, _ := do(t, "PATCH", strings.Replace(loc, "/v2/r/", "/v2/other/", 1), data, nil)
				return resp
			}},
		{name: "mount from a repository", wantStatus: 201, stored: true,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				pushBlob(t, srv, "src", data)
				resp, _ := do(t, "POST", srv.URL()+"/v2/r/blobs/uploads/?mount="+d.String()+"&from=src", nil, nil)
				return resp
			}},
		{name: "anonymous mount", wantStatus: 201, stored: true,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				pushBlob(t, srv, "src", data)
				resp, _ := do(t, "POST", srv.URL()+"/v2/r/blobs/uploads/?mount="+d.String(), nil, nil)
				return resp
			}},
		{name: "mount of a missing blob opens a session", wantStatus: 202,
			run: func(t *testing.T, srv *testregistry.Server) *http.Response {
				resp, _ := do(t, "POST", srv.URL()+"/v2/r/blobs/uploads/?mount="+d.String()+"&from=src", nil, nil)
				return resp
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, testregistry.Options{})
			resp := tc.run(t, srv)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.stored {
				if got := resp.Header.Get("Docker-Content-Digest"); got != d.String() {
					t.Errorf("Docker-Content-Digest = %q, want %s", got, d)
				}
				get, body := do(t, "GET", srv.URL()+resp.Header.Get("Location"), nil, nil)
				if get.StatusCode != 200 || string(body) != string(data) {
					t.Errorf("GET Location: status %d, body %q", get.StatusCode, body)
				}
			} else if h, _ := do(t, "HEAD", srv.URL()+"/v2/r/blobs/"+d.String(), nil, nil); h.StatusCode != 404 {
				t.Errorf("blob stored after a failed upload: HEAD status %d", h.StatusCode)
			}
		})
	}
}

func TestChunkMinLength(t *testing.T) {
	srv := start(t, testregistry.Options{ChunkMinLength: 4096})
	resp, _ := do(t, "POST", srv.URL()+"/v2/r/blobs/uploads/", nil, nil)
	if got := resp.Header.Get("OCI-Chunk-Min-Length"); got != "4096" {
		t.Errorf("OCI-Chunk-Min-Length = %q, want 4096", got)
	}
}
