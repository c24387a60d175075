package extension

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"slices"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"pgoci/labels"
)

// Image is one packed manifest: one package version built for one
// PostgreSQL major, one platform and one build flavour.
type Image struct {
	// Manifest describes the manifest, with its platform and the selection
	// annotations set: it is the entry an index lists.
	Manifest ocispec.Descriptor
	// Config describes the image config, whose labels repeat the manifest
	// annotations.
	Config ocispec.Descriptor
	// Layers describe the layers, bottom first; DiffIDs are their
	// uncompressed digests.
	Layers  []ocispec.Descriptor
	DiffIDs []digest.Digest
	// Metadata is what the labels say.
	Metadata labels.Metadata
	// SBOM is the SPDX SBOM referrer Pack attached to the manifest; zero
	// with PackOptions.NoSBOM.
	SBOM ocispec.Descriptor
}

// pushImage writes the config and manifest of an image whose layers are
// already in dst, and returns the image with its index entry filled.
func pushImage(ctx context.Context, dst content.Pusher, layers []ocispec.Descriptor, diffIDs []digest.Digest,
	meta labels.Metadata, platform ocispec.Platform, extra map[string]string) (Image, error) {
	ann := meta.Annotations()
	for k, v := range extra {
		if _, taken := ann[k]; !taken {
			ann[k] = v
		}
	}
	config := ocispec.Image{
		Platform: platform,
		Config:   ocispec.ImageConfig{Labels: ann},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	}
	configDesc, err := pushJSON(ctx, dst, ocispec.MediaTypeImageConfig, config)
	if err != nil {
		return Image{}, err
	}
	manifest := ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      configDesc,
		Layers:      layers,
		Annotations: ann,
	}
	manifestDesc, err := pushJSON(ctx, dst, ocispec.MediaTypeImageManifest, manifest)
	if err != nil {
		return Image{}, err
	}
	manifestDesc.Platform = &platform
	manifestDesc.Annotations = meta.SelectionAnnotations()
	return Image{Manifest: manifestDesc, Config: configDesc, Layers: layers, DiffIDs: diffIDs, Metadata: meta}, nil
}

// pushIndex writes an image index listing manifests in a stable order (PG
// major, then platform, then digest), so that the same set of images always
// gives the same index digest whatever order they were packed in.
func pushIndex(ctx context.Context, dst content.Pusher, manifests []ocispec.Descriptor, annotations map[string]string) (ocispec.Descriptor, error) {
	sorted := slices.Clone(manifests)
	slices.SortFunc(sorted, compareEntries)
	sorted = slices.CompactFunc(sorted, func(a, b ocispec.Descriptor) bool { return a.Digest == b.Digest })
	index := ocispec.Index{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageIndex,
		Manifests:   sorted,
		Annotations: annotations,
	}
	return pushJSON(ctx, dst, ocispec.MediaTypeImageIndex, index)
}

func compareEntries(a, b ocispec.Descriptor) int {
	if c := cmp.Compare(pgMajorOf(a), pgMajorOf(b)); c != 0 {
		return c
	}
	if c := strings.Compare(platformKey(a.Platform), platformKey(b.Platform)); c != 0 {
		return c
	}
	return strings.Compare(string(a.Digest), string(b.Digest))
}

// pgMajorOf reads the PostgreSQL major of an index entry (0 if absent), so
// that 9 would sort before 10.
func pgMajorOf(d ocispec.Descriptor) int {
	n, _ := strconv.Atoi(d.Annotations[labels.KeyPGMajor])
	return n
}

func platformKey(p *ocispec.Platform) string {
	if p == nil {
		return ""
	}
	return p.OS + "/" + p.Architecture + "/" + p.Variant
}

// pushJSON marshals v (map keys sorted by encoding/json, so the bytes are
// canonical) and pushes it unless dst already has it.
func pushJSON(ctx context.Context, dst content.Pusher, mediaType string, v any) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("extension: encode %s: %w", mediaType, err)
	}
	desc := content.NewDescriptorFromBytes(mediaType, data)
	if err := pushBlob(ctx, dst, desc, bytes.NewReader(data)); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// pushBlob pushes r as desc, treating "already exists" as success: content
// is addressed by digest, so an existing blob is the same blob.
func pushBlob(ctx context.Context, dst content.Pusher, desc ocispec.Descriptor, r io.Reader) error {
	if s, ok := dst.(content.ReadOnlyStorage); ok {
		if exists, err := s.Exists(ctx, desc); err == nil && exists {
			return nil
		}
	}
	if err := dst.Push(ctx, desc, r); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return fmt.Errorf("extension: push %s %s: %w", desc.MediaType, desc.Digest, err)
	}
	return nil
}
