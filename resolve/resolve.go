package resolve

import (
	"context"
	"errors"
	"fmt"
	"slices"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/labels"
)

// Options tunes [Resolve]. The zero value resolves with the [Default]
// policy, the highest version when the reference has no tag or digest,
// and without fetching the config when the labels do not need it.
type Options struct {
	// Policy is the compatibility policy. Default: [Default].
	Policy Policy
	// Version is a version constraint over the repository's tags (see
	// [ParseConstraint] and [ParseTag]), for a reference without tag and
	// digest. Default "": the highest release ("latest"). Setting it
	// together with a tag or digest is an error.
	Version string
	// MaxVersions is how many versions that satisfy Version are tried,
	// highest first, when the higher ones hold no image fitting the
	// target. Default: 3.
	MaxVersions int
	// FetchConfig fetches and returns the image config even when the
	// index and manifest carry everything the check needs (one more
	// request). Default: fetched only when needed.
	FetchConfig bool
	// Remote configures registry access for [ResolveReference].
	Remote RemoteOptions
	// Verifier, when set, checks the chosen manifest (and the index it
	// was chosen from) before Resolve returns it: signatures and
	// attestations, against a trust policy (package trust provides one).
	// A refusal is Resolve's error; nothing else is tried. Default: none.
	Verifier Verifier
}

// Verifier checks a resolved image before anything of it is used. It is
// the small part of package trust that resolve needs, declared here so
// that resolve does not depend on it (and its Sigstore libraries).
type Verifier interface {
	// Verify checks manifest (chosen from index, nil when the reference
	// named a manifest) in ref's repository, reading from src, and
	// returns the digest of the signature that verified it ("" when the
	// policy requires none).
	Verify(ctx context.Context, src Source, ref Reference, index *ocispec.Descriptor, manifest ocispec.Descriptor) (digest.Digest, error)
}

// Resolved is the one manifest chosen for a target: everything needed to
// fetch its layers next, without fetching anything again.
type Resolved struct {
	// Reference is "name@digest" of the manifest, e.g.
	// "registry.example/ext/postgis@sha256:...".
	Reference string
	// Tag is the tag resolved, "" for a digest reference.
	Tag string
	// Index is the image index the reference named; zero when it named a
	// manifest directly. A nested index is not recorded.
	Index ocispec.Descriptor
	// Manifest is the manifest's descriptor, as found in the index, with
	// its Platform set (from the config when the index did not say).
	Manifest ocispec.Descriptor
	// ManifestBody is the verified manifest: its Layers are what to
	// fetch next.
	ManifestBody ocispec.Manifest
	// Config is the config descriptor (ManifestBody.Config).
	Config ocispec.Descriptor
	// Image is the verified config when it was fetched, else nil.
	Image *ocispec.Image
	// Platform is the image's platform.
	Platform ocispec.Platform
	// Metadata is the labels merged from the index descriptors, config and
	// manifest (manifest wins) and parsed.
	Metadata labels.Metadata
	// Report lists the findings of the compatibility check that are not a
	// [Match]: properties unknown on one side, or not checked by the
	// policy.
	Report []Finding
	// Rejected lists the other candidates and why they did not fit.
	Rejected []Candidate
	// Signature is the digest of the signature Options.Verifier verified,
	// "" without one.
	Signature digest.Digest
}

// ResolveReference parses ref ("host[:port]/repo[:tag][@digest]" or
// "oci:DIR[:tag|@digest]"), opens its source with opts.Remote and
// resolves it for t. See [Resolve].
func ResolveReference(ctx context.Context, ref string, t Target, opts Options) (Resolved, error) {
	src, r, err := Open(ctx, ref, opts.Remote)
	if err != nil {
		return Resolved{}, err
	}
	return Resolve(ctx, src, r, t, opts)
}

