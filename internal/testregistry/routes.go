package testregistry

import (
	"net/http"
	"regexp"
)

// Routes of the distribution API. The name is matched greedily and
// validated afterwards, so a repository component may itself be called
// "blobs" or "manifests".
var (
	reUpload    = regexp.MustCompile(`^/v2/(.+)/blobs/uploads(?:/([^/]*))?$`)
	reBlob      = regexp.MustCompile(`^/v2/(.+)/blobs/([^/]+)$`)
	reManifest  = regexp.MustCompile(`^/v2/(.+)/manifests/([^/]+)$`)
	reTags      = regexp.MustCompile(`^/v2/(.+)/tags/list$`)
	reReferrers = regexp.MustCompile(`^/v2/(.+)/referrers/([^/]+)$`)

	// reName is the repository name grammar of the distribution spec.
	reName = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	// reTag is the tag grammar of the distribution spec.
	reTag = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// route dispatches one authorised request to its endpoint.
func (r *Registry) route(w http.ResponseWriter, req *http.Request) {
	p := req.URL.Path
	if p == "/v2/" || p == "/v2" {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		w.WriteHeader(http.StatusOK)
		return
	}
	if p == "/v2/_catalog" {
		r.serveCatalog(w, req)
		return
	}
	type endpoint struct {
		re      *regexp.Regexp
		methods map[string]func(http.ResponseWriter, *http.Request, string, string)
	}
	endpoints := []endpoint{
		{reUpload, map[string]func(http.ResponseWriter, *http.Request, string, string){
			http.MethodPost: r.startUpload, http.MethodPatch: r.patchUpload,
			http.MethodPut: r.putUpload, http.MethodGet: r.uploadStatus,
			http.MethodDelete: r.cancelUpload}},
		{reBlob, map[string]func(http.ResponseWriter, *http.Request, string, string){
			http.MethodGet: r.getBlob, http.MethodHead: r.getBlob, http.MethodDelete: r.deleteBlob}},
		{reManifest, map[string]func(http.ResponseWriter, *http.Request, string, string){
			http.MethodGet: r.getManifest, http.MethodHead: r.getManifest,
			http.MethodPut: r.putManifest, http.MethodDelete: r.deleteManifest}},
		{reTags, map[string]func(http.ResponseWriter, *http.Request, string, string){
			http.MethodGet: r.listTags}},
		{reReferrers, map[string]func(http.ResponseWriter, *http.Request, string, string){
			http.MethodGet: r.listReferrers}},
	}
	for _, ep := range endpoints {
		m := ep.re.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		if !reName.MatchString(m[1]) {
			writeError(w, http.StatusBadRequest, codeNameInvalid, "invalid repository name "+m[1])
			return
		}
		h := ep.methods[req.Method]
		if h == nil {
			writeError(w, http.StatusMethodNotAllowed, codeUnsupported, req.Method+" not supported on "+p)
			return
		}
		arg := ""
		if len(m) > 2 {
			arg = m[2]
		}
		h(w, req, m[1], arg)
		return
	}
	writeError(w, http.StatusNotFound, codeUnsupported, "no route for "+p)
}
