package resolve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"pgoci/internal/registry"
)

// Source is where images are resolved from: the small part of a
// repository that resolution needs. oras-go's *remote.Repository (see
// [Remote]) and *oci.ReadOnlyStore (see [Layout]) satisfy it, as do
// oras-go's memory and oci stores.
//
// Nothing a Source returns is trusted: every body is verified against its
// descriptor by the resolver.
type Source interface {
	// Resolve returns the descriptor of a tag or digest.
	Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error)
	// Fetch opens the content of target; the caller closes it.
	Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error)
	// Tags calls fn with pages of tags in lexical order, starting after
	// last ("" for the start).
	Tags(ctx context.Context, last string, fn func(tags []string) error) error
}

// referenceFetcher is the optional method that resolves and fetches a
// manifest in one round trip (oras-go registry.ReferenceFetcher); a
// Source that has it saves a HEAD request per resolve.
type referenceFetcher interface {
	FetchReference(ctx context.Context, reference string) (ocispec.Descriptor, io.ReadCloser, error)
}

var (
	_ Source           = (*remote.Repository)(nil)
	_ Source           = (*oci.ReadOnlyStore)(nil)
	_ referenceFetcher = (*remote.Repository)(nil)
	_ Source           = (*registry.Mirrored)(nil)
	_ referenceFetcher = (*registry.Mirrored)(nil)
)

// RemoteOptions configures registry access. The zero value reads
// credentials the way docker and oras do and retries transient failures.
type RemoteOptions struct {
	// Client is the HTTP client under authentication. Default:
	// oras-go's retry.DefaultClient, which retries 429, 5xx, connection
	// resets and timeouts with exponential backoff (250 ms, x2, 10% jitter,
	// at most 5 retries). Mirrors are asked without retries when it is
	// nil (http.DefaultClient): the next mirror or the upstream is their
	// retry.
	Client *http.Client
	// Credential returns the credential for a registry host. Default: the
	// Docker configuration file (CredentialsFile) with its credential
	// helpers and credsStore; anonymous when it has no entry.
	Credential auth.CredentialFunc
	// CredentialsFile is the Docker configuration file to read when
	// Credential is nil. Default: $DOCKER_CONFIG/config.json, else
	// ~/.docker/config.json; a missing file means no credentials.
	CredentialsFile string
	// PlainHTTP talks HTTP instead of HTTPS to every host. Default: only
	// to loopback hosts (localhost, 127.0.0.0/8, ::1), where a token
	// realm on loopback is then allowed too.
	PlainHTTP bool
	// TagPageSize asks for this many tags per page. Default: the
	// registry's choice.
	TagPageSize int
	// MaxTagPages bounds tag listing. Default: 100 pages.
	MaxTagPages int
	// UserAgent is sent with every request. Default: "pgoci".
	UserAgent string
	// Mirrors maps a registry host, as references name it
	// ("ghcr.io", "localhost:5000"), to mirrors read before it, in
	// order. [Open] and [ResolveReference] use them; [Remote], which
	// pushes go through, never does. Content from a mirror is verified
	// against its digest, and tags are resolved upstream unless a mirror
	// has [Mirror.Tags]: see "Mirrors" in the package documentation.
	// Default: none, every request goes to the registry named.
	Mirrors map[string][]Mirror
	// OnMirrorError, when set, is told of each mirror failure that was
	// passed over for the next mirror or the upstream (unreachable,
	// HTTP error, content missing or failing verification), so that an
	// operator hears of a mirror that is down or serves bad content even
	// when the operation succeeds. It may be called from several
	// goroutines at once. Default: failures are reported only in the
	// error of an operation that fails.
	OnMirrorError func(*MirrorError)
}

// Remote opens the repository named by ref ("host[:port]/repo"; a tag or
// digest in ref is ignored here, see [ResolveReference]) with token and
// basic authentication, credentials from opts, and retries. It talks to
// that registry alone, whatever opts.Mirrors says: it is what pushes go
// through, and a push must reach the registry named. To read through
// mirrors, use [Open].
func Remote(ref string, opts RemoteOptions) (*remote.Repository, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if r.Layout != "" {
		return nil, fmt.Errorf("%w: %q: an OCI layout, not a registry reference (use Layout)", ErrReference, truncate(ref))
	}
	return remoteRepository(r, opts)
}

func remoteRepository(r Reference, opts RemoteOptions) (*remote.Repository, error) {
	repo, err := remote.NewRepository(r.Registry + "/" + r.Repository)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrReference, r.Name(), err)
	}
	if err := registry.Configure(repo, opts.transport()); err != nil {
		return nil, err
	}
	return repo, nil
}

// transport is the part of opts the registry transport reads.
func (opts RemoteOptions) transport() registry.Options {
	return registry.Options{
		Client: opts.Client, Credential: opts.Credential, CredentialsFile: opts.CredentialsFile,
		PlainHTTP: opts.PlainHTTP, TagPageSize: opts.TagPageSize, MaxTagPages: opts.MaxTagPages,
		UserAgent: opts.UserAgent,
	}
}

// Layout opens an OCI image layout directory read-only. Its tags are the
// org.opencontainers.image.ref.name annotations of index.json.
func Layout(ctx context.Context, dir string) (*oci.ReadOnlyStore, error) {
	st, err := oci.NewFromFS(ctx, os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("resolve: open OCI layout %s: %w", dir, err)
	}
	return st, nil
}

// Open parses ref and opens its source: an OCI layout for "oci:DIR...",
// else a registry repository configured by opts. When opts.Mirrors lists
// mirrors for the reference's registry, the Source reads through them
// first (see "Mirrors" in the package documentation); it has the same
// optional methods as oras-go's *remote.Repository that pgoci's readers
// use (FetchReference, Exists, Predecessors, Referrers) and no write
// method. Without mirrors it is a *remote.Repository, as returned by
// [Remote].
func Open(ctx context.Context, ref string, opts RemoteOptions) (Source, Reference, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, Reference{}, err
	}
	if r.Layout != "" {
		st, err := Layout(ctx, r.Layout)
		if err != nil {
			return nil, Reference{}, err
		}
		return st, r, nil
	}
	if ms := registry.MirrorsFor(opts.Mirrors, r.Registry); len(ms) > 0 {
		s, err := newMirrored(r, ms, opts)
		if err != nil {
			return nil, Reference{}, err
		}
		return s, r, nil
	}
	repo, err := remoteRepository(r, opts)
	if err != nil {
		return nil, Reference{}, err
	}
	return repo, r, nil
}
