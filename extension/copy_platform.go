package extension

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/resolve"
)

// dockerReferenceDigest is the annotation of a buildx attestation entry
// naming the manifest it describes.
const dockerReferenceDigest = "vnd.docker.reference.digest"

// platformSelected reports whether p is one of sel: same OS and
// architecture after normalisation, and the same variant when the
// selector names one.
func platformSelected(sel []ocispec.Platform, p *ocispec.Platform) bool {
	if p == nil {
		return false
	}
	have := resolve.NormalizePlatform(*p)
	return slices.ContainsFunc(sel, func(s ocispec.Platform) bool {
		want := resolve.NormalizePlatform(s)
		return want.OS == have.OS && want.Architecture == have.Architecture &&
			(s.Variant == "" || want.Variant == have.Variant)
	})
}

// filterIndex returns the entries of idx whose platform is selected, and
// the attestation entries that describe one of them.
func filterIndex(idx ocispec.Index, sel []ocispec.Platform) []ocispec.Descriptor {
	keptDigests := map[digest.Digest]bool{}
	for _, e := range idx.Manifests {
		if _, att := e.Annotations[dockerReferenceDigest]; !att && platformSelected(sel, e.Platform) {
			keptDigests[e.Digest] = true
		}
	}
	var out []ocispec.Descriptor
	for _, e := range idx.Manifests { // index order, attestations included
		if keptDigests[e.Digest] || keptDigests[digest.Digest(e.Annotations[dockerReferenceDigest])] {
			out = append(out, e)
		}
	}
	return out
}

// copyFiltered copies the selected entries of the index root (body
// verified) and pushes a new index holding only them. It returns the new
// index's descriptor and the manifests copied.
func (c *copier) copyFiltered(ctx context.Context, root ocispec.Descriptor, body []byte) (ocispec.Descriptor, []ocispec.Descriptor, error) {
	idx, err := resolve.DecodeIndex(root, body)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	kept := filterIndex(idx, c.opts.Platforms)
	if len(kept) == 0 {
		return ocispec.Descriptor{}, nil, fmt.Errorf("%w: index %s has %s, want %s", ErrNoPlatform, root.Digest, indexPlatforms(idx), platformList(c.opts.Platforms))
	}
	for _, e := range kept {
		if err := c.copyGraph(ctx, e); err != nil {
			return ocispec.Descriptor{}, nil, err
		}
	}
	// The other fields of the source index (annotations, artifactType,
	// subject) are kept; fields ocispec.Index does not know are dropped.
	idx.Manifests = kept
	if idx.MediaType == "" {
		idx.MediaType = root.MediaType
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("extension: encode filtered index: %w", err)
	}
	d := ocispec.Descriptor{MediaType: root.MediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
	if ok, err := c.dst.Exists(ctx, d); err != nil || !ok {
		if err := c.dst.Push(ctx, d, strings.NewReader(string(b))); err != nil {
			return ocispec.Descriptor{}, nil, fmt.Errorf("extension: push filtered index %s: %w", d.Digest, err)
		}
	}
	return d, kept, nil
}

// checkManifestPlatform refuses a single manifest whose config's platform
// is not selected.
func (c *copier) checkManifestPlatform(ctx context.Context, root ocispec.Descriptor, body []byte) error {
	m, err := resolve.DecodeManifest(root, body)
	if err != nil {
		return err
	}
	var p *ocispec.Platform
	if resolve.IsConfigMediaType(m.Config.MediaType) {
		img, err := decodeConfig(ctx, c.src, m, root)
		if err != nil {
			return err
		}
		p = &img.Platform
	}
	if !platformSelected(c.opts.Platforms, p) {
		have := "no platform"
		if p != nil {
			have = resolve.PlatformString(*p)
		}
		return fmt.Errorf("%w: manifest %s is for %s, want %s", ErrNoPlatform, root.Digest, have, platformList(c.opts.Platforms))
	}
	return nil
}

func indexPlatforms(idx ocispec.Index) string {
	var ps []string
	for _, e := range idx.Manifests {
		if e.Platform != nil {
			ps = append(ps, resolve.PlatformString(*e.Platform))
		}
	}
	if len(ps) == 0 {
		return "no platforms"
	}
	slices.Sort(ps)
	return strings.Join(slices.Compact(ps), ", ")
}

func platformList(ps []ocispec.Platform) string {
	var s []string
	for _, p := range ps {
		s = append(s, resolve.PlatformString(p))
	}
	return strings.Join(s, ", ")
}
