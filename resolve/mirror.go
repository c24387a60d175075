package resolve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/verify"
)

// Mirror is a registry that serves copies of another registry's
// repositories: a pull-through cache (CNCF distribution's proxy mode,
// Harbor's proxy projects, Zot's sync) or a copy kept by a job. It is
// read before the registry it mirrors, as containerd's hosts.toml hosts
// and containers-registries.conf's mirrors are. See "Mirrors" in the
// package documentation.
type Mirror struct {
	// Location is "host[:port]" or "host[:port]/namespace": repository
	// ext/vector of the mirrored registry is read from
	// "host[:port]/namespace/ext/vector". A leading "http://" talks plain
	// HTTP to it, "https://" HTTPS; without a scheme the mirror is
	// reached like any registry (HTTPS, or HTTP on loopback or with
	// [RemoteOptions.PlainHTTP]). Credentials are looked up for the
	// mirror's host, never the upstream's.
	Location string
	// Tags lets the mirror answer tags: tag resolution, tag listing (for
	// [Options.Version]) and referrer listing are asked of it before the
	// upstream. Default false: the mirror serves content by digest only
	// and every tag is resolved upstream (one HEAD request), since a
	// mirror that answers a tag can answer it with any image it holds
	// (an older one, or one never pushed upstream). Set it for a mirror
	// you trust as much as the upstream, or to resolve tags while the
	// upstream is unreachable; digest-pinned references, lock files and
	// [Options.Verifier] then still guard what is installed.
	Tags bool
}

// MirrorError is one mirror's failure to serve something: unreachable,
// an HTTP error, content missing, or content that failed verification
// against the digest asked for. Such a failure is not the operation's:
// the next mirror, then the upstream, is asked, and the failure goes to
// [RemoteOptions.OnMirrorError]. It is returned only where nothing else
// can be asked, when a layer streamed from a mirror fails its digest or
// size at the end (see "Mirrors" in the package documentation).
type MirrorError struct {
	// Mirror is the mirror's repository, "host[:port]/namespace/repo".
	Mirror string
	// Upstream is the repository it mirrors, "host[:port]/repo".
	Upstream string
	// Object is the tag or digest asked for.
	Object string
	// Err is what went wrong; for content that failed verification it
	// wraps [ErrDigest] or [ErrSize] and says what was expected.
	Err error
}

// Error names the mirror, the repository mirrored, the object and the
// cause.
func (e *MirrorError) Error() string {
	return fmt.Sprintf("resolve: mirror %s of %s: %s: %v", e.Mirror, e.Upstream, e.Object, e.Err)
}

// Unwrap returns the cause.
func (e *MirrorError) Unwrap() error { return e.Err }

// ParseMirror reads "REGISTRY=MIRROR[,tags]", the form of the pgoci
// command's --mirror flag: the registry host as references name it, and
// a [Mirror.Location]; ",tags" sets [Mirror.Tags]. Errors wrap
// [ErrReference].
//
//	ghcr.io=mirror.example:5000/ghcr
//	localhost:5000=http://cache.internal:5000,tags
func ParseMirror(s string) (string, Mirror, error) {
	host, loc, ok := strings.Cut(s, "=")
	if !ok || host == "" || loc == "" {
		return "", Mirror{}, fmt.Errorf("%w: mirror %q: want REGISTRY=MIRROR[,tags]", ErrReference, truncate(s))
	}
	var m Mirror
	if l, opt, ok := strings.Cut(loc, ","); ok {
		if opt != "tags" {
			return "", Mirror{}, fmt.Errorf("%w: mirror %q: unknown option %q (want tags)", ErrReference, truncate(s), truncate(opt))
		}
		loc, m.Tags = l, true
	}
	m.Location = loc
	if strings.ContainsAny(host, "/@") {
		return "", Mirror{}, fmt.Errorf("%w: mirror %q: %q is not a registry host[:port]", ErrReference, truncate(s), truncate(host))
	}
	if _, err := registry.ParseReference(host + "/x"); err != nil {
		return "", Mirror{}, fmt.Errorf("%w: mirror %q: registry %q: %v", ErrReference, truncate(s), truncate(host), err)
	}
	if _, _, _, err := parseMirrorLocation(loc); err != nil {
		return "", Mirror{}, fmt.Errorf("%w: mirror %q: %v", ErrReference, truncate(s), err)
	}
	return host, m, nil
}

// parseMirrorLocation splits "[scheme://]host[:port][/namespace]".
func parseMirrorLocation(loc string) (host, namespace string, plainHTTP *bool, err error) {
	rest := loc
	if r, ok := strings.CutPrefix(rest, "http://"); ok {
		t := true
		rest, plainHTTP = r, &t
	} else if r, ok := strings.CutPrefix(rest, "https://"); ok {
		f := false
		rest, plainHTTP = r, &f
	}
	rest = strings.TrimSuffix(rest, "/")
	host, namespace, _ = strings.Cut(rest, "/")
	probe := host + "/" + strings.Trim(namespace+"/x", "/")
	if host == "" || strings.ContainsAny(rest, "@?#") || strings.Contains(rest, "://") {
		return "", "", nil, fmt.Errorf("location %q: want [http://]host[:port][/namespace]", truncate(loc))
	}
	if _, err := registry.ParseReference(probe); err != nil {
		return "", "", nil, fmt.Errorf("location %q: %v", truncate(loc), err)
	}
	return host, namespace, plainHTTP, nil
}

