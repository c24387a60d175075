package testregistry

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// tokenPath is the token endpoint of [AuthToken] mode.
const tokenPath = "/token"

// tokenService is the service name in Bearer challenges.
const tokenService = "testregistry"

// AuthMode selects how a [Registry] authenticates requests.
type AuthMode int

const (
	// AuthNone serves every request.
	AuthNone AuthMode = iota
	// AuthBasic requires HTTP Basic credentials on every request.
	AuthBasic
	// AuthToken implements the distribution token flow: requests without
	// a valid Bearer token get a 401 with a WWW-Authenticate challenge
	// whose realm is the registry's /token endpoint. The endpoint issues
	// tokens for GET (Basic credentials) and for POST (OAuth2 password or
	// refresh_token grant).
	AuthToken
)

// Auth configures authentication.
type Auth struct {
	Mode AuthMode
	// Username and Password are the accepted credentials. In AuthToken
	// mode with an empty Username the token endpoint issues tokens to
	// anyone (anonymous pull and push, as on public registries).
	Username, Password string
}

// SetAuth changes the authentication mode at runtime. Tokens issued
// before the change are forgotten.
func (r *Registry) SetAuth(a Auth) {
	r.mu.Lock()
	r.auth = a
	r.tokens = map[string]bool{}
	r.mu.Unlock()
}

// authorize checks the request's credentials and, when they are missing
// or wrong, writes the 401 challenge and reports false.
func (r *Registry) authorize(w http.ResponseWriter, req *http.Request) bool {
	r.mu.Lock()
	a := r.auth
	tokenOK := false
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		tokenOK = r.tokens[tok]
	}
	r.mu.Unlock()
	switch a.Mode {
	case AuthBasic:
		if a.checkBasic(req) {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="testregistry"`)
	case AuthToken:
		if tokenOK {
			return true
		}
		w.Header().Set("WWW-Authenticate", challenge(req))
	default:
		return true
	}
	writeError(w, http.StatusUnauthorized, codeUnauthorized, "authentication required")
	return false
}

// checkBasic reports whether req carries the configured credentials.
func (a Auth) checkBasic(req *http.Request) bool {
	u, p, ok := req.BasicAuth()
	return ok && a.match(u, p)
}

func (a Auth) match(u, p string) bool {
	uOK := subtle.ConstantTimeCompare([]byte(u), []byte(a.Username)) == 1
	pOK := subtle.ConstantTimeCompare([]byte(p), []byte(a.Password)) == 1
	return uOK && pOK
}

// challenge builds the Bearer WWW-Authenticate header for req, with the
// repository scope the request needs.
func challenge(req *http.Request) string {
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	h := fmt.Sprintf(`Bearer realm="%s://%s%s",service="%s"`, scheme, req.Host, tokenPath, tokenService)
	for _, re := range []*regexp.Regexp{reUpload, reBlob, reManifest, reTags, reReferrers} {
		if m := re.FindStringSubmatch(req.URL.Path); m != nil {
			action := "pull"
			if req.Method != http.MethodGet && req.Method != http.MethodHead {
				action = "pull,push"
			}
			if req.Method == http.MethodDelete {
				action = "delete"
			}
			return h + fmt.Sprintf(`,scope="repository:%s:%s"`, m[1], action)
		}
	}
	return h
}

// serveToken issues a Bearer token to a client with valid credentials
// (or to anyone when no Username is configured).
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	a := r.auth
	r.mu.Unlock()
	if a.Mode != AuthToken {
		writeError(w, http.StatusNotFound, codeUnsupported, "token auth is not enabled")
		return
	}
	var ok bool
	switch req.Method {
	case http.MethodGet:
		ok = a.Username == "" || a.checkBasic(req)
	case http.MethodPost:
		ok = r.checkGrant(a, req)
	default:
		writeError(w, http.StatusMethodNotAllowed, codeUnsupported, req.Method+" not supported on "+tokenPath)
		return
	}
	if !ok {
		writeError(w, http.StatusUnauthorized, codeUnauthorized, "invalid credentials")
		return
	}
	tok := newID()
	r.mu.Lock()
	r.tokens[tok] = true
	r.mu.Unlock()
	writeJSON(w, "application/json", map[string]any{
		"token": tok, "access_token": tok, "refresh_token": tok, "expires_in": 3600,
	})
}

// checkGrant validates an OAuth2 password or refresh_token grant.
func (r *Registry) checkGrant(a Auth, req *http.Request) bool {
	if err := req.ParseForm(); err != nil {
		return false
	}
	switch req.PostForm.Get("grant_type") {
	case "password":
		return a.Username == "" || a.match(req.PostForm.Get("username"), req.PostForm.Get("password"))
	case "refresh_token":
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.tokens[req.PostForm.Get("refresh_token")]
	}
	return false
}
