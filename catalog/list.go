package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"pgoci/extension"
	"pgoci/internal/verify"
	"pgoci/resolve"
)

// Bounds of the registry's repository list when the options leave them
// zero.
const (
	// DefaultPageSize is how many repositories are asked for per page of
	// /v2/_catalog: the most the CNCF distribution registry serves.
	DefaultPageSize = 1000
	// DefaultMaxPages is how many pages of /v2/_catalog are read.
	DefaultMaxPages = 10
	// DefaultMaxRepositories is how many repositories under a prefix are
	// listed.
	DefaultMaxRepositories = 1000
	// DefaultConcurrency is how many repositories are read at once.
	DefaultConcurrency = 4
)

// From says where the list of repositories comes from.
type From int

const (
	// FromAuto uses the registry's /v2/_catalog when it answers and
	// lists repositories under the prefix, else the catalog artifact.
	FromAuto From = iota
	// FromRegistry uses /v2/_catalog only.
	FromRegistry
	// FromArtifact uses the catalog artifact (PREFIX/catalog:latest)
	// only.
	FromArtifact
)

// String returns "auto", "registry" or "artifact".
func (f From) String() string {
	switch f {
	case FromAuto:
		return "auto"
	case FromRegistry:
		return "registry"
	case FromArtifact:
		return "artifact"
	}
	return fmt.Sprintf("from(%d)", int(f))
}

// MarshalText implements encoding.TextMarshaler.
func (f From) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// ParseFrom parses "auto" (or ""), "registry" or "artifact".
func ParseFrom(s string) (From, error) {
	for _, f := range []From{FromAuto, FromRegistry, FromArtifact} {
		if s == f.String() {
			return f, nil
		}
	}
	if s == "" {
		return FromAuto, nil
	}
	return FromAuto, fmt.Errorf("catalog: source %q: want auto, registry or artifact", truncate(s))
}

// Options configures [Open] and [List]. The zero value reads
// /v2/_catalog when the registry answers it (at most 10 pages of 1000
// names, 1000 repositories under the prefix), else the catalog artifact
// (at most 16 MiB), and lists each repository's versions with
// [extension.ListVersions]'s defaults, 4 repositories at a time.
type Options struct {
	// Remote configures registry access (credentials, plain HTTP, HTTP
	// client).
	Remote resolve.RemoteOptions
	// From selects the source of the repository list. Default: [FromAuto].
	From From
	// PageSize is how many names a page of /v2/_catalog asks for.
	// Default: [DefaultPageSize].
	PageSize int
	// MaxPages bounds the pages of /v2/_catalog read (one request each,
	// and one more finds that there are more). Default: [DefaultMaxPages].
	MaxPages int
	// MaxRepositories bounds the repositories under the prefix, from the
	// registry or the artifact. Default: [DefaultMaxRepositories].
	MaxRepositories int
	// MaxDocumentSize bounds the catalog document, checked against its
	// descriptor before it is read. Default: [DefaultMaxDocumentSize].
	MaxDocumentSize int64
	// Versions tunes the listing of each repository: policy, version
	// constraint, MaxVersions, MaxFitting, tag pages, Rejected. Its
	// Remote and Source are set by [Catalog.List].
	Versions extension.ListVersionsOptions
	// Concurrency is how many repositories are listed at once from the
	// registry. Default: [DefaultConcurrency].
	Concurrency int
}

func (o Options) withDefaults() Options {
	o.PageSize = orInt(o.PageSize, DefaultPageSize)
	o.MaxPages = orInt(o.MaxPages, DefaultMaxPages)
	o.MaxRepositories = orInt(o.MaxRepositories, DefaultMaxRepositories)
	o.Concurrency = orInt(o.Concurrency, DefaultConcurrency)
	if o.MaxDocumentSize <= 0 {
		o.MaxDocumentSize = DefaultMaxDocumentSize
	}
	return o
}

func orInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Catalog is the list of repositories under a prefix, read once by
// [Open]; [Catalog.List] then lists their versions for a target.
type Catalog struct {
	// Prefix is the prefix, "host[:port]/path".
	Prefix string
	// From is where the repositories came from: [FromRegistry] or
	// [FromArtifact].
	From From
	// Repositories are the paths below the prefix, sorted.
	Repositories []string
	// Artifact is the catalog artifact's manifest, and Document its
	// content, when From is FromArtifact.
	Artifact ocispec.Descriptor
	Document *Document
	// Fallback says why the registry's /v2/_catalog was not used, when
	// [FromAuto] fell back to the artifact.
	Fallback string

	p    prefix
	opts Options
}

