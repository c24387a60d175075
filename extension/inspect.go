package extension

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"

	"pgoci/labels"
	"pgoci/resolve"
)

// InspectOptions tunes [Inspect]. The zero value inspects the whole
// graph, referrers included, with default registry access.
type InspectOptions struct {
	// Remote configures registry access (credentials, plain HTTP,
	// retries). Default: see resolve.RemoteOptions.
	Remote resolve.RemoteOptions
	// NoReferrers skips listing referrers, which costs one request per
	// index and manifest. Default: referrers are listed.
	NoReferrers bool
	// MaxManifests bounds the manifests and nested indexes read, so that
	// a hostile index cannot make Inspect fetch thousands. Default: 256;
	// more is [ErrTooManyManifests].
	MaxManifests int
}

// Inspection is what [Inspect] found at a reference: the index, if the
// reference names one, every manifest under it, their parsed labels, and
// the referrers (signatures, SBOMs, attestations) attached to each. It
// marshals to the JSON that `pgoci inspect --json` prints.
type Inspection struct {
	// Reference is the reference inspected, as given.
	Reference string `json:"reference"`
	// Descriptor is the descriptor of what the reference names: an index
	// or a manifest.
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Indexes are the image indexes read: the one the reference names
	// first, then nested ones in the order found. Empty when the
	// reference names a manifest.
	Indexes []InspectedIndex `json:"indexes,omitempty"`
	// Manifests are the image manifests, in index order (depth first
	// through nested indexes).
	Manifests []InspectedManifest `json:"manifests"`
}

// InspectedIndex is one image index of an [Inspection].
type InspectedIndex struct {
	// Descriptor describes the index (for a nested one, as its parent
	// lists it).
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Parent is the index listing this one; "" for the top one.
	Parent digest.Digest `json:"parent,omitempty"`
	// Index is the index itself, verified.
	Index ocispec.Index `json:"index"`
	// Referrers are the manifests whose subject is this index, sorted by
	// artifact type then digest.
	Referrers []ocispec.Descriptor `json:"referrers,omitempty"`
}

// InspectedManifest is one image manifest of an [Inspection].
type InspectedManifest struct {
	// Descriptor describes the manifest as its index lists it, with the
	// index's platform and selection annotations.
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Index is the digest of the index listing it; "" when the reference
	// names the manifest.
	Index digest.Digest `json:"index,omitempty"`
	// Platform is from the index entry, else from the config; nil when
	// neither says.
	Platform *ocispec.Platform `json:"platform,omitempty"`
	// Manifest is the manifest itself, verified: its Config and Layers.
	Manifest ocispec.Manifest `json:"manifest"`
	// Labels are the labels of the index entry, the config and the
	// manifest (the manifest wins, as resolve merges them), parsed with
	// labels.Parse. When they do not parse, Labels holds what did and
	// LabelsErr says why (a *labels.Error naming each key); the rest of
	// the inspection goes on.
	Labels    labels.Metadata `json:"labels"`
	LabelsErr error           `json:"-"`
	// Referrers are the manifests whose subject is this manifest, sorted
	// by artifact type then digest.
	Referrers []ocispec.Descriptor `json:"referrers,omitempty"`
}

// MarshalJSON writes LabelsErr as its message, "labelsError".
func (m InspectedManifest) MarshalJSON() ([]byte, error) {
	type plain InspectedManifest // no methods: no recursion
	out := struct {
		plain
		LabelsError string `json:"labelsError,omitempty"`
	}{plain: plain(m)}
	if m.LabelsErr != nil {
		out.LabelsError = m.LabelsErr.Error()
	}
	return json.Marshal(out)
}

// Inspect reads what ref names ("host[:port]/repo[:tag][@digest]", or
// "oci:DIR[:tag|@digest]"; without a tag or digest, "latest") and every
// manifest under it: platforms, sizes, digests, layers and parsed labels,
// with the referrers of each index and manifest as listed by the OCI
// referrers API (for a layout, the manifests of index.json whose subject
// they are).
//
// Everything read is verified like resolve verifies it: digest and size
// against the descriptor, at most 4 MiB for a manifest, index or config,
// media type consistent with the content. A verification failure fails
// the inspection; labels that do not parse do not (see
// InspectedManifest.LabelsErr).
func Inspect(ctx context.Context, ref string, opts InspectOptions) (Inspection, error) {
	src, r, err := resolve.Open(ctx, ref, opts.Remote)
	if err != nil {
		return Inspection{}, resolve.ExplainAuth(err, r)
	}
	object := cmp.Or(r.Digest.String(), r.Tag, "latest")
	root, body, err := fetchRoot(ctx, src, object)
	if err != nil {
		return Inspection{}, resolve.ExplainAuth(err, r)
	}
	in := &inspector{src: src, opts: opts, max: cmp.Or(opts.MaxManifests, 256)}
	if g, ok := src.(content.ReadOnlyGraphStorage); ok && !opts.NoReferrers {
		in.graph = g
	}
	out := Inspection{Reference: ref, Descriptor: root, Manifests: []InspectedManifest{}}
	in.out = &out
	if resolve.IsIndexMediaType(root.MediaType) {
		err = in.index(ctx, root, body, "", nil, 1)
	} else {
		err = in.manifest(ctx, root, body, "", nil)
	}
	if err != nil {
		return Inspection{}, resolve.ExplainAuth(err, r)
	}
	return out, nil
}

