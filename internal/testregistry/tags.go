package testregistry

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// listTags serves GET /v2/<name>/tags/list with the n and last
// pagination parameters and a Link header to the next page.
func (r *Registry) listTags(w http.ResponseWriter, req *http.Request, name, _ string) {
	r.mu.Lock()
	rp := r.repo(name, false)
	var tags []string
	if rp != nil {
		for t := range rp.tags {
			tags = append(tags, t)
		}
	}
	r.mu.Unlock()
	if rp == nil {
		writeError(w, http.StatusNotFound, codeNameUnknown, "repository "+name+" not found")
		return
	}
	page, next, ok := paginate(w, req, tags)
	if !ok {
		return
	}
	if next != "" {
		setNextLink(w, "/v2/"+name+"/tags/list", next, req)
	}
	writeJSON(w, "application/json", struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{name, page})
}

// serveCatalog serves GET /v2/_catalog, paginated like the tags list.
func (r *Registry) serveCatalog(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, codeUnsupported, req.Method+" not supported on /v2/_catalog")
		return
	}
	r.mu.Lock()
	var names []string
	for n := range r.repos {
		names = append(names, n)
	}
	r.mu.Unlock()
	page, next, ok := paginate(w, req, names)
	if !ok {
		return
	}
	if next != "" {
		setNextLink(w, "/v2/_catalog", next, req)
	}
	writeJSON(w, "application/json", struct {
		Repositories []string `json:"repositories"`
	}{page})
}

// paginate sorts items and returns those after ?last=, at most ?n= of
// them, and the last returned item when more remain.
func paginate(w http.ResponseWriter, req *http.Request, items []string) (page []string, next string, ok bool) {
	slices.Sort(items)
	q := req.URL.Query()
	if last := q.Get("last"); last != "" {
		i, _ := slices.BinarySearch(items, last)
		for i < len(items) && items[i] <= last {
			i++
		}
		items = items[i:]
	}
	page = items
	if ns := q.Get("n"); ns != "" {
		n, err := strconv.Atoi(ns)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, codeUnsupported, "invalid n "+strconv.Quote(ns))
			return nil, "", false
		}
		if n < len(items) {
			page = items[:n]
			if n > 0 {
				next = page[n-1]
			}
		}
	}
	if page == nil {
		page = []string{}
	}
	return page, next, true
}

// setNextLink writes the RFC 5988 Link header to the following page.
func setNextLink(w http.ResponseWriter, path, last string, req *http.Request) {
	v := url.Values{}
	v.Set("last", last)
	v.Set("n", req.URL.Query().Get("n"))
	w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, path, v.Encode()))
}

// writeJSON sends v as a 200 response with the given Content-Type.
func writeJSON(w http.ResponseWriter, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, codeUnsupported, err.Error())
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
