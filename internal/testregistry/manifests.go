package testregistry

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Manifest media types the registry accepts on push.
const (
	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// manifest is a stored manifest and the fields the referrers API needs.
type manifest struct {
	mediaType    string
	body         []byte
	subject      digest.Digest
	artifactType string
	annotations  map[string]string
}

// manifestFields is the union of the image manifest and index fields the
// registry looks at.
type manifestFields struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType"`
	ArtifactType  string               `json:"artifactType"`
	Config        *ocispec.Descriptor  `json:"config"`
	Layers        []ocispec.Descriptor `json:"layers"`
	Manifests     []ocispec.Descriptor `json:"manifests"`
	Subject       *ocispec.Descriptor  `json:"subject"`
	Annotations   map[string]string    `json:"annotations"`
}

// isImageManifest reports whether mt names a manifest whose blobs must
// exist in the repository.
func isImageManifest(mt string) bool {
	return mt == ocispec.MediaTypeImageManifest || mt == mediaTypeDockerManifest
}

func isManifestType(mt string) bool {
	switch mt {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex,
		mediaTypeDockerManifest, mediaTypeDockerManifestList:
		return true
	}
	return false
}

// resolve finds the manifest a tag or digest names. The caller holds r.mu.
func (r *Registry) resolve(name, ref string) (digest.Digest, *manifest) {
	rp := r.repo(name, false)
	if rp == nil {
		return "", nil
	}
	d := digest.Digest(ref)
	if !strings.Contains(ref, ":") {
		d = rp.tags[ref]
	}
	return d, rp.manifests[d]
}

// getManifest serves GET and HEAD of a manifest by tag or digest.
func (r *Registry) getManifest(w http.ResponseWriter, req *http.Request, name, ref string) {
	r.mu.Lock()
	d, m := r.resolve(name, ref)
	r.mu.Unlock()
	if m == nil {
		writeError(w, http.StatusNotFound, codeManifestUnknown, "manifest "+ref+" not found in "+name)
		return
	}
	w.Header().Set("Content-Type", m.mediaType)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.body)))
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Etag", `"`+d.String()+`"`)
	w.WriteHeader(http.StatusOK)
	if req.Method != http.MethodHead {
		_, _ = w.Write(m.body)
	}
}

