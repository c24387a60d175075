package resolve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"pgoci/internal/testregistry"
	"pgoci/labels"
)

// noRetry reads without retries (a fault costs one request) or
// credentials.
func noRetry(t *testing.T) RemoteOptions {
	return RemoteOptions{Client: http.DefaultClient, CredentialsFile: filepath.Join(t.TempDir(), "none.json")}
}

func TestErrNotFound(t *testing.T) {
	srv := startRegistry(t, testregistry.Options{})
	oneImage(t, srv)
	layout := t.TempDir()
	st := newLayoutStore(t, layout)
	pushIndex(t, st, []ocispec.Descriptor{pushImage(t, st, testImage{platform: plat("linux/amd64"), meta: meta("1.0", 18, "glibc", "2.41")})}, "1.0")
	// A registry that answers every manifest GET and tag listing with a
	// 404 and an OCI error body, as the distribution spec says.
	codes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := "MANIFEST_UNKNOWN"
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			code = "NAME_UNKNOWN"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"unknown"}]}`, code)
	}))
	t.Cleanup(codes.Close)
	codesHost := strings.TrimPrefix(codes.URL, "http://")

	missing := "sha256:" + strings.Repeat("cd", 32)
	tests := []struct {
		name, ref string
		version   string
	}{
		{name: "missing tag", ref: srv.Host() + "/ext/vector:9.9"},
		{name: "missing digest", ref: srv.Host() + "/ext/vector@" + missing},
		{name: "missing repository, tag", ref: srv.Host() + "/ext/none:1.0"},
		{name: "missing repository, version constraint (NAME_UNKNOWN tag listing)", ref: srv.Host() + "/ext/none", version: ">=1"},
		{name: "MANIFEST_UNKNOWN body", ref: codesHost + "/ext/vector:1.0"},
		{name: "NAME_UNKNOWN body", ref: codesHost + "/ext/vector", version: "^1"},
		{name: "layout, missing tag", ref: "oci:" + layout + ":9.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ResolveReference(context.Background(), tc.ref, server18(), Options{Version: tc.version, Remote: noRetry(t)})
			if !errors.Is(err, ErrNotFound) || !errors.Is(err, errdef.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			if !strings.Contains(err.Error(), tc.ref) {
				t.Errorf("%q does not name the reference %s", err, tc.ref)
			}
			if IsTemporary(err) {
				t.Errorf("IsTemporary(%v) = true", err)
			}
			r, _ := ParseReference(tc.ref)
			if again := ExplainAuth(err, r); again != err {
				t.Errorf("ExplainAuth explained %q twice: %q", err, again)
			}
		})
	}
	var resp *errcode.ErrorResponse
	_, err := ResolveReference(context.Background(), codesHost+"/ext/vector", server18(), Options{Version: "^1", Remote: noRetry(t)})
	if !errors.As(err, &resp) || resp.StatusCode != 404 {
		t.Errorf("the registry's response is no longer reachable with errors.As: %v", err)
	}
}

// statusServer answers every request with status.
func statusServer(t *testing.T, status int) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"errors":[{"code":"UNKNOWN","message":"status %d"}]}`, status)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func TestIsTemporaryStatus(t *testing.T) {
	tests := []struct {
		status int
		want   bool
	}{
		{400, false}, {401, false}, {403, false}, {404, false}, {405, false}, {408, true}, {429, true},
		{500, true}, {501, false}, {502, true}, {503, true}, {504, true}, {505, false},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			host := statusServer(t, tc.status)
			_, err := ResolveReference(context.Background(), host+"/ext/vector:1.0", server18(), Options{Remote: noRetry(t)})
			if err == nil {
				t.Fatal("resolved against a registry that answers only errors")
			}
			if got := IsTemporary(err); got != tc.want {
				t.Errorf("HTTP %d: IsTemporary(%v) = %v, want %v", tc.status, err, got, tc.want)
			}
			switch tc.status {
			case 401, 403:
				if !errors.Is(err, ErrUnauthorized) {
					t.Errorf("HTTP %d: %v, want ErrUnauthorized", tc.status, err)
				}
			case 404:
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("HTTP 404: %v, want ErrNotFound", err)
				}
			}
		})
	}
}

