package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/verify"
)

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

// Mirrored reads a registry's repository through its mirrors: every read
// tries the mirrors in order, then the upstream. Content by digest is
// verified before a mirror's answer is taken (see fetch and Fetch);
// tags, tag lists and referrers are the upstream's unless a mirror is
// trusted with tags. It has the optional methods of *remote.Repository
// that pgoci's readers look for (FetchReference, Exists, Predecessors,
// Referrers) and no write method: pushes never go to a mirror.
type Mirrored struct {
	upstream *remote.Repository
	name     string // upstream "host/repo"
	mirrors  []*mirrorRepo
	hooks    Hooks
}

var (
	_ content.ReadOnlyGraphStorage = (*Mirrored)(nil)
	_ registry.ReferrerLister      = (*Mirrored)(nil)
)

// NewMirrored reads upstream, named name ("host/repo"), through the
// mirrors added with [Mirrored.Add].
func NewMirrored(upstream *remote.Repository, name string, hooks Hooks) *Mirrored {
	return &Mirrored{upstream: upstream, name: name, hooks: hooks}
}

// Add appends a mirror's copy of the repository, named name
// ("host/namespace/repo"); tags trusts it with tags and referrers.
func (s *Mirrored) Add(repo *remote.Repository, name string, tags bool) {
	s.mirrors = append(s.mirrors, &mirrorRepo{repo: repo, name: name, tags: tags})
}

// failures collects the mirror failures of one operation, for the
// error returned when the upstream fails too.
type failures []error

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
func (s *Mirrored) fail(ctx context.Context, fs *failures, m *mirrorRepo, object string, err error) bool {
	me := s.hooks.MirrorError(m.name, s.name, object, err)
	*fs = append(*fs, me)
	s.passOver(m, me, err)
	return ctx.Err() == nil
}

// passOver reports a mirror's failure. A mirror that lacks one object may
// have the next; one that serves bad bytes, or is down or overloaded, is
// passed over from now on rather than cost every request a failure.
func (s *Mirrored) passOver(m *mirrorRepo, me, err error) {
	if errors.Is(err, verify.ErrDigest) || errors.Is(err, verify.ErrSize) || s.hooks.Temporary(err) {
		m.setSkip(me)
	}
	if s.hooks.Report != nil {
		s.hooks.Report(me)
	}
}

// usable returns the mirrors to ask, in order: all that have not served
// bad content, or only those trusted with tags.
func (s *Mirrored) usable(tags bool) []*mirrorRepo {
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
