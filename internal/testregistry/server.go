package testregistry

import (
	"net"
	"net/http"
	"net/http/httptest"
)

// Server is a [Registry] listening on a loopback port over plain HTTP.
// The embedded Registry gives access to faults, auth and the request log.
type Server struct {
	*Registry
	srv *httptest.Server
}

// Serve starts a new registry configured by opts on 127.0.0.1 with a
// free port. It needs no testing.TB, so TestMain and Example functions
// can use it too. Call [Server.Close] when done.
func Serve(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	reg := New(opts)
	// Built by hand: httptest.NewServer panics when it cannot listen.
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: reg}}
	srv.Start()
	return &Server{Registry: reg, srv: srv}, nil
}

// Host returns the "127.0.0.1:port" address, the registry part of
// references such as 127.0.0.1:port/repo:tag.
func (s *Server) Host() string { return s.srv.Listener.Addr().String() }

// URL returns the base URL, "http://127.0.0.1:port".
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down, waiting for in-flight requests.
func (s *Server) Close() { s.srv.Close() }
