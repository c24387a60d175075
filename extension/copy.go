package extension

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"pgoci/internal/verify"
	"pgoci/ocilayout"
	"pgoci/resolve"
	"pgoci/trust/referrers"
)

// CopyOptions tunes [Copy] and [CopyAll]. The zero value copies every
// platform, without referrers, three blobs at a time.
type CopyOptions struct {
	// Remote configures access to the registries at both ends.
	// Default: see resolve.RemoteOptions.
	Remote resolve.RemoteOptions
	// Platforms selects the manifests of an index to copy. A manifest is
	// selected when its index entry's OS and architecture equal one of
	// these (after resolve.NormalizePlatform), and its variant too when
	// the selector names one ("linux/arm64" takes every arm64 variant).
	// When set, the destination gets a new, filtered index holding only
	// the selected entries, so its digest differs from the source's, and
	// referrers of the source index (a signature of it) are not copied:
	// they do not apply to the filtered one. A source that names a single
	// manifest is copied unchanged if its platform is selected.
	// Default: all platforms, the index copied byte for byte.
	Platforms []ocispec.Platform
	// NoReferrers copies the image alone. Default: what is attached to
	// the index and to each manifest copied (signatures, SBOMs,
	// attestations: referrers, and cosign's legacy sha256-<hex>.sig, .att
	// and .sbom tags), and what is attached to those, up to 3 levels, is
	// copied along, so that the copy verifies as the original does.
	NoReferrers bool
	// Concurrency is how many blobs are copied at once. Default: 3.
	Concurrency int
	// Events is told of every chunk of a blob read from the source,
	// verified as it goes: an EventFetch whose Digest is the blob and
	// Bytes the bytes of every blob read so far (Total is 0: the graph's
	// size is known only as it is walked). Calls are serialised and must
	// return quickly.
	// Blobs already at the destination are skipped and not reported.
	// Default: none.
	Events func(Event)
}

// Copy copies the image index or manifest that src names, with everything
// under it, to dst, and returns the descriptor of what dst now holds at
// the top. Either end is a registry reference
// ("host[:port]/repo[:tag][@digest]") or an OCI image layout
// ("oci:DIR[:tag]"; a missing layout is created). src must name a tag or a
// digest; dst is tagged with its own tag, else src's tag, else nothing (a
// layout then records the copy as an untagged index.json entry).
//
// Every blob is verified against its descriptor as it is read from the
// source (digest and size; manifests at most 4 MiB), and a layout
// destination verifies again as it writes. The tag is written last, after
// everything under it arrived: a failed or cancelled copy leaves the
// destination's tags as they were (blobs already copied stay; they are
// content-addressed and unreferenced).
//
// A source graph of more than 256 manifests and indexes is refused with
// [ErrTooManyManifests]: the size of the work is the source's to choose.
//
// Without CopyOptions.Platforms the index is copied byte for byte, so
// digests round-trip: registry -> layout -> registry gives the same index
// digest.
func Copy(ctx context.Context, src, dst string, opts CopyOptions) (ocispec.Descriptor, error) {
	from, sref, err := openCopySource(ctx, src, opts)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if sref.Tag == "" && sref.Digest == "" {
		return ocispec.Descriptor{}, fmt.Errorf("%w: copy source %q names no tag or digest (CopyAll copies every tag)", ErrCopyReference, shorten(src))
	}
	to, dref, err := openCopyDestination(dst, opts)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	c := newCopier(from, to, opts)
	root, err := c.copyRoot(ctx, cmp.Or(sref.Digest.String(), sref.Tag))
	if err != nil {
		return ocispec.Descriptor{}, explainAuth(err, sref, dref)
	}
	if err := c.tag(ctx, root, cmp.Or(dref.Tag, sref.Tag)); err != nil {
		return ocispec.Descriptor{}, explainAuth(err, dref)
	}
	return root, nil
}

// explainAuth applies resolve.ExplainAuth for each registry involved,
// so an authentication failure says which registry wants what.
func explainAuth(err error, refs ...resolve.Reference) error {
	for _, r := range refs {
		if e := resolve.ExplainAuth(err, r); e != err {
			return e
		}
	}
	return err
}

// copySource is what Copy reads: a repository or an OCI layout.
type copySource interface {
	resolve.Source
	content.ReadOnlyGraphStorage
}