// maxInspectDepth bounds index nesting, as resolve does.
const maxInspectDepth = 4

type inspector struct {
	src   resolve.Source
	graph content.ReadOnlyGraphStorage // nil: no referrers
	opts  InspectOptions
	max   int
	read  int
	out   *Inspection
}

func (in *inspector) count(d ocispec.Descriptor) error {
	in.read++
	if in.read > in.max {
		return fmt.Errorf("%w: more than %d manifests and indexes under %s (at %s)", ErrTooManyManifests, in.max, in.out.Descriptor.Digest, d.Digest)
	}
	return nil
}

// index records the index d (body verified) and walks its entries.
// annots are the annotations of the entries leading to it, outer first.
func (in *inspector) index(ctx context.Context, d ocispec.Descriptor, body []byte, parent digest.Digest, annots []map[string]string, depth int) error {
	if depth > maxInspectDepth {
		return fmt.Errorf("%w: %s is nested %d levels deep", resolve.ErrTooDeep, d.Digest, depth)
	}
	idx, err := resolve.DecodeIndex(d, body)
	if err != nil {
		return err
	}
	refs, err := in.referrers(ctx, d)
	if err != nil {
		return err
	}
	in.out.Indexes = append(in.out.Indexes, InspectedIndex{Descriptor: d, Parent: parent, Index: idx, Referrers: refs})
	for _, e := range idx.Manifests {
		if err := in.entry(ctx, e, d.Digest, append(slices.Clone(annots), e.Annotations), depth); err != nil {
			return err
		}
	}
	return nil
}

func (in *inspector) entry(ctx context.Context, e ocispec.Descriptor, parent digest.Digest, annots []map[string]string, depth int) error {
	if err := in.count(e); err != nil {
		return err
	}
	if !resolve.IsIndexMediaType(e.MediaType) && !resolve.IsManifestMediaType(e.MediaType) {
		return fmt.Errorf("%w: index %s lists %s of media type %q", resolve.ErrMediaType, parent, e.Digest, e.MediaType)
	}
	body, err := resolve.FetchVerified(ctx, in.src, e)
	if err != nil {
		return err
	}
	if resolve.IsIndexMediaType(e.MediaType) {
		return in.index(ctx, e, body, parent, annots, depth+1)
	}
	return in.manifest(ctx, e, body, parent, annots)
}

// manifest records the manifest d (body verified) with its labels and
// referrers.
func (in *inspector) manifest(ctx context.Context, d ocispec.Descriptor, body []byte, parent digest.Digest, annots []map[string]string) error {
	im := InspectedManifest{Descriptor: d, Index: parent, Platform: d.Platform}
	var err error
	if im.Manifest, err = resolve.DecodeManifest(d, body); err != nil {
		return err
	}
	merged := map[string]string{}
	for _, a := range annots {
		maps.Copy(merged, a)
	}
	if resolve.IsConfigMediaType(im.Manifest.Config.MediaType) {
		img, err := decodeConfig(ctx, in.src, im.Manifest, d)
		if err != nil {
			return err
		}
		maps.Copy(merged, img.Config.Labels)
		if im.Platform == nil && img.OS != "" {
			im.Platform = &img.Platform
		}
	}
	maps.Copy(merged, im.Manifest.Annotations)
	delete(merged, ocispec.AnnotationRefName) // the layout's tag, not a label
	im.Labels, im.LabelsErr = labels.Parse(merged)
	if im.Referrers, err = in.referrers(ctx, d); err != nil {
		return err
	}
	in.out.Manifests = append(in.out.Manifests, im)
	return nil
}

// referrers lists the manifests whose subject is d: the registry's
// referrers API (or its tag-schema fallback), or for a layout the
// predecessors of d that name it as their subject.
func (in *inspector) referrers(ctx context.Context, d ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	if in.graph == nil {
		return nil, nil
	}
	refs, err := registry.Referrers(ctx, in.graph, ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}, "")
	if err != nil {
		return nil, fmt.Errorf("extension: list referrers of %s: %w", d.Digest, err)
	}
	slices.SortFunc(refs, func(a, b ocispec.Descriptor) int {
		return cmp.Or(cmp.Compare(a.ArtifactType, b.ArtifactType), cmp.Compare(a.Digest, b.Digest))
	})
	return refs, nil
}