// Listing is what [List] found: for each repository under the prefix,
// its versions that fit the target, newest first.
type Listing struct {
	Prefix       string         `json:"prefix"`
	From         From           `json:"from"`
	Artifact     digest.Digest  `json:"artifact,omitempty"`
	Target       resolve.Target `json:"target"`
	Policy       string         `json:"policy"`
	Repositories []Repository   `json:"repositories"`
}

// Repository is one repository of a [Listing].
type Repository struct {
	// Name is the repository, "host/path"; Path its path below the prefix.
	Name string `json:"name"`
	Path string `json:"path"`
	// Versions are its versions, newest first, as
	// [extension.ListVersions] returns them.
	Versions []extension.Version `json:"versions"`
	// Err is why the repository could not be listed; Error its message.
	Err   error  `json:"-"`
	Error string `json:"error,omitempty"`
}

// Newest returns the newest version that fits, if any.
func (r Repository) Newest() (extension.Version, bool) {
	for _, v := range r.Versions {
		if v.Fits {
			return v, true
		}
	}
	return extension.Version{}, false
}

// List lists the extension repositories under prefix and, for each, the
// versions that fit target: [Open], then [Catalog.List].
func List(ctx context.Context, prefix string, target resolve.Target, opts Options) (*Listing, error) {
	c, err := Open(ctx, prefix, opts)
	if err != nil {
		return nil, err
	}
	return c.List(ctx, target)
}

// Open reads the repositories under prefix ("host[:port]/path", or a
// registry "host[:port]" for all of them): from the registry's
// /v2/_catalog, filtered by the prefix and paginated (at most
// opts.MaxPages pages), or, when the registry does not answer it (HTTP
// 401, 403, 404, 405 or 501) or lists nothing under the prefix, from the
// catalog artifact PREFIX/catalog:latest that [Publish] writes.
// opts.From forces one source. The repository PREFIX/catalog itself is
// never listed.
//
// Everything read is verified: the artifact's manifest by digest and
// size (at most 4 MiB), its document by digest and size against a limit
// checked before it is fetched, and parsed strictly ([ParseDocument]).
// Without either source the error is [ErrNoCatalog].
func Open(ctx context.Context, prefix string, opts Options) (*Catalog, error) {
	p, err := parsePrefix(prefix)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	c := &Catalog{Prefix: p.String(), p: p, opts: opts}
	var regErr error
	if opts.From != FromArtifact {
		names, err := listRegistry(ctx, p, opts)
		switch {
		case err == nil && (len(names) > 0 || opts.From == FromRegistry):
			c.From, c.Repositories = FromRegistry, names
			return c, nil
		case err == nil:
			c.Fallback = fmt.Sprintf("the registry lists no repository under %s", p)
		case opts.From == FromAuto && catalogUnavailable(err):
			regErr = err
			c.Fallback = fmt.Sprintf("the registry does not answer /v2/_catalog (%v)", oneLine(err))
		default:
			return nil, err
		}
	}
	doc, desc, err := readArtifact(ctx, p, opts)
	switch {
	case err == nil:
	case errors.Is(err, errdef.ErrNotFound) && opts.From == FromAuto && regErr == nil:
		// An empty registry listing and no artifact: nothing is there.
		c.From = FromRegistry
		return c, nil
	case errors.Is(err, errdef.ErrNotFound):
		why := ""
		if regErr != nil {
			why = fmt.Sprintf("the registry does not answer /v2/_catalog (%v) and ", oneLine(regErr))
		}
		return nil, fmt.Errorf("%w: %s%s:%s does not exist; write it with catalog.Publish (pgoci catalog publish %s)",
			ErrNoCatalog, why, p.repo(RepositoryName), Tag, p)
	default:
		return nil, err
	}
	if len(doc.Repositories) > opts.MaxRepositories {
		return nil, fmt.Errorf("%w: the catalog artifact %s lists %d repositories, over Options.MaxRepositories (%d)",
			ErrTooManyRepositories, p.repo(RepositoryName), len(doc.Repositories), opts.MaxRepositories)
	}
	c.From, c.Artifact, c.Document = FromArtifact, desc, doc
	for _, r := range doc.Repositories {
		if r.Name != RepositoryName {
			c.Repositories = append(c.Repositories, r.Name)
		}
	}
	slices.Sort(c.Repositories)
	return c, nil
}

