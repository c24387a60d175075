package extension

import (
	"context"
	"errors"
	"fmt"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"

	"pgoci/internal/versions"
	"pgoci/labels"
	"pgoci/layout"
	"pgoci/resolve"
)

// Bounds of [ListVersions] when its options leave them zero.
const (
	// DefaultMaxVersions is how many versions ListVersions resolves,
	// newest first.
	DefaultMaxVersions = 10
	// DefaultTagPageSize is how many tags ListVersions asks for per page
	// of a registry's tags list.
	DefaultTagPageSize = 1000
	// DefaultMaxTagPages is how many pages of the tags list ListVersions
	// reads before it gives up with [ErrTooManyTags].
	DefaultMaxTagPages = 10
)

// maxListedTags bounds the tags kept in memory, whatever the registry's
// pages hold: a registry may ignore the page size it is asked for.
const maxListedTags = 100_000

// ErrTooManyTags: a repository lists more tags than the bound allows
// ([ListVersionsOptions].MaxTagPages pages, or 100,000 tags). Since tags
// are listed in lexical order, not by version, a cut list cannot tell the
// newest versions: the listing fails rather than answer wrong.
var ErrTooManyTags = errors.New("extension: too many tags")

// ListVersionsOptions tunes and bounds [ListVersions]. The zero value
// lists every release for the [resolve.Default] policy, reading at most
// 10 pages of 1000 tags and resolving at most the 10 newest versions.
type ListVersionsOptions struct {
	// Policy is the compatibility policy. Default: [resolve.Default].
	Policy resolve.Policy
	// Constraint restricts the versions listed ([resolve.ParseConstraint]):
	// ">=1.2,<2", "~1.4". Default "": every release; pre-releases only
	// when the constraint names one.
	Constraint string
	// MaxVersions is how many versions, newest first, are resolved for
	// the target: each costs the requests of one resolve (2 GETs for an
	// annotated index). Older versions are not examined. Default:
	// [DefaultMaxVersions]; negative: every version.
	MaxVersions int
	// MaxFitting stops the listing once this many versions fit (1: the
	// newest fitting version only). Default 0: no such stop.
	MaxFitting int
	// TagPageSize is how many tags are asked for per page of the tags
	// list. Default: [DefaultTagPageSize].
	TagPageSize int
	// MaxTagPages bounds the pages of the tags list read (one request
	// each); a repository with more is [ErrTooManyTags]. Default:
	// [DefaultMaxTagPages].
	MaxTagPages int
	// Rejected also returns the versions that do not fit the target, with
	// why ([Version].Why, [Version].Candidates), and those left
	// unexamined by MaxVersions. Default: only the versions that fit.
	Rejected bool
	// Remote configures registry access. Its TagPageSize and MaxTagPages
	// are replaced by the ones above.
	Remote resolve.RemoteOptions
	// Source, when set, is read instead of opening the repository, which
	// then only names things in results and errors. Default: the
	// registry or OCI layout the repository names.
	Source resolve.Source
}

// Version is one version of a repository, as [ListVersions] found it for
// a target.
type Version struct {
	// Tag is the tag resolved for this version: the best of the
	// version's tags for the target ([resolve.SelectTags]), e.g.
	// "0.8.1-18-trixie" over "0.8.1".
	Tag string `json:"tag"`
	// Version is the package version the tag names ([resolve.ParseTag]).
	Version string `json:"version"`
	// Fits reports whether an image of this version fits the target.
	Fits bool `json:"fits"`
	// Reference is "repository@digest" of the chosen manifest; "" when
	// none fits.
	Reference string `json:"reference,omitempty"`
	// Index is the digest of the image index the tag names; "" when it
	// names a manifest, or the version was not examined.
	Index digest.Digest `json:"index,omitempty"`
	// Manifest is the digest of the chosen manifest.
	Manifest digest.Digest `json:"manifest,omitempty"`
	// Platform is the chosen manifest's platform.
	Platform ocispec.Platform `json:"platform,omitzero"`
	// Metadata holds the chosen manifest's labels.
	Metadata labels.Metadata `json:"metadata,omitzero"`
	// Report lists the properties the check found unknown or did not
	// check (see [resolve.Resolved].Report).
	Report []resolve.Finding `json:"report,omitempty"`
	// Dirs and DirsComplete are [ImageDirs] of Metadata.
	Dirs         []string `json:"dirs,omitempty"`
	DirsComplete bool     `json:"dirsComplete,omitempty"`
	// Why says why a version does not fit: its tags name another
	// PostgreSQL major or distribution, no image of its index fits (then
	// Candidates says, per image, each property that did not), the image
	// is unusable (a digest or size that does not verify), or it was not
	// examined (beyond MaxVersions).
	Why string `json:"why,omitempty"`
	// Candidates are the images of a version whose index holds none that
	// fits, each with its findings.
	Candidates []resolve.Candidate `json:"candidates,omitempty"`
}