func TestIsTemporary(t *testing.T) {
	ctx := context.Background()
	srv := startRegistry(t, testregistry.Options{})
	oneImage(t, srv)
	ref := srv.Host() + "/ext/vector:1.0"
	resolveWith := func(t *testing.T, f *testregistry.Fault, ctx context.Context, tg Target) error {
		t.Helper()
		srv.ClearFaults()
		if f != nil {
			if err := srv.AddFault(*f); err != nil {
				t.Fatal(err)
			}
		}
		_, err := ResolveReference(ctx, ref, tg, Options{Remote: noRetry(t)})
		if err == nil {
			t.Fatal("resolved")
		}
		return err
	}
	closed := closedPort(t)
	// A server that accepts and closes connections without answering.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	pg17 := server18()
	pg17.PG = labels.PG{Major: 17}

	tests := []struct {
		name string
		err  func(t *testing.T) error
		want bool
	}{
		{"connection refused", func(t *testing.T) error {
			_, err := ResolveReference(ctx, closed+"/ext/vector:1.0", server18(), Options{Remote: noRetry(t)})
			return err
		}, true},
		{"connection closed before an answer", func(t *testing.T) error {
			_, err := ResolveReference(ctx, ln.Addr().String()+"/ext/vector:1.0", server18(), Options{Remote: noRetry(t)})
			return err
		}, true},
		{"connection closed, as net/http says it on a reused connection", func(t *testing.T) error {
			return &url.Error{Op: "Get", URL: "http://r/v2/", Err: errors.New("http: server closed idle connection")}
		}, true},
		{"connection reset", func(t *testing.T) error {
			return resolveWith(t, &testregistry.Fault{Kind: testregistry.FaultReset, Times: -1}, ctx, server18())
		}, true},
		{"body cut short", func(t *testing.T) error {
			return resolveWith(t, &testregistry.Fault{Kind: testregistry.FaultTruncate, Path: `/manifests/`, Times: -1}, ctx, server18())
		}, true},
		{"deadline", func(t *testing.T) error {
			c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			return resolveWith(t, &testregistry.Fault{Kind: testregistry.FaultDelay, Delay: 3 * time.Second}, c, server18())
		}, true},
		{"cancelled", func(t *testing.T) error {
			c, cancel := context.WithCancel(ctx)
			cancel()
			return resolveWith(t, nil, c, server18())
		}, false},
		{"digest mismatch", func(t *testing.T) error {
			return resolveWith(t, &testregistry.Fault{Kind: testregistry.FaultCorrupt, Path: `/manifests/`}, ctx, server18())
		}, false},
		{"incompatible", func(t *testing.T) error { return resolveWith(t, nil, ctx, pg17) }, false},
		{"invalid reference", func(t *testing.T) error {
			_, err := ResolveReference(ctx, "no-registry", server18(), Options{})
			return err
		}, false},
		{"TLS certificate not trusted", func(t *testing.T) error {
			_, err := http.Get(tlsSrv.URL)
			return err
		}, false},
		{"mirror error, 503", func(t *testing.T) error {
			return &MirrorError{Mirror: "m/x", Upstream: "u/x", Object: "1.0", Err: &errcode.ErrorResponse{StatusCode: 503}}
		}, true},
		{"mirror error, digest", func(t *testing.T) error {
			return &MirrorError{Mirror: "m/x", Upstream: "u/x", Object: "1.0", Err: fmt.Errorf("%w: x", ErrDigest)}
		}, false},
		{"unknown", func(t *testing.T) error { return errors.New("trust: no signature") }, false},
		{"nil", func(t *testing.T) error { return nil }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err(t)
			if got := IsTemporary(err); got != tc.want {
				t.Errorf("IsTemporary(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
}
