package testregistry

import (
	"bytes"
	_ "crypto/sha256" // digest algorithms the registry accepts
	_ "crypto/sha512"
	"net/http"
	"time"

	"github.com/opencontainers/go-digest"
)

// parseDigest validates a digest from a URL and checks that its
// algorithm is one the registry can compute.
func parseDigest(s string) (digest.Digest, bool) {
	d, err := digest.Parse(s)
	if err != nil || !d.Algorithm().Available() {
		return "", false
	}
	return d, true
}

// getBlob serves GET and HEAD of a blob, with Range support.
func (r *Registry) getBlob(w http.ResponseWriter, req *http.Request, name, ref string) {
	d, ok := parseDigest(ref)
	if !ok {
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "invalid digest "+ref)
		return
	}
	r.mu.Lock()
	var data []byte
	if rp := r.repo(name, false); rp != nil {
		data, ok = rp.blobs[d]
	} else {
		ok = false
	}
	r.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, codeBlobUnknown, "blob "+d.String()+" not found in "+name)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Etag", `"`+d.String()+`"`)
	// ServeContent implements single and multiple byte ranges, 416 for
	// unsatisfiable ones, and HEAD without a body. Blobs are immutable,
	// so the slice is safe to read outside the lock.
	http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(data))
}

// deleteBlob removes a blob from one repository.
func (r *Registry) deleteBlob(w http.ResponseWriter, _ *http.Request, name, ref string) {
	d, ok := parseDigest(ref)
	if !ok {
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "invalid digest "+ref)
		return
	}
	r.mu.Lock()
	rp := r.repo(name, false)
	if rp != nil {
		_, ok = rp.blobs[d]
		delete(rp.blobs, d)
	} else {
		ok = false
	}
	r.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, codeBlobUnknown, "blob "+d.String()+" not found in "+name)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// storeBlob links content into a repository. The caller holds r.mu.
func (r *Registry) storeBlob(name string, d digest.Digest, data []byte) {
	r.repo(name, true).blobs[d] = data
}

// findBlob looks a blob up in repository from, or in every repository
// when from is empty (anonymous mount). The caller holds r.mu.
func (r *Registry) findBlob(from string, d digest.Digest) ([]byte, bool) {
	if from != "" {
		if rp := r.repo(from, false); rp != nil {
			data, ok := rp.blobs[d]
			return data, ok
		}
		return nil, false
	}
	for _, rp := range r.repos {
		if data, ok := rp.blobs[d]; ok {
			return data, true
		}
	}
	return nil, false
}