func openCopySource(ctx context.Context, ref string, opts CopyOptions) (copySource, resolve.Reference, error) {
	src, r, err := resolve.Open(ctx, ref, opts.Remote)
	if err != nil {
		return nil, r, err
	}
	cs, ok := src.(copySource)
	if !ok { // resolve.Open returns oras-go stores, which all have Exists
		return nil, r, fmt.Errorf("%w: copy source %q cannot be read as a content store", ErrCopyReference, shorten(ref))
	}
	return cs, r, nil
}

func openCopyDestination(ref string, opts CopyOptions) (oras.Target, resolve.Reference, error) {
	r, err := resolve.ParseReference(ref)
	if err != nil {
		return nil, r, err
	}
	if r.Digest != "" {
		return nil, r, fmt.Errorf("%w: copy destination %q names a digest; name a tag or nothing", ErrCopyReference, shorten(ref))
	}
	if r.Layout != "" {
		st, err := ocilayout.New(r.Layout)
		if err != nil {
			return nil, r, fmt.Errorf("extension: copy destination: %w", err)
		}
		return st, r, nil
	}
	repo, err := resolve.Remote(ref, opts.Remote)
	if err != nil {
		return nil, r, err
	}
	return repo, r, nil
}

// copier copies graphs from one source to one destination.
type copier struct {
	src  copySource
	dst  oras.Target
	opts CopyOptions

	mu        sync.Mutex // serialises Progress and guards total, manifests and bad
	total     int64
	manifests int // manifests and indexes fetched, against maxCopyManifests
	// bad is the first content that failed its digest or size: it is the
	// cause of the copy's failure even when the destination, which
	// hashes what it receives too, answered first.
	bad error

	legacyOnce sync.Once
	legacy     map[string]bool
	legacyErr  error
}

// noteBad records a verification failure of content read from the
// source.
func (c *copier) noteBad(err error) {
	if errors.Is(err, verify.ErrDigest) || errors.Is(err, verify.ErrSize) {
		c.mu.Lock()
		if c.bad == nil {
			c.bad = err
		}
		c.mu.Unlock()
	}
}

// cause is err, or the verification failure behind it.
func (c *copier) cause(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bad != nil && err != nil && !errors.Is(err, c.bad) {
		return fmt.Errorf("%w (the destination reported: %v)", c.bad, err)
	}
	return err
}

// maxCopyManifests bounds the manifests and indexes one Copy reads (as
// Inspect's default MaxManifests does): the graph is content-addressed and
// finite, but a hostile source could make it as large as it likes. Nested
// indexes count too, so depth is bounded by the same number.
const maxCopyManifests = 256

