package testregistry

import (
	"net/http"
	"slices"
	"strings"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// listReferrers serves GET /v2/<name>/referrers/<digest>: an image index
// of the manifests whose subject is digest, optionally filtered by
// ?artifactType=. An unknown subject gets an empty index, as the spec
// requires.
func (r *Registry) listReferrers(w http.ResponseWriter, req *http.Request, name, ref string) {
	subject, ok := parseDigest(ref)
	if !ok {
		writeError(w, http.StatusBadRequest, codeDigestInvalid, "invalid digest "+ref)
		return
	}
	filter := req.URL.Query().Get("artifactType")
	descs := []ocispec.Descriptor{}
	r.mu.Lock()
	if rp := r.repo(name, false); rp != nil {
		for d, m := range rp.manifests {
			if m.subject != subject || (filter != "" && m.artifactType != filter) {
				continue
			}
			descs = append(descs, ocispec.Descriptor{
				MediaType:    m.mediaType,
				ArtifactType: m.artifactType,
				Digest:       d,
				Size:         int64(len(m.body)),
				Annotations:  m.annotations,
			})
		}
	}
	r.mu.Unlock()
	// Map order is random; a stable order makes responses comparable.
	slices.SortFunc(descs, func(a, b ocispec.Descriptor) int {
		return strings.Compare(a.Digest.String(), b.Digest.String())
	})
	if filter != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	writeJSON(w, ocispec.MediaTypeImageIndex, ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: descs,
	})
}
