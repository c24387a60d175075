package registry

import (
	"context"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Exists reports whether a mirror or the upstream holds target.
func (s *Mirrored) Exists(ctx context.Context, target ocispec.Descriptor) (bool, error) {
	var fs failures
	for _, m := range s.usable(false) {
		ok, err := m.repo.Exists(ctx, target)
		if err == nil && ok {
			return true, nil
		}
		if err != nil && !s.fail(ctx, &fs, m, target.Digest.String(), err) {
			return false, fs.wrap(err)
		}
	}
	ok, err := s.upstream.Exists(ctx, target)
	return ok, fs.wrap(err)
}

// Tags lists tags from the upstream, or a mirror trusted with tags
// first. A listing that failed after a page was handed to fn is not
// started again elsewhere: fn would see tags twice.
func (s *Mirrored) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
	var fs failures
	for _, m := range s.usable(true) {
		called := false
		err := m.repo.Tags(ctx, last, func(tags []string) error { called = true; return fn(tags) })
		if err == nil {
			return nil
		}
		if called || !s.fail(ctx, &fs, m, "tags", err) {
			return fs.wrap(err)
		}
	}
	return fs.wrap(s.upstream.Tags(ctx, last, fn))
}

// Referrers lists what is attached to desc, from the upstream or a
// mirror trusted with tags first: like a tag, a listing is the
// registry's word, which a mirror could leave short. The referrers'
// content is fetched by digest like any other.
func (s *Mirrored) Referrers(ctx context.Context, desc ocispec.Descriptor, artifactType string, fn func(referrers []ocispec.Descriptor) error) error {
	var fs failures
	for _, m := range s.usable(true) {
		called := false
		err := m.repo.Referrers(ctx, desc, artifactType, func(r []ocispec.Descriptor) error { called = true; return fn(r) })
		if err == nil {
			return nil
		}
		if called || !s.fail(ctx, &fs, m, "referrers of "+desc.Digest.String(), err) {
			return fs.wrap(err)
		}
	}
	return fs.wrap(s.upstream.Referrers(ctx, desc, artifactType, fn))
}

// Predecessors lists the referrers of desc (see Referrers).
func (s *Mirrored) Predecessors(ctx context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	err := s.Referrers(ctx, desc, "", func(r []ocispec.Descriptor) error {
		out = append(out, r...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
