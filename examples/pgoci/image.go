package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"pgoci/extension"
	"pgoci/labels"
)

// maxJSONSize bounds a manifest or config read back from a registry, as
// the SDK bounds those it resolves.
const maxJSONSize = 4 << 20

// readImage reads back, from src, the image that pack pushed as the
// manifest s: its labels and config give the extension.Image that
// extension.PushIndex lists, with the same index entry pack would have
// made. The SDK has no such reader, so it lives here.
func readImage(ctx context.Context, src oras.ReadOnlyTarget, s string) (extension.Image, error) {
	dg, err := digest.Parse(s)
	if err != nil {
		return extension.Image{}, usagef("DIGEST %q: %v", s, err)
	}
	desc, err := src.Resolve(ctx, dg.String())
	if err != nil {
		return extension.Image{}, fmt.Errorf("manifest %s: %w", dg, err)
	}
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return extension.Image{}, fmt.Errorf("%s is not an image manifest but a %s (want digests that pack --no-index printed)", dg, desc.MediaType)
	}
	var m ocispec.Manifest
	if err := fetchJSON(ctx, src, desc, &m); err != nil {
		return extension.Image{}, err
	}
	meta, err := labels.Parse(m.Annotations)
	if err == nil && meta.Package.Name == "" {
		err = errors.New("no pgoci labels")
	}
	if err != nil {
		return extension.Image{}, fmt.Errorf("manifest %s is not a pgoci image: %w", dg, err)
	}
	var config ocispec.Image
	if err := fetchJSON(ctx, src, m.Config, &config); err != nil {
		return extension.Image{}, err
	}
	platform := config.Platform
	desc.Platform = &platform
	desc.Annotations = meta.SelectionAnnotations()
	return extension.Image{Manifest: desc, Config: m.Config, Layers: m.Layers,
		DiffIDs: config.RootFS.DiffIDs, Metadata: meta}, nil
}

// fetchJSON fetches desc, checked against its digest and size, and
// decodes it into v.
func fetchJSON(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor, v any) error {
	if desc.Size > maxJSONSize {
		return fmt.Errorf("%s is %d bytes (limit %d)", desc.Digest, desc.Size, maxJSONSize)
	}
	data, err := content.FetchAll(ctx, src, desc)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", desc.Digest, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", desc.Digest, err)
	}
	return nil
}