// Resolve finds in src the one manifest that fits target t under
// opts.Policy, verified. ref names the tag or digest to resolve (its
// registry, repository or layout only name things in errors); without
// either, the tags are listed and the highest version satisfying
// opts.Version is resolved, trying up to opts.MaxVersions versions.
//
// When nothing fits, the error is an *[IncompatibleError] listing every
// candidate, each property wanted vs found.
func Resolve(ctx context.Context, src Source, ref Reference, t Target, opts Options) (Resolved, error) {
	r, err := resolveRef(ctx, src, ref, t, opts)
	if err == nil && opts.Verifier != nil {
		var index *ocispec.Descriptor
		if r.Index.Digest != "" {
			index = &r.Index
		}
		if r.Signature, err = opts.Verifier.Verify(ctx, src, ref, index, r.Manifest); err != nil {
			return Resolved{}, ExplainAuth(err, ref)
		}
	}
	return r, ExplainAuth(err, ref)
}

func resolveRef(ctx context.Context, src Source, ref Reference, t Target, opts Options) (Resolved, error) {
	if obj := ref.object(); obj != "" {
		if opts.Version != "" {
			return Resolved{}, fmt.Errorf("%w: %s names a tag or digest and a version constraint %q is given too", ErrReference, ref, opts.Version)
		}
		w := newWalker(src, ref, t, opts)
		return w.resolve(ctx, obj, ref.Tag)
	}
	return resolveVersion(ctx, src, ref, t, opts)
}

func resolveVersion(ctx context.Context, src Source, ref Reference, t Target, opts Options) (Resolved, error) {
	c, err := ParseConstraint(opts.Version)
	if err != nil {
		return Resolved{}, err
	}
	tags, err := listTags(ctx, src)
	if err != nil {
		return Resolved{}, err
	}
	sel := dedupVersions(SelectTags(tags, c, t))
	if len(sel) == 0 {
		if len(c.clauses) == 0 && slices.Contains(tags, "latest") {
			// No tag names a version: "latest" is the only answer.
			return newWalker(src, ref, t, opts).resolve(ctx, "latest", "latest")
		}
		return Resolved{}, noVersionError(ref, tags, c, t)
	}
	maxTries := opts.MaxVersions
	if maxTries <= 0 {
		maxTries = 3
	}
	all := &IncompatibleError{Reference: ref.Name(), Target: t, Policy: opts.Policy}
	for _, tag := range sel[:min(len(sel), maxTries)] {
		res, err := newWalker(src, ref, t, opts).resolve(ctx, tag.Name, tag.Name)
		var ie *IncompatibleError
		if !errors.As(err, &ie) {
			return res, err
		}
		all.Candidates = append(all.Candidates, ie.Candidates...)
	}
	return Resolved{}, all
}

// noVersionError says that no tag satisfies c for t, and why each was
// left out (see explainTags).
func noVersionError(ref Reference, tags []string, c Constraint, t Target) error {
	err := fmt.Errorf("%w: %s: none of %d tags satisfies %q for PostgreSQL %s", ErrNoVersion, ref.Name(), len(tags), c, orUnknown(itoa(t.PG.Major)))
	if why := explainTags(tags, c, t); why != "" {
		err = fmt.Errorf("%w (%s)", err, why)
	}
	return err
}

// dedupVersions keeps the first (most specific, then newest build) tag of
// each version, so that "1.4" and "1.4-pg17", or "0.8.1-18-trixie" and
// "0.8.1-202509101200-18-trixie", are not both tried.
func dedupVersions(tags []Tag) []Tag {
	var out []Tag
	for _, t := range tags {
		if len(out) > 0 && out[len(out)-1].Version.Compare(t.Version) == 0 {
			continue
		}
		out = append(out, t)
	}
	return out
}

// maxTags bounds how many tags are read, whatever the pagination says.
const maxTags = 100_000

func listTags(ctx context.Context, src Source) ([]string, error) {
	var tags []string
	err := src.Tags(ctx, "", func(page []string) error {
		tags = append(tags, page...)
		if len(tags) > maxTags {
			return fmt.Errorf("resolve: more than %d tags", maxTags)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resolve: list tags: %w", err)
	}
	return tags, nil
}
