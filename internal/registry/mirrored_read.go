package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/verify"
)

// Resolve returns the descriptor of a digest from the first mirror that
// has it (its digest checked), and of a tag from the upstream, or a
// mirror trusted with tags first.
func (s *Mirrored) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	var fs failures
	for _, m := range s.usable(!isDigest(reference)) {
		d, err := m.repo.Resolve(ctx, reference)
		if err == nil && isDigest(reference) && d.Digest.String() != reference {
			err = fmt.Errorf("%w: asked for %s, the mirror answered %s", verify.ErrDigest, reference, d.Digest)
		}
		if err == nil {
			return d, nil
		}
		if !s.fail(ctx, &fs, m, reference, err) {
			return ocispec.Descriptor{}, fs.wrap(err)
		}
	}
	d, err := s.upstream.Resolve(ctx, reference)
	return d, fs.wrap(err)
}

// FetchReference reads a manifest or index: by digest from the first
// mirror whose content hashes to it; by tag, the upstream (or a mirror
// trusted with tags) says which digest the tag names, with a HEAD
// request, and the content is then read by digest from the mirrors.
func (s *Mirrored) FetchReference(ctx context.Context, reference string) (ocispec.Descriptor, io.ReadCloser, error) {
	if !isDigest(reference) {
		return s.fetchTag(ctx, reference)
	}
	var fs failures
	want, _ := digest.Parse(reference)
	for _, m := range s.usable(false) {
		d, rc, err := m.repo.FetchReference(ctx, reference)
		if err == nil {
			if d.Digest != want {
				rc.Close()
				err = fmt.Errorf("%w: asked for %s, the mirror answered %s", verify.ErrDigest, want, d.Digest)
			} else {
				var body []byte
				if body, err = s.hooks.ReadVerified(rc, d); err == nil {
					return d, io.NopCloser(bytes.NewReader(body)), nil
				}
			}
		}
		if !s.fail(ctx, &fs, m, reference, err) {
			return ocispec.Descriptor{}, nil, fs.wrap(err)
		}
	}
	d, rc, err := s.upstream.FetchReference(ctx, reference)
	return d, rc, fs.wrap(err)
}

// fetchTag is FetchReference of a tag.
func (s *Mirrored) fetchTag(ctx context.Context, reference string) (ocispec.Descriptor, io.ReadCloser, error) {
	var fs failures
	for _, m := range s.usable(true) {
		d, rc, err := m.repo.FetchReference(ctx, reference)
		if err == nil {
			var body []byte
			if body, err = s.hooks.ReadVerified(rc, d); err == nil {
				return d, io.NopCloser(bytes.NewReader(body)), nil
			}
		}
		if !s.fail(ctx, &fs, m, reference, err) {
			return ocispec.Descriptor{}, nil, fs.wrap(err)
		}
	}
	d, err := s.upstream.Resolve(ctx, reference)
	if err != nil {
		return ocispec.Descriptor{}, nil, fs.wrap(s.tagHint(err))
	}
	rc, err := s.fetch(ctx, &fs, d, d.Digest.String())
	return d, rc, fs.wrap(err)
}

// tagHint adds to an upstream failure to resolve a tag that the mirrors
// were not asked, when the upstream could not be reached.
func (s *Mirrored) tagHint(err error) error {
	if len(s.usable(true)) > 0 || !s.hooks.Temporary(err) {
		return err
	}
	return fmt.Errorf("%w (tags are resolved upstream: the mirrors of %s answer digests only unless trusted with tags; pin a digest to install through them alone)", err, s.name)
}

// Fetch opens content by digest, from the first mirror that serves it
// right, else from the upstream. Content up to Hooks.WholeSize is read
// whole from a mirror and verified before it is returned, so a mirror's
// bad bytes never reach the caller and the next host is asked. A larger
// blob is streamed from the first mirror that answers, verified as it is
// read: if it does not hash to its digest the read ends in the mirror's
// error (wrapping verify.ErrDigest or ErrSize), and this Source asks that
// mirror nothing more. The upstream's content is returned as the
// upstream sends it: the caller verifies it, as without mirrors.
func (s *Mirrored) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	var fs failures
	rc, err := s.fetch(ctx, &fs, target, target.Digest.String())
	return rc, fs.wrap(err)
}

func (s *Mirrored) fetch(ctx context.Context, fs *failures, d ocispec.Descriptor, object string) (io.ReadCloser, error) {
	if err := verify.Descriptor(d); err != nil {
		return nil, err
	}
	for _, m := range s.usable(false) {
		rc, err := m.repo.Fetch(ctx, d)
		if err == nil {
			if d.Size > s.hooks.WholeSize {
				return &mirrorReader{rc: rc, r: verify.NewReader(rc, d, nil), s: s, m: m, object: object}, nil
			}
			var body []byte
			if body, err = s.hooks.ReadVerified(rc, d); err == nil {
				return io.NopCloser(bytes.NewReader(body)), nil
			}
		}
		if !s.fail(ctx, fs, m, object, err) {
			return nil, err
		}
	}
	return s.upstream.Fetch(ctx, d)
}

// mirrorReader streams a large blob from a mirror, verified: a digest or
// size mismatch at the end, or a connection lost on the way, is the
// mirror's error, and the mirror is not asked again by this Source.
type mirrorReader struct {
	rc     io.ReadCloser
	r      io.Reader
	s      *Mirrored
	m      *mirrorRepo
	object string
	err    error
}

func (r *mirrorReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.r.Read(p)
	if err == nil || err == io.EOF {
		return n, err
	}
	// Bad bytes, or a connection lost mid-stream: the error names the
	// mirror, and a retry on this Source goes elsewhere.
	me := r.s.hooks.MirrorError(r.m.name, r.s.name, r.object, err)
	r.s.passOver(r.m, me, err)
	r.err = me
	return n, me
}

func (r *mirrorReader) Close() error { return r.rc.Close() }
