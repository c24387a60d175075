package testregistry

import (
	"net/http"
	"sync"

	"github.com/opencontainers/go-digest"
)

// DefaultMaxManifestSize is the manifest size limit used when
// [Options.MaxManifestSize] is zero: 4 MiB, the limit most registries
// (and the OCI distribution specification's guidance) apply.
const DefaultMaxManifestSize = 4 << 20

// Options configures a [Registry]. The zero value is a registry with no
// authentication and the default limits.
type Options struct {
	// MaxManifestSize caps the size of a pushed manifest in bytes; larger
	// pushes get 413. Zero means [DefaultMaxManifestSize].
	MaxManifestSize int64

	// ChunkMinLength, when positive, is advertised in the
	// OCI-Chunk-Min-Length header of upload sessions. It is advisory only.
	ChunkMinLength int64

	// Auth is the initial authentication mode; change it later with
	// [Registry.SetAuth]. The zero value requires no authentication.
	Auth Auth
}

// Registry is an in-memory OCI distribution registry. It is an
// [http.Handler]; all its methods are safe for concurrent use.
type Registry struct {
	opts Options

	mu      sync.Mutex
	repos   map[string]*repository
	uploads map[string]*upload
	faults  []*faultState
	auth    Auth
	tokens  map[string]bool

	logMu sync.Mutex // guards log only
	log   []Request
}

// repository holds the content of one repository name.
type repository struct {
	blobs     map[digest.Digest][]byte
	manifests map[digest.Digest]*manifest
	tags      map[string]digest.Digest
}

// New returns an empty registry configured by opts.
func New(opts Options) *Registry {
	if opts.MaxManifestSize <= 0 {
		opts.MaxManifestSize = DefaultMaxManifestSize
	}
	return &Registry{
		opts:    opts,
		repos:   map[string]*repository{},
		uploads: map[string]*upload{},
		auth:    opts.Auth,
		tokens:  map[string]bool{},
	}
}

var _ http.Handler = (*Registry)(nil)

// ServeHTTP records the request, applies any matching fault, checks
// authentication and then serves the distribution API.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rec := &recorder{ResponseWriter: w, reg: r, req: req}
	defer rec.logStatus(http.StatusOK) // a handler that wrote nothing answered 200
	if r.applyFault(rec, req) {
		return
	}
	r.serveAuthorized(rec, req)
}

// serveAuthorized serves the token endpoint, or checks authentication
// and serves the distribution API.
func (r *Registry) serveAuthorized(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == tokenPath {
		r.serveToken(w, req)
		return
	}
	if r.authorize(w, req) {
		r.route(w, req)
	}
}

// repo returns the named repository, creating it when create is set.
// The caller holds r.mu.
func (r *Registry) repo(name string, create bool) *repository {
	rp := r.repos[name]
	if rp == nil && create {
		rp = &repository{
			blobs:     map[digest.Digest][]byte{},
			manifests: map[digest.Digest]*manifest{},
			tags:      map[string]digest.Digest{},
		}
		r.repos[name] = rp
	}
	return rp
}