// mirrorsFor returns the mirrors configured for a registry host (hosts
// compare case-insensitively, as DNS names do).
func mirrorsFor(all map[string][]Mirror, host string) []Mirror {
	if m, ok := all[host]; ok {
		return m
	}
	for h, m := range all {
		if strings.EqualFold(h, host) {
			return m
		}
	}
	return nil
}

// mirrorRepo is one mirror's copy of the repository.
type mirrorRepo struct {
	repo *remote.Repository
	name string // "host/namespace/repo", for messages
	tags bool

	mu sync.Mutex
	// skip is set once the mirror served content that failed
	// verification, or could not be reached or answered 429 or 5xx: it
	// is not asked again by this Source.
	skip error
}

func (m *mirrorRepo) skipped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.skip != nil
}

func (m *mirrorRepo) setSkip(err error) {
	m.mu.Lock()
	if m.skip == nil {
		m.skip = err
	}
	m.mu.Unlock()
}

// mirrored is the [Source] [Open] returns for a registry that has
// mirrors: every read tries the mirrors in order, then the upstream.
// Content by digest is verified before a mirror's answer is taken (see
// fetch and Fetch); tags, tag lists and referrers are the
// upstream's unless a mirror has [Mirror.Tags]. It has the optional
// methods of *remote.Repository that pgoci's readers look for
// (FetchReference, Exists, Predecessors, Referrers) and no write method:
// pushes never go to a mirror.
type mirrored struct {
	upstream *remote.Repository
	name     string // upstream "host/repo"
	mirrors  []*mirrorRepo
	report   func(*MirrorError)
}

var (
	_ Source                       = (*mirrored)(nil)
	_ referenceFetcher             = (*mirrored)(nil)
	_ content.ReadOnlyGraphStorage = (*mirrored)(nil)
	_ registry.ReferrerLister      = (*mirrored)(nil)
)

func newMirrored(r Reference, ms []Mirror, opts RemoteOptions) (*mirrored, error) {
	up, err := remoteRepository(r, opts)
	if err != nil {
		return nil, err
	}
	s := &mirrored{upstream: up, name: r.Name(), report: opts.OnMirrorError}
	for _, m := range ms {
		host, ns, plain, err := parseMirrorLocation(m.Location)
		if err != nil {
			return nil, fmt.Errorf("%w: mirror of %s: %v", ErrReference, r.Registry, err)
		}
		mr := Reference{Registry: host, Repository: strings.Trim(ns+"/"+r.Repository, "/")}
		mo := opts
		if mo.Client == nil {
			// No retries: the next mirror or the upstream is the retry,
			// and a mirror that is down must not cost each request
			// the retry client's backoff (up to about 7 s).
			mo.Client = http.DefaultClient
		}
		if plain != nil {
			mo.PlainHTTP = *plain
		}
		repo, err := remoteRepository(mr, mo)
		if err != nil {
			return nil, fmt.Errorf("mirror of %s: %w", r.Registry, err)
		}
		if plain != nil && !*plain {
			repo.PlainHTTP = false // "https://" even on loopback
		}
		s.mirrors = append(s.mirrors, &mirrorRepo{repo: repo, name: mr.Name(), tags: m.Tags})
	}
	return s, nil
}

// failures collects the mirror failures of one operation, for the
// error returned when the upstream fails too.
type failures []*MirrorError

