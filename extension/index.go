package extension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"pgoci/labels"
)

// maxIndexSize bounds an existing index read back by [MergeIndex].
const maxIndexSize = 4 << 20

// PushIndex groups the images of one package version (built for several
// PostgreSQL majors, platforms or flavours) in an OCI image index, pushes
// it to dst and tags it with each of tags. The index lists the images in a
// stable order whatever order they come in, and each entry carries its
// platform and the selection annotations, so a resolver picks the right
// manifest from the index alone.
func PushIndex(ctx context.Context, dst oras.Target, images []Image, tags ...string) (ocispec.Descriptor, error) {
	pkg, err := onePackage(images)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return pushIndexTagged(ctx, dst, pkg, manifestsOf(images), tags)
}

// MergeIndex adds images to the index tagged tag in dst, creating it when
// the tag does not exist: the way separate build jobs (one per platform or
// PostgreSQL major) publish into one index. An existing entry built for the
// same slot (PostgreSQL major, platform, libc family, distro) is replaced.
// The existing index must be of the same package version. Two jobs merging
// into the same tag at the same moment can lose one entry: serialise them,
// or pack all images in one job and use [PushIndex].
func MergeIndex(ctx context.Context, dst oras.Target, tag string, images []Image) (ocispec.Descriptor, error) {
	pkg, err := onePackage(images)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	existing, err := readIndex(ctx, dst, tag)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if existing != nil {
		if name, version := existing.Annotations[labels.KeyPackageName], existing.Annotations[labels.KeyPackageVersion]; name != pkg.Name || version != pkg.Version {
			return ocispec.Descriptor{}, fmt.Errorf("%w: tag %q holds %s %s, not %s %s (want one package version per index)",
				ErrInvalidBuild, tag, name, version, pkg.Name, pkg.Version)
		}
	}
	manifests := manifestsOf(images)
	if existing != nil {
		for _, old := range existing.Manifests {
			if !slices.ContainsFunc(manifests, func(d ocispec.Descriptor) bool { return slot(d) == slot(old) }) {
				manifests = append(manifests, old)
			}
		}
	}
	return pushIndexTagged(ctx, dst, pkg, manifests, []string{tag})
}

// readIndex fetches the index tagged tag, verified; nil when the tag does
// not exist.
func readIndex(ctx context.Context, src oras.ReadOnlyTarget, tag string) (*ocispec.Index, error) {
	desc, err := src.Resolve(ctx, tag)
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("extension: resolve tag %q: %w", tag, err)
	}
	if desc.MediaType != ocispec.MediaTypeImageIndex {
		return nil, fmt.Errorf("%w: tag %q is a %s, not an image index", ErrInvalidBuild, tag, desc.MediaType)
	}
	if desc.Size > maxIndexSize {
		return nil, fmt.Errorf("%w: index %s is %d bytes (limit %d)", ErrInvalidBuild, desc.Digest, desc.Size, maxIndexSize)
	}
	data, err := content.FetchAll(ctx, src, desc) // verifies digest and size
	if err != nil {
		return nil, fmt.Errorf("extension: fetch index %s: %w", desc.Digest, err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%w: index %s: %v", ErrInvalidBuild, desc.Digest, err)
	}
	return &idx, nil
}

func onePackage(images []Image) (labels.Package, error) {
	if len(images) == 0 {
		return labels.Package{}, fmt.Errorf("%w: no image to index", ErrInvalidBuild)
	}
	pkg := images[0].Metadata.Package
	for _, img := range images[1:] {
		if p := img.Metadata.Package; p != pkg {
			return pkg, fmt.Errorf("%w: index mixes package %s %s and %s %s (want one package version per index)",
				ErrInvalidBuild, pkg.Name, pkg.Version, p.Name, p.Version)
		}
	}
	return pkg, nil
}

func manifestsOf(images []Image) []ocispec.Descriptor {
	out := make([]ocispec.Descriptor, len(images))
	for i, img := range images {
		out[i] = img.Manifest
	}
	return out
}

func pushIndexTagged(ctx context.Context, dst oras.Target, pkg labels.Package, manifests []ocispec.Descriptor, tags []string) (ocispec.Descriptor, error) {
	ann := map[string]string{
		labels.KeySchemaVersion:  strconv.Itoa(labels.SchemaVersion),
		labels.KeyPackageName:    pkg.Name,
		labels.KeyPackageVersion: pkg.Version,
	}
	desc, err := pushIndex(ctx, dst, manifests, ann)
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

// slot identifies what an index entry was built for; one index holds one
// manifest per slot.
func slot(d ocispec.Descriptor) string {
	a := d.Annotations
	return strings.Join([]string{a[labels.KeyPGMajor], platformKey(d.Platform), a[labels.KeyLibcFamily],
		a[labels.KeyDistroID], a[labels.KeyDistroVersion]}, "|")
}