// putManifest validates and stores a manifest, tagging it when ref is a
// tag and for each ?tag= parameter.
func (r *Registry) putManifest(w http.ResponseWriter, req *http.Request, name, ref string) {
	body, err := io.ReadAll(io.LimitReader(req.Body, r.opts.MaxManifestSize+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeManifestInvalid, "reading manifest: "+err.Error())
		return
	}
	if int64(len(body)) > r.opts.MaxManifestSize {
		writeError(w, http.StatusRequestEntityTooLarge, codeSizeInvalid,
			fmt.Sprintf("manifest exceeds the limit of %d bytes", r.opts.MaxManifestSize))
		return
	}
	d, tags, ok := manifestTarget(w, req, ref, body)
	if !ok {
		return
	}
	m, ok := parseManifest(w, req.Header.Get("Content-Type"), body)
	if !ok {
		return
	}
	fields := m.fields
	r.mu.Lock()
	missing := r.missingBlob(name, fields)
	if missing == "" {
		rp := r.repo(name, true)
		rp.manifests[d] = m.stored
		for _, t := range tags {
			rp.tags[t] = d
		}
	}
	r.mu.Unlock()
	if missing != "" {
		writeError(w, http.StatusBadRequest, codeManifestBlobUnknown,
			"manifest references blob "+missing.String()+" not found in "+name)
		return
	}
	if m.stored.subject != "" {
		w.Header().Set("OCI-Subject", m.stored.subject.String())
	}
	if extra := req.URL.Query()["tag"]; len(extra) > 0 {
		w.Header().Set("OCI-Tag", strings.Join(extra, ","))
	}
	w.Header().Set("Location", "/v2/"+name+"/manifests/"+d.String())
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// manifestTarget works out the digest a pushed manifest is stored under
// and the tags to point at it, checking a digest reference against the
// content.
func manifestTarget(w http.ResponseWriter, req *http.Request, ref string, body []byte) (digest.Digest, []string, bool) {
	var tags []string
	d := digest.Canonical.FromBytes(body)
	if strings.Contains(ref, ":") {
		want, ok := parseDigest(ref)
		if !ok {
			writeError(w, http.StatusBadRequest, codeDigestInvalid, "invalid digest "+ref)
			return "", nil, false
		}
		if d = want.Algorithm().FromBytes(body); d != want {
			writeError(w, http.StatusBadRequest, codeDigestInvalid,
				fmt.Sprintf("manifest has digest %s, expected %s", d, want))
			return "", nil, false
		}
	} else {
		tags = append(tags, ref)
	}
	tags = append(tags, req.URL.Query()["tag"]...)
	for _, t := range tags {
		if !reTag.MatchString(t) {
			writeError(w, http.StatusBadRequest, codeManifestInvalid, "invalid tag "+strconv.Quote(t))
			return "", nil, false
		}
	}
	return d, tags, true
}

type parsedManifest struct {
	fields manifestFields
	stored *manifest
}

// parseManifest checks that body is JSON of a supported manifest type
// that agrees with the Content-Type it was pushed with.
func parseManifest(w http.ResponseWriter, contentType string, body []byte) (parsedManifest, bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || !isManifestType(mt) {
		writeError(w, http.StatusBadRequest, codeManifestInvalid,
			"unsupported manifest Content-Type "+strconv.Quote(contentType))
		return parsedManifest{}, false
	}
	var f manifestFields
	if err := json.Unmarshal(body, &f); err != nil {
		writeError(w, http.StatusBadRequest, codeManifestInvalid, "manifest is not valid JSON: "+err.Error())
		return parsedManifest{}, false
	}
	if f.MediaType != "" && f.MediaType != mt {
		writeError(w, http.StatusBadRequest, codeManifestInvalid,
			fmt.Sprintf("manifest mediaType %q does not match Content-Type %q", f.MediaType, mt))
		return parsedManifest{}, false
	}
	if f.SchemaVersion != 2 {
		writeError(w, http.StatusBadRequest, codeManifestInvalid,
			fmt.Sprintf("manifest schemaVersion is %d, expected 2", f.SchemaVersion))
		return parsedManifest{}, false
	}
	if isImageManifest(mt) && f.Config == nil {
		writeError(w, http.StatusBadRequest, codeManifestInvalid, "image manifest has no config")
		return parsedManifest{}, false
	}
	m := &manifest{mediaType: mt, body: body, artifactType: f.ArtifactType, annotations: f.Annotations}
	if f.Subject != nil {
		m.subject = f.Subject.Digest
	}
	if m.artifactType == "" && isImageManifest(mt) {
		m.artifactType = f.Config.MediaType
	}
	return parsedManifest{fields: f, stored: m}, true
}

// missingBlob returns the first blob an image manifest references that
// the repository lacks. Non-distributable layers (with URLs or a
// nondistributable media type) are exempt. The caller holds r.mu.
func (r *Registry) missingBlob(name string, f manifestFields) digest.Digest {
	if f.Config == nil {
		return ""
	}
	rp := r.repo(name, false)
	descs := append([]ocispec.Descriptor{*f.Config}, f.Layers...)
	for _, desc := range descs {
		if len(desc.URLs) > 0 || strings.Contains(desc.MediaType, "nondistributable") ||
			strings.Contains(desc.MediaType, "foreign") {
			continue
		}
		if rp == nil {
			return desc.Digest
		}
		if _, ok := rp.blobs[desc.Digest]; !ok {
			return desc.Digest
		}
	}
	return ""
}

// deleteManifest deletes a tag (the manifest stays) or, by digest, a
// manifest and every tag pointing at it.
func (r *Registry) deleteManifest(w http.ResponseWriter, _ *http.Request, name, ref string) {
	r.mu.Lock()
	found := r.deleteRef(name, ref)
	r.mu.Unlock()
	if !found {
		writeError(w, http.StatusNotFound, codeManifestUnknown, "manifest "+ref+" not found in "+name)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// deleteRef does the work of deleteManifest. The caller holds r.mu.
func (r *Registry) deleteRef(name, ref string) bool {
	rp := r.repo(name, false)
	if rp == nil {
		return false
	}
	if !strings.Contains(ref, ":") {
		_, ok := rp.tags[ref]
		delete(rp.tags, ref)
		return ok
	}
	d := digest.Digest(ref)
	if _, ok := rp.manifests[d]; !ok {
		return false
	}
	delete(rp.manifests, d)
	for t, td := range rp.tags {
		if td == d {
			delete(rp.tags, t)
		}
	}
	return true
}
