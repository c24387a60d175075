package resolve

import (
	"fmt"
	"net/http"
	"strings"

	orasregistry "oras.land/oras-go/v2/registry"

	"pgoci/internal/registry"
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
	if _, err := orasregistry.ParseReference(host + "/x"); err != nil {
		return "", Mirror{}, fmt.Errorf("%w: mirror %q: registry %q: %v", ErrReference, truncate(s), truncate(host), err)
	}
	if _, _, _, err := registry.ParseMirrorLocation(loc); err != nil {
		return "", Mirror{}, fmt.Errorf("%w: mirror %q: %v", ErrReference, truncate(s), err)
	}
	return host, m, nil
}

// newMirrored is the [Source] [Open] returns for a registry that has
// mirrors: every read tries the mirrors in order, then the upstream (see
// "Mirrors" in the package documentation).
func newMirrored(r Reference, ms []Mirror, opts RemoteOptions) (*registry.Mirrored, error) {
	up, err := remoteRepository(r, opts)
	if err != nil {
		return nil, err
	}
	s := registry.NewMirrored(up, r.Name(), mirrorHooks(opts))
	for _, m := range ms {
		host, ns, plain, err := registry.ParseMirrorLocation(m.Location)
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
		s.Add(repo, mr.Name(), m.Tags)
	}
	return s, nil
}

// mirrorHooks hands the transport resolve's decisions: a mirror's
// failure is a *MirrorError, content is verified as everywhere in
// resolve, and temporariness is [IsTemporary]'s.
func mirrorHooks(opts RemoteOptions) registry.Hooks {
	h := registry.Hooks{
		MirrorError: func(mirror, upstream, object string, err error) error {
			return &MirrorError{Mirror: mirror, Upstream: upstream, Object: object, Err: err}
		},
		ReadVerified: readVerified,
		Temporary:    IsTemporary,
		WholeSize:    MaxManifestSize,
	}
	if report := opts.OnMirrorError; report != nil {
		h.Report = func(err error) { report(err.(*MirrorError)) }
	}
	return h
}