func (f failures) wrap(err error) error {
	if len(f) == 0 || err == nil {
		return err
	}
	msgs := make([]string, len(f))
	for i, e := range f {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%w (mirrors tried first: %s)", err, strings.Join(msgs, "; "))
}

// fail records a mirror's failure and says whether to go on to the next
// host: not when the caller's context is done.
func (s *mirrored) fail(ctx context.Context, fs *failures, m *mirrorRepo, object string, err error) bool {
	me := &MirrorError{Mirror: m.name, Upstream: s.name, Object: object, Err: err}
	*fs = append(*fs, me)
	// A mirror that lacks one object may have the next; one that serves
	// bad bytes, or is down or overloaded, is passed over from now on
	// rather than cost every request a failure.
	if errors.Is(err, ErrDigest) || errors.Is(err, ErrSize) || IsTemporary(err) {
		m.setSkip(me)
	}
	if s.report != nil {
		s.report(me)
	}
	return ctx.Err() == nil
}

// usable returns the mirrors to ask, in order: all that have not served
// bad content, or only those trusted with tags.
func (s *mirrored) usable(tags bool) []*mirrorRepo {
	var out []*mirrorRepo
	for _, m := range s.mirrors {
		if (!tags || m.tags) && !m.skipped() {
			out = append(out, m)
		}
	}
	return out
}

func isDigest(reference string) bool {
	_, err := digest.Parse(reference)
	return err == nil
}

// Resolve returns the descriptor of a digest from the first mirror that
// has it (its digest checked), and of a tag from the upstream, or a
// mirror with [Mirror.Tags] first.
func (s *mirrored) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	var fs failures
	for _, m := range s.usable(!isDigest(reference)) {
		d, err := m.repo.Resolve(ctx, reference)
		if err == nil && isDigest(reference) && d.Digest.String() != reference {
			err = fmt.Errorf("%w: asked for %s, the mirror answered %s", ErrDigest, reference, d.Digest)
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
// mirror whose content hashes to it; by tag, the upstream (or a
// [Mirror.Tags] mirror) says which digest the tag names, with a HEAD
// request, and the content is then read by digest from the mirrors.
func (s *mirrored) FetchReference(ctx context.Context, reference string) (ocispec.Descriptor, io.ReadCloser, error) {
	var fs failures
	if !isDigest(reference) {
		for _, m := range s.usable(true) {
			d, rc, err := m.repo.FetchReference(ctx, reference)
			if err == nil {
				var body []byte
				if body, err = readVerified(rc, d); err == nil {
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
	want, _ := digest.Parse(reference)
	for _, m := range s.usable(false) {
		d, rc, err := m.repo.FetchReference(ctx, reference)
		if err == nil {
			if d.Digest != want {
				rc.Close()
				err = fmt.Errorf("%w: asked for %s, the mirror answered %s", ErrDigest, want, d.Digest)
			} else {
				var body []byte
				if body, err = readVerified(rc, d); err == nil {
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

// tagHint adds to an upstream failure to resolve a tag that the mirrors
// were not asked, when the upstream could not be reached.
func (s *mirrored) tagHint(err error) error {
	if len(s.usable(true)) > 0 || !IsTemporary(err) {
		return err
	}
	return fmt.Errorf("%w (tags are resolved upstream: the mirrors of %s answer digests only unless trusted with tags; pin a digest to install through them alone)", err, s.name)
}

// Fetch opens content by digest, from the first mirror that serves it
// right, else from the upstream. Content up to [MaxManifestSize] (every
// manifest, index and config, and small layers) is read whole from a
// mirror and verified before it is returned, so a mirror's bad bytes
// never reach the caller and the next host is asked. A larger blob is
// streamed from the first mirror that answers, verified as it is read:
// if it does not hash to its digest the read ends in a *[MirrorError]
// (wrapping [ErrDigest] or [ErrSize]), and this Source asks that mirror
// nothing more. The upstream's content is returned as the upstream sends
// it: the caller verifies it, as without mirrors.
func (s *mirrored) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	var fs failures
	rc, err := s.fetch(ctx, &fs, target, target.Digest.String())
	return rc, fs.wrap(err)
}

func (s *mirrored) fetch(ctx context.Context, fs *failures, d ocispec.Descriptor, object string) (io.ReadCloser, error) {
	if err := verify.Descriptor(d); err != nil {
		return nil, err
	}
	for _, m := range s.usable(false) {
		rc, err := m.repo.Fetch(ctx, d)
		if err == nil {
			if d.Size > MaxManifestSize {
				return &mirrorReader{rc: rc, r: verify.NewReader(rc, d, nil), s: s, m: m, object: object}, nil
			}
			var body []byte
			if body, err = readVerified(rc, d); err == nil {
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
// size mismatch at the end, or a connection lost on the way, is a
// *MirrorError, and the mirror is not asked again by this Source.
type mirrorReader struct {
	rc     io.ReadCloser
	r      io.Reader
	s      *mirrored
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
	me := &MirrorError{Mirror: r.m.name, Upstream: r.s.name, Object: r.object, Err: err}
	if errors.Is(err, ErrDigest) || errors.Is(err, ErrSize) || IsTemporary(err) {
		r.m.setSkip(me)
	}
	if r.s.report != nil {
		r.s.report(me)
	}
	r.err = me
	return n, me
}

func (r *mirrorReader) Close() error { return r.rc.Close() }

// Exists reports whether a mirror or the upstream holds target.
func (s *mirrored) Exists(ctx context.Context, target ocispec.Descriptor) (bool, error) {
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

// Tags lists tags from the upstream, or a [Mirror.Tags] mirror first. A
// listing that failed after a page was handed to fn is not started again
// elsewhere: fn would see tags twice.
func (s *mirrored) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
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
// [Mirror.Tags] mirror first: like a tag, a listing is the registry's
// word, which a mirror could leave short. The referrers' content is
// fetched by digest like any other.
func (s *mirrored) Referrers(ctx context.Context, desc ocispec.Descriptor, artifactType string, fn func(referrers []ocispec.Descriptor) error) error {
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
func (s *mirrored) Predecessors(ctx context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
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