// countManifest counts a manifest or index about to be fetched.
func (c *copier) countManifest(d ocispec.Descriptor) error {
	if !resolve.IsIndexMediaType(d.MediaType) && !resolve.IsManifestMediaType(d.MediaType) {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.manifests++
	if c.manifests > maxCopyManifests {
		return fmt.Errorf("%w: copy reads more than %d manifests and indexes (at %s)", ErrTooManyManifests, maxCopyManifests, d.Digest)
	}
	return nil
}

func newCopier(src copySource, dst oras.Target, opts CopyOptions) *copier {
	return &copier{src: src, dst: dst, opts: opts}
}

// copyRoot copies what object names (filtered by platform when asked),
// then the referrers, and returns the root written. It does not tag.
func (c *copier) copyRoot(ctx context.Context, object string) (ocispec.Descriptor, error) {
	root, body, err := fetchRoot(ctx, c.src, object)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	root = ocispec.Descriptor{MediaType: root.MediaType, Digest: root.Digest, Size: root.Size}
	nodes := []ocispec.Descriptor{root} // whose referrers to copy
	switch {
	case len(c.opts.Platforms) == 0:
		err = c.copyGraph(ctx, root)
		nodes = append(nodes, c.children(root, body)...)
	case resolve.IsIndexMediaType(root.MediaType):
		var kept []ocispec.Descriptor
		root, kept, err = c.copyFiltered(ctx, root, body)
		nodes = kept // the source index's referrers do not apply to the new one
	default:
		if err = c.checkManifestPlatform(ctx, root, body); err == nil {
			err = c.copyGraph(ctx, root)
		}
	}
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if !c.opts.NoReferrers {
		if err := c.copyReferrers(ctx, nodes, 1); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	return root, nil
}

// children returns the entries of an index body (verified already).
func (c *copier) children(root ocispec.Descriptor, body []byte) []ocispec.Descriptor {
	if !resolve.IsIndexMediaType(root.MediaType) {
		return nil
	}
	var idx ocispec.Index
	if json.Unmarshal(body, &idx) != nil {
		return nil
	}
	return idx.Manifests
}

func (c *copier) copyGraph(ctx context.Context, root ocispec.Descriptor) error {
	err := oras.CopyGraph(ctx, verifyingSource{c.src, c}, c.dst, root, oras.CopyGraphOptions{
		Concurrency:      c.opts.Concurrency,
		MaxMetadataBytes: resolve.MaxManifestSize,
	})
	if err != nil {
		return fmt.Errorf("extension: copy %s: %w", root.Digest, c.cause(err))
	}
	return nil
}

// tag points tag at root in the destination; with no tag, a layout
// records root as an untagged index.json entry so it stays reachable.
func (c *copier) tag(ctx context.Context, root ocispec.Descriptor, tag string) error {
	if tag == "" {
		if _, ok := c.dst.(*ocilayout.Store); !ok {
			return nil // a registry holds it by digest
		}
		tag = root.Digest.String() // the layout records an untagged entry
	}
	if err := c.dst.Tag(ctx, root, tag); err != nil {
		return fmt.Errorf("extension: tag %s as %q: %w", root.Digest, tag, err)
	}
	return nil
}

// copyReferrers copies what is attached to nodes, and to those, up to 3
// levels: every referrer (signatures, attestations, SBOMs, found through
// the referrers API, its sha256-<hex> tag fallback, or a layout's index),
// and cosign's legacy sha256-<hex>.sig, .att and .sbom tags, which are
// tagged again at the destination.
func (c *copier) copyReferrers(ctx context.Context, nodes []ocispec.Descriptor, level int) error {
	if level > 3 {
		return nil
	}
	var next []ocispec.Descriptor
	for _, n := range nodes {
		legacy, err := c.legacyTags(ctx)
		if err != nil {
			return err
		}
		arts, err := referrers.ArtifactsIn(ctx, c.src, ocispec.Descriptor{MediaType: n.MediaType, Digest: n.Digest, Size: n.Size}, 0, legacy)
		if err != nil {
			return fmt.Errorf("extension: list what is attached to %s: %w", n.Digest, err)
		}
		for _, a := range arts {
			if err := c.copyGraph(ctx, a.Descriptor); err != nil {
				return err
			}
			if a.Tag != "" {
				if err := c.tag(ctx, a.Descriptor, a.Tag); err != nil {
					return err
				}
			}
			next = append(next, a.Descriptor)
		}
	}
	if len(next) == 0 {
		return nil
	}
	return c.copyReferrers(ctx, next, level+1)
}

// legacyTags lists the source's cosign legacy tags once per copy (one
// request instead of three per manifest); nil when the source cannot
// list its tags.
func (c *copier) legacyTags(ctx context.Context) (map[string]bool, error) {
	c.legacyOnce.Do(func() {
		c.legacy, _, c.legacyErr = referrers.LegacyTags(ctx, c.src)
	})
	return c.legacy, c.legacyErr
}

// progress records n more bytes of d.
func (c *copier) progress(d ocispec.Descriptor, n int64) {
	if c.opts.Events == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += n
	c.opts.Events(Event{Kind: EventFetch, Digest: d.Digest, Bytes: c.total})
}

// verifyingSource verifies every blob as oras-go reads it, and reports
// progress: oras-go's Fetch does not hash, and a registry destination
// would otherwise be the only check.
type verifyingSource struct {
	content.ReadOnlyStorage
	c *copier
}

func (s verifyingSource) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if err := verify.Descriptor(d); err != nil {
		return nil, err
	}
	if err := s.c.countManifest(d); err != nil {
		return nil, err
	}
	rc, err := s.ReadOnlyStorage.Fetch(ctx, d)
	if err != nil {
		return nil, err
	}
	vr := verify.NewReader(rc, d, func(n int64) { s.c.progress(d, n) })
	return struct {
		io.Reader
		io.Closer
	}{noting{vr, s.c}, rc}, nil
}

// noting passes reads through, telling the copier of a verification
// failure.
type noting struct {
	r io.Reader
	c *copier
}

func (n noting) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	if err != nil {
		n.c.noteBad(err)
	}
	return k, err
}

var _ content.ReadOnlyStorage = verifyingSource{}