// ListVersions lists the versions of repository ("host[:port]/path" or
// "oci:DIR", without tag or digest) that fit target, newest first: for
// each, the tag, the index digest, the chosen manifest's digest and its
// labels. With opts.Rejected, the versions that do not fit come too,
// each with why.
//
// Tags are read as versions with [resolve.ParseTag]; tags that name no
// version ("latest", "main", signature tags) are left out, and so are
// those outside opts.Constraint. Versions are ordered by
// [resolve.Version.Compare] (Debian epochs and revisions, RPM releases,
// CloudNativePG build tags). Tags that name another PostgreSQL major or
// distribution than target's are rejected without a request; of each
// version only its best tag for target is resolved, with [resolve.Resolve]
// and opts.Policy, as [resolve.ResolveReference] would.
//
// The work is bounded: at most opts.MaxTagPages requests list the tags
// (default 10 pages of 1000), and at most opts.MaxVersions versions are
// resolved (default 10, typically 2 requests each, at most resolve's 64
// fetches for an index of unannotated entries): a repository of 2,500
// tags costs 23 requests (3 pages, 10 versions). Raise the bounds in
// opts; a tag list longer than its bound is [ErrTooManyTags]. ctx is
// checked between requests.
//
// A version whose image does not verify (digest, size, media type) is
// reported as not fitting, with why; a failure to reach the repository
// (network, authentication, a cancelled ctx) ends the listing with an
// error naming the repository and tag.
func ListVersions(ctx context.Context, repository string, target resolve.Target, opts ListVersionsOptions) ([]Version, error) {
	c, err := resolve.ParseConstraint(opts.Constraint)
	if err != nil {
		return nil, err
	}
	pageSize := versionsOr(opts.TagPageSize, DefaultTagPageSize)
	maxPages := versionsOr(opts.MaxTagPages, DefaultMaxTagPages)
	maxVersions := versionsOr(opts.MaxVersions, DefaultMaxVersions)
	src, ref, err := openRepository(ctx, repository, opts, pageSize, maxPages)
	if err != nil {
		return nil, err
	}
	tags, err := listTagPages(ctx, src, ref, maxPages)
	if err != nil {
		return nil, err
	}
	var (
		out      []Version
		resolved int
		fitting  int
	)
	for _, g := range versions.Groups(tags, c, target) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if opts.MaxFitting > 0 && fitting >= opts.MaxFitting {
			break
		}
		if g.Best == "" {
			if opts.Rejected {
				out = append(out, Version{Tag: g.Tags[0].Name, Version: g.Version.String(), Why: g.Why(target)})
			}
			continue
		}
		if maxVersions > 0 && resolved >= maxVersions {
			if opts.Rejected {
				out = append(out, Version{Tag: g.Best, Version: g.Version.String(),
					Why: fmt.Sprintf("not examined: only the %d newest versions are (ListVersionsOptions.MaxVersions)", maxVersions)})
			}
			continue
		}
		resolved++
		v, err := resolveVersion(ctx, src, ref, g, target, opts.Policy)
		if err != nil {
			return nil, err
		}
		if v.Fits {
			fitting++
		}
		if v.Fits || opts.Rejected {
			out = append(out, v)
		}
	}
	return out, nil
}

func versionsOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// openRepository opens repository, or names opts.Source with it, and
// checks that it names no tag or digest.
func openRepository(ctx context.Context, repository string, opts ListVersionsOptions, pageSize, maxPages int) (resolve.Source, resolve.Reference, error) {
	ref, err := resolve.ParseReference(repository)
	if err != nil {
		return nil, resolve.Reference{}, err
	}
	if ref.Tag != "" || ref.Digest != "" {
		return nil, resolve.Reference{}, fmt.Errorf("%w: %s names a tag or digest; ListVersions lists a repository", resolve.ErrReference, repository)
	}
	if opts.Source != nil {
		return opts.Source, ref, nil
	}
	remote := opts.Remote
	remote.TagPageSize, remote.MaxTagPages = pageSize, maxPages
	src, ref, err := resolve.Open(ctx, repository, remote)
	if err != nil {
		return nil, resolve.Reference{}, err
	}
	return src, ref, nil
}

