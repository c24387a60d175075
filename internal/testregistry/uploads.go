package testregistry

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
)

// upload is an open blob upload session.
type upload struct {
	repo string
	buf  bytes.Buffer
}

// newID returns a random upload session identifier.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uploadLocation(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }
func blobLocation(name string, d digest.Digest) string {
	return "/v2/" + name + "/blobs/" + d.String()
}

// startUpload handles POST .../blobs/uploads/: a cross-repository mount,
// a single-request push (?digest=), or the start of a session.
func (r *Registry) startUpload(w http.ResponseWriter, req *http.Request, name, id string) {
	if id != "" {
		writeError(w, http.StatusMethodNotAllowed, codeUnsupported, "POST to an upload session")
		return
	}
	q := req.URL.Query()
	if m := q.Get("mount"); m != "" && r.mount(w, name, m, q.Get("from")) {
		return
	}
	if ds := q.Get("digest"); ds != "" {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, codeBlobUploadInvalid, "reading body: "+err.Error())
			return
		}
		r.commit(w, name, ds, body)
		return
	}
	id = newID()
	r.mu.Lock()
	r.uploads[id] = &upload{repo: name}
	r.mu.Unlock()
	if r.opts.ChunkMinLength > 0 {
		w.Header().Set("OCI-Chunk-Min-Length", strconv.FormatInt(r.opts.ChunkMinLength, 10))
	}
	writeUploadStatus(w, http.StatusAccepted, name, id, 0)
}

// mount links an existing blob into name. It reports false when the
// source blob is absent, so the caller falls back to a new session as the
// spec requires.
func (r *Registry) mount(w http.ResponseWriter, name, ds, from string) bool {
	d, ok := parseDigest(ds)
	if !ok {
		return false
	}
	if from != "" && !reName.MatchString(from) {
		return false
	}
	r.mu.Lock()
	data, ok := r.findBlob(from, d)
	if ok {
		r.storeBlob(name, d, data)
	}
	r.mu.Unlock()
	if !ok {
		return false
	}
	w.Header().Set("Location", blobLocation(name, d))
	w.Header().Set("Docker-Content-Digest", d.String())
	w.WriteHeader(http.StatusCreated)
	return true
}

// writeUploadStatus sends the headers describing an open session.
func writeUploadStatus(w http.ResponseWriter, status int, name, id string, size int) {
	w.Header().Set("Location", uploadLocation(name, id))
	w.Header().Set("Docker-Upload-UUID", id)
	w.Header().Set("Range", fmt.Sprintf("0-%d", size-1))
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// session returns the open upload id of repository name, or writes 404.
// The caller holds r.mu.
func (r *Registry) session(w http.ResponseWriter, name, id string) *upload {
	u := r.uploads[id]
	if u == nil || u.repo != name {
		writeError(w, http.StatusNotFound, codeBlobUploadUnknown, "upload "+id+" not found in "+name)
		return nil
	}
	return u
}

// appendChunk reads the request body into the session, honouring an
// optional Content-Range "start-end" that must continue the upload.
// It writes the error response and reports false on failure.
func (r *Registry) appendChunk(w http.ResponseWriter, req *http.Request, name, id string) bool {
	chunk, err := io.ReadAll(req.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBlobUploadInvalid, "reading body: "+err.Error())
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.session(w, name, id)
	if u == nil {
		return false
	}
	if cr := req.Header.Get("Content-Range"); cr != "" {
		start, end, ok := parseContentRange(cr)
		if !ok || start != int64(u.buf.Len()) {
			writeUploadStatus(w, http.StatusRequestedRangeNotSatisfiable, name, id, u.buf.Len())
			return false
		}
		if end-start+1 != int64(len(chunk)) {
			writeError(w, http.StatusBadRequest, codeBlobUploadInvalid,
				fmt.Sprintf("Content-Range %q does not match a body of %d bytes", cr, len(chunk)))
			return false
		}
	}
	u.buf.Write(chunk)
	return true
}

// parseContentRange parses the upload form "start-end" (an optional
// "bytes " prefix is tolerated).
func parseContentRange(s string) (start, end int64, ok bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "bytes ")
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, false
	}
	return start, end, true
}

// patchUpload handles PATCH: a chunk or a streamed body.
func (r *Registry) patchUpload(w http.ResponseWriter, req *http.Request, name, id string) {
	if !r.appendChunk(w, req, name, id) {
		return
	}
	r.mu.Lock()
	size := r.uploads[id].buf.Len()
	r.mu.Unlock()
	writeUploadStatus(w, http.StatusAccepted, name, id, size)
}

// putUpload handles PUT ?digest=: an optional last chunk, then the
// digest check and commit. The session ends either way.
func (r *Registry) putUpload(w http.ResponseWriter, req *http.Request, name, id string) {
	if !r.appendChunk(w, req, name, id) {
		return
	}
	r.mu.Lock()
	u := r.uploads[id]
	delete(r.uploads, id)
	r.mu.Unlock()
	if u == nil { // cancelled concurrently
		writeError(w, http.StatusNotFound, codeBlobUploadUnknown, "upload "+id+" not found in "+name)
		return
	}
	r.commit(w, name, req.URL.Query().Get("digest"), u.buf.Bytes())
}

// commit verifies data against the digest ds and stores it.
func (r *Registry) commit(w http.ResponseWriter, name, ds string, data []byte) {
	d, ok := parseDigest(ds)
	if !ok {
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "missing or invalid digest "+strconv.Quote(ds))
		return
	}
	if got := d.Algorithm().FromBytes(data); got != d {
		writeError(w, http.StatusBadRequest, codeDigestInvalid,
			fmt.Sprintf("uploaded content has digest %s, expected %s", got, d))
		return
	}
	r.mu.Lock()
	r.storeBlob(name, d, data)
	r.mu.Unlock()
	w.Header().Set("Location", blobLocation(name, d))
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// uploadStatus handles GET of a session: where the upload stands.
func (r *Registry) uploadStatus(w http.ResponseWriter, _ *http.Request, name, id string) {
	r.mu.Lock()
	u := r.session(w, name, id)
	size := 0
	if u != nil {
		size = u.buf.Len()
	}
	r.mu.Unlock()
	if u != nil {
		writeUploadStatus(w, http.StatusNoContent, name, id, size)
	}
}

// cancelUpload handles DELETE of a session.
func (r *Registry) cancelUpload(w http.ResponseWriter, _ *http.Request, name, id string) {
	r.mu.Lock()
	u := r.session(w, name, id)
	if u != nil {
		delete(r.uploads, id)
	}
	r.mu.Unlock()
	if u != nil {
		w.WriteHeader(http.StatusNoContent)
	}
}