// List lists the versions of every repository of c for target: from the
// registry, each with [extension.ListVersions] and c's
// Options.Versions (its bounds apply per repository); from the artifact,
// from the document alone, without a request: each version's images are
// checked from their platform and stored labels with [resolve.Check],
// and the best is chosen as the resolver would (fewest unknown
// properties, closest platform variant, index order).
//
// A repository that cannot be listed carries its error
// ([Repository].Err); a cancelled ctx ends List.
func (c *Catalog) List(ctx context.Context, target resolve.Target) (*Listing, error) {
	l := &Listing{Prefix: c.Prefix, From: c.From, Target: target, Policy: c.opts.Versions.Policy.String(),
		Repositories: make([]Repository, len(c.Repositories))}
	if c.Document != nil {
		l.Artifact = c.Artifact.Digest
	}
	byName := map[string]*RepositoryEntry{}
	if c.Document != nil {
		for i := range c.Document.Repositories {
			byName[c.Document.Repositories[i].Name] = &c.Document.Repositories[i]
		}
	}
	var (
		wg  sync.WaitGroup
		sem = make(chan struct{}, c.opts.Concurrency)
	)
	for i, path := range c.Repositories {
		r := &l.Repositories[i]
		r.Name, r.Path = c.p.repo(path), path
		if c.Document != nil {
			r.Versions, r.Err = documentVersions(r.Name, byName[path], target, c.opts.Versions)
			continue
		}
		if err := ctx.Err(); err != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			vo := c.opts.Versions
			vo.Remote, vo.Source = c.opts.Remote, nil
			r.Versions, r.Err = extension.ListVersions(ctx, r.Name, target, vo)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range l.Repositories {
		if r := &l.Repositories[i]; r.Err != nil {
			r.Error = r.Err.Error()
			r.Versions = nil
		}
	}
	return l, nil
}

// prefix is a parsed prefix: a registry host and a path in it.
type prefix struct{ host, path string }

// parsePrefix reads "host[:port]" or "host[:port]/path".
func parsePrefix(s string) (prefix, error) {
	if strings.HasPrefix(s, resolve.LayoutPrefix) {
		return prefix{}, fmt.Errorf("%w: %q: an OCI layout; a catalog lists a registry", ErrPrefix, truncate(s))
	}
	host, path, _ := strings.Cut(strings.TrimSuffix(s, "/"), "/")
	if host == "" {
		return prefix{}, fmt.Errorf("%w: %q: want host[:port][/path]", ErrPrefix, truncate(s))
	}
	if path != "" {
		if err := checkRepositoryPath(path); err != nil {
			return prefix{}, fmt.Errorf("%w: %q: %v (a prefix names no tag or digest)", ErrPrefix, truncate(s), err)
		}
	}
	if _, err := resolve.ParseReference(host + "/" + RepositoryName); err != nil {
		return prefix{}, fmt.Errorf("%w: %q: registry %q: %v", ErrPrefix, truncate(s), truncate(host), err)
	}
	return prefix{host: host, path: path}, nil
}

func (p prefix) String() string {
	if p.path == "" {
		return p.host
	}
	return p.host + "/" + p.path
}

// repo is the repository rel below the prefix, "host/path/rel".
func (p prefix) repo(rel string) string { return p.String() + "/" + rel }

// under returns name's path below the prefix, if it is below it.
func (p prefix) under(name string) (string, bool) {
	if p.path == "" {
		return name, true
	}
	rel, ok := strings.CutPrefix(name, p.path+"/")
	return rel, ok && rel != ""
}

// errStopListing ends a repository listing early: the sorted names have
// passed the prefix.
var errStopListing = errors.New("catalog: past the prefix")

// listRegistry reads the repositories under p from /v2/_catalog.
// Registries list them in lexical order, so the listing starts after
// the prefix's own path and stops at the first name past it.
func listRegistry(ctx context.Context, p prefix, opts Options) ([]string, error) {
	// The probe repository carries the client resolve configures:
	// credentials, retries, plain HTTP for loopback hosts.
	probe, err := resolve.Remote(p.repo(RepositoryName), opts.Remote)
	if err != nil {
		return nil, err
	}
	reg, err := remote.NewRegistry(p.host)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrPrefix, p.host, err)
	}
	reg.PlainHTTP, reg.Client, reg.RepositoryListPageSize = probe.PlainHTTP, probe.Client, opts.PageSize
	var (
		names []string
		seen  = map[string]bool{}
		pages int
	)
	err = reg.Repositories(ctx, p.path, func(page []string) error {
		pages++
		if pages > opts.MaxPages {
			return fmt.Errorf("%w: %s lists more than %d pages of %d repositories; raise Options.MaxPages (pgoci: --max-pages)",
				ErrTooManyRepositories, p.host, opts.MaxPages, opts.PageSize)
		}
		for _, n := range page {
			rel, ok := p.under(n)
			if !ok {
				if p.path != "" && n > p.path+"/" {
					return errStopListing
				}
				continue
			}
			if rel == RepositoryName || seen[rel] || checkRepositoryPath(rel) != nil {
				continue
			}
			seen[rel] = true
			names = append(names, rel)
			if len(names) > opts.MaxRepositories {
				return fmt.Errorf("%w: more than %d repositories under %s; raise Options.MaxRepositories (pgoci: --max-repositories)",
					ErrTooManyRepositories, opts.MaxRepositories, p)
			}
		}
		return ctx.Err()
	})
	if err != nil && !errors.Is(err, errStopListing) {
		if errors.Is(err, ErrTooManyRepositories) || errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return nil, fmt.Errorf("catalog: list the repositories of %s: %w", p.host, err)
	}
	slices.Sort(names)
	return names, nil
}

