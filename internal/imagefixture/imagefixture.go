// Package imagefixture pushes extension images to a registry or layout
// for tests: the demo package packed by extension.Pack for several
// versions, PostgreSQL majors and architectures, and images made by hand
// from labels alone (to state what a real pack would not, such as a
// bundled system/ library or labels of another schema).
package imagefixture

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"pgoci/extension"
	"pgoci/internal/demo"
)

// Demo packs the demo package as version for every major and arch
// ("amd64", "arm64"), with trees written under work, pushes the images
// to dst and tags their index with each of tags.
func Demo(ctx context.Context, dst oras.Target, work, version string, majors []int, archs []string, tags ...string) (ocispec.Descriptor, error) {
	var images []extension.Image
	for _, major := range majors {
		for _, arch := range archs {
			dir := filepath.Join(work, "demo-pg"+strconv.Itoa(major)+"-"+arch)
			if _, err := os.Stat(dir); err != nil {
				if dir, err = demo.Tree(work, major, arch); err != nil {
					return ocispec.Descriptor{}, err
				}
			}
			platform, meta := demo.Build(major, arch)
			meta.Package.Version = version
			img, err := extension.Pack(ctx, dst, dir, extension.Build{Platform: platform, Metadata: meta}, extension.PackOptions{NoSBOM: true})
			if err != nil {
				return ocispec.Descriptor{}, fmt.Errorf("imagefixture: pack %s for PostgreSQL %d %s: %w", version, major, arch, err)
			}
			images = append(images, img)
		}
	}
	return extension.PushIndex(ctx, dst, images, tags...)
}

// Image is an image made by hand: a config and a manifest carrying
// Annotations (as manifest annotations and config labels), and one
// small layer that is never read.
type Image struct {
	Platform ocispec.Platform
	// Annotations are the image's labels.
	Annotations map[string]string
	// IndexAnnotations go on the image's index entry.
	IndexAnnotations map[string]string
}

// Handmade pushes images to dst and an index of them tagged with each of
// tags, and returns the index and the manifests.
func Handmade(ctx context.Context, dst oras.Target, images []Image, tags ...string) (ocispec.Descriptor, []ocispec.Descriptor, error) {
	var manifests []ocispec.Descriptor
	for _, im := range images {
		m, err := Manifest(ctx, dst, im)
		if err != nil {
			return ocispec.Descriptor{}, nil, err
		}
		m.Annotations = maps.Clone(im.IndexAnnotations)
		p := im.Platform
		m.Platform = &p
		manifests = append(manifests, m)
	}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: manifests}
	d, err := push(ctx, dst, ocispec.MediaTypeImageIndex, idx)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	for _, t := range tags {
		if err := dst.Tag(ctx, d, t); err != nil {
			return ocispec.Descriptor{}, nil, err
		}
	}
	return d, manifests, nil
}

// Manifest pushes one image made by hand and returns its manifest's
// descriptor (without platform).
func Manifest(ctx context.Context, dst oras.Target, im Image) (ocispec.Descriptor, error) {
	layer := []byte("pgoci imagefixture layer " + im.Platform.Architecture)
	ld := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayerGzip, layer)
	if err := pushBlob(ctx, dst, ld, layer); err != nil {
		return ocispec.Descriptor{}, err
	}
	cfg := ocispec.Image{Platform: im.Platform, Config: ocispec.ImageConfig{Labels: im.Annotations},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{ld.Digest}}}
	cd, err := push(ctx, dst, ocispec.MediaTypeImageConfig, cfg)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: cd, Layers: []ocispec.Descriptor{ld}, Annotations: im.Annotations}
	return push(ctx, dst, ocispec.MediaTypeImageManifest, m)
}

func push(ctx context.Context, dst oras.Target, mediaType string, v any) (ocispec.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d := content.NewDescriptorFromBytes(mediaType, b)
	return d, pushBlob(ctx, dst, d, b)
}

func pushBlob(ctx context.Context, dst oras.Target, d ocispec.Descriptor, b []byte) error {
	ok, err := dst.Exists(ctx, d)
	if err != nil || ok {
		return err
	}
	return dst.Push(ctx, d, bytes.NewReader(b))
}
