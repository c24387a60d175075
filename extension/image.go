package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"slices"
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

// pushIndex writes an image index listing images in a stable order (PG
// major, then platform, then digest), so that the same set of images always
// gives the same index digest whatever order they were packed in.
func pushIndex(ctx context.Context, dst content.Pusher, images []Image, annotations map[string]string) (ocispec.Descriptor, error) {
	sorted := slices.Clone(images)
	slices.SortFunc(sorted, compareImages)
	manifests := make([]ocispec.Descriptor, 0, len(sorted))
	for i, img := range sorted {
		if i > 0 && img.Manifest.Digest == sorted[i-1].Manifest.Digest {
			continue
		}
		manifests = append(manifests, img.Manifest)
	}
	index := ocispec.Index{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageIndex,
		Manifests:   manifests,
		Annotations: annotations,
	}
	return pushJSON(ctx, dst, ocispec.MediaTypeImageIndex, index)
}

func compareImages(a, b Image) int {
	if c := a.Metadata.PG.Major - b.Metadata.PG.Major; c != 0 {
		return c
	}
	if c := strings.Compare(platformKey(a.Manifest.Platform), platformKey(b.Manifest.Platform)); c != 0 {
		return c
	}
	return strings.Compare(string(a.Manifest.Digest), string(b.Manifest.Digest))
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