// catalogUnavailable reports a registry that does not serve
// /v2/_catalog, or not to this client: GHCR, Docker Hub and most cloud
// registries answer 401, 403 or 404.
func catalogUnavailable(err error) bool {
	var resp *errcode.ErrorResponse
	if !errors.As(err, &resp) {
		return errors.Is(err, errdef.ErrNotFound) || errors.Is(err, errdef.ErrUnsupported)
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

// readArtifact fetches and verifies the catalog artifact and parses its
// document.
func readArtifact(ctx context.Context, p prefix, opts Options) (*Document, ocispec.Descriptor, error) {
	name := p.repo(RepositoryName)
	repo, err := resolve.Remote(name, opts.Remote)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	ref := resolve.Reference{Registry: p.host, Repository: strings.TrimPrefix(name, p.host+"/"), Tag: Tag}
	d, body, err := resolve.FetchObject(ctx, repo, Tag)
	if err != nil {
		return nil, ocispec.Descriptor{}, resolve.ExplainAuth(fmt.Errorf("catalog: %s:%s: %w", name, Tag, err), ref)
	}
	if !resolve.IsManifestMediaType(d.MediaType) {
		return nil, d, fmt.Errorf("%w: %s:%s (%s) is a %s, want an image manifest", ErrArtifact, name, Tag, d.Digest, d.MediaType)
	}
	m, err := resolve.DecodeManifest(d, body)
	if err != nil {
		return nil, d, fmt.Errorf("%w: %s:%s: %w", ErrArtifact, name, Tag, err)
	}
	if m.ArtifactType != ArtifactType && m.Config.MediaType != ArtifactType {
		return nil, d, fmt.Errorf("%w: %s:%s (%s) has artifact type %q, want %q", ErrArtifact, name, Tag, d.Digest, m.ArtifactType, ArtifactType)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != DocumentMediaType {
		return nil, d, fmt.Errorf("%w: %s:%s (%s): want one layer of %s, found %d layer(s)", ErrArtifact, name, Tag, d.Digest, DocumentMediaType, len(m.Layers))
	}
	l := m.Layers[0]
	if err := verify.Descriptor(l); err != nil {
		return nil, d, fmt.Errorf("%w: %s:%s: document %w", ErrArtifact, name, Tag, err)
	}
	if l.Size > opts.MaxDocumentSize {
		return nil, d, fmt.Errorf("%w: %s:%s: the document %s is %d bytes, over the %d-byte limit (Options.MaxDocumentSize)",
			ErrArtifact, name, Tag, l.Digest, l.Size, opts.MaxDocumentSize)
	}
	rc, err := repo.Fetch(ctx, l)
	if err != nil {
		return nil, d, resolve.ExplainAuth(fmt.Errorf("catalog: %s: fetch the document %s: %w", name, l.Digest, err), ref)
	}
	defer rc.Close()
	data, err := io.ReadAll(verify.NewReader(rc, l, nil))
	if err != nil {
		return nil, d, fmt.Errorf("catalog: %s: read the document %s: %w", name, l.Digest, err)
	}
	doc, err := ParseDocument(data)
	if err != nil {
		return nil, d, fmt.Errorf("catalog: %s:%s (%s): %w", name, Tag, d.Digest, err)
	}
	return doc, d, nil
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