// listTagPages reads the tags of src, at most maxPages pages and 100,000
// tags.
func listTagPages(ctx context.Context, src resolve.Source, ref resolve.Reference, maxPages int) ([]string, error) {
	name := ref.Name()
	var (
		tags  []string
		pages int
	)
	tooMany := func() error {
		return fmt.Errorf("%w: %s lists more than %d pages of tags (or %d tags); raise ListVersionsOptions.MaxTagPages (pgoci: --max-tag-pages)",
			ErrTooManyTags, name, maxPages, maxListedTags)
	}
	err := src.Tags(ctx, "", func(page []string) error {
		pages++
		if pages > maxPages || len(tags)+len(page) > maxListedTags {
			return tooMany()
		}
		tags = append(tags, page...)
		return ctx.Err()
	})
	switch {
	case errors.Is(err, errdef.ErrTooManyPages):
		return nil, tooMany()
	case errors.Is(err, ErrTooManyTags):
		return nil, err
	case err != nil:
		return nil, resolve.ExplainAuth(fmt.Errorf("extension: list the tags of %s: %w", name, err), ref)
	}
	return tags, nil
}

// resolveVersion resolves the best tag of g for t. Errors that say the
// image is unusable become a Version that does not fit; others (network,
// authentication, ctx, an ambiguous target) end the listing.
func resolveVersion(ctx context.Context, src resolve.Source, ref resolve.Reference, g versions.Group, t resolve.Target, p resolve.Policy) (Version, error) {
	v := Version{Tag: g.Best, Version: g.Version.String()}
	tagged := ref
	tagged.Tag = g.Best
	r, err := resolve.Resolve(ctx, src, tagged, t, resolve.Options{Policy: p})
	var ie *resolve.IncompatibleError
	switch {
	case err == nil:
	case errors.As(err, &ie):
		v.Why, v.Candidates = versions.WhyNone(ie.Candidates), ie.Candidates
		return v, nil
	case versionUnusable(err):
		v.Why = "unusable: " + err.Error()
		return v, nil
	default:
		return Version{}, fmt.Errorf("extension: list versions of %s: tag %s: %w", ref.Name(), g.Best, err)
	}
	v.Fits = true
	v.Reference = r.Reference
	v.Index = r.Index.Digest
	v.Manifest = r.Manifest.Digest
	v.Platform = r.Platform
	v.Metadata = r.Metadata
	v.Report = r.Report
	v.Dirs, v.DirsComplete = ImageDirs(r.Metadata)
	return v, nil
}

// versionUnusable reports the errors that condemn one image, not the listing.
func versionUnusable(err error) bool {
	for _, e := range []error{resolve.ErrIncompatible, resolve.ErrDigest, resolve.ErrSize, resolve.ErrTooLarge,
		resolve.ErrMediaType, resolve.ErrInvalidManifest, resolve.ErrTooDeep, errdef.ErrNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// ImageDirs returns the directories of the image root layout
// (layout.DirShare, DirLib, DirSystem, DirBin, in that order) that an
// image's labels show it has: share when it lists extensions, lib when
// it lists modules or an object under lib/, system when an object lies
// under system/ (libraries bundled at pack), bin when it lists programs
// or an object under bin/.
//
// complete says that these are all of them: the image carries pgoci
// labels and, when it holds ELF files (modules or programs), their
// objects (org.pgoci.objects, which an image with more than 1024 ELF
// files does not record). Without them a system/ directory may exist
// unseen: an image labelled by CloudNativePG keys alone says nothing of
// its directories.
func ImageDirs(m labels.Metadata) (dirs []string, complete bool) {
	has := map[string]bool{
		layout.DirShare: len(m.Extensions) > 0,
		layout.DirLib:   len(m.Modules) > 0,
		layout.DirBin:   len(m.Programs) > 0,
	}
	for _, o := range m.Objects {
		if top, _, ok := strings.Cut(o.Path, "/"); ok && (top == layout.DirLib || top == layout.DirSystem || top == layout.DirBin) {
			has[top] = true
		}
	}
	for _, d := range []string{layout.DirShare, layout.DirLib, layout.DirSystem, layout.DirBin} {
		if has[d] {
			dirs = append(dirs, d)
		}
	}
	elf := len(m.Modules) > 0 || len(m.Programs) > 0
	complete = m.SchemaVersion > 0 && (len(m.Objects) > 0 || !elf)
	return dirs, complete
}
