package extension

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"pgoci/labels"
)

// PushIndex groups the images of one package version (built for several
// PostgreSQL majors, platforms or flavours) in an OCI image index, pushes
// it to dst and tags it with each of tags. The index lists the images in a
// stable order whatever order they come in, and each entry carries its
// platform and the selection annotations, so a resolver picks the right
// manifest from the index alone.
func PushIndex(ctx context.Context, dst oras.Target, images []Image, tags ...string) (ocispec.Descriptor, error) {
	if len(images) == 0 {
		return ocispec.Descriptor{}, fmt.Errorf("%w: no image to index", ErrInvalidBuild)
	}
	pkg := images[0].Metadata.Package
	for _, img := range images[1:] {
		if p := img.Metadata.Package; p != pkg {
			return ocispec.Descriptor{}, fmt.Errorf("%w: index mixes package %s %s and %s %s (want one package version per index)",
				ErrInvalidBuild, pkg.Name, pkg.Version, p.Name, p.Version)
		}
	}
	ann := map[string]string{
		labels.KeySchemaVersion:  fmt.Sprint(labels.SchemaVersion),
		labels.KeyPackageName:    pkg.Name,
		labels.KeyPackageVersion: pkg.Version,
	}
	desc, err := pushIndex(ctx, dst, images, ann)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	for _, tag := range tags {
		if err := dst.Tag(ctx, desc, tag); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("extension: tag %s as %q: %w", desc.Digest, tag, err)
		}
	}
	return desc, nil
}
