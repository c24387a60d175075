package resolve

import (
	"errors"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"

	"pgoci/internal/verify"
)

// Errors returned by target detection and resolution; test with [errors.Is].
var (
	// ErrPGConfig: pg_config could not be run or its output not understood.
	ErrPGConfig = errors.New("resolve: pg_config")

	// ErrIncompatible: no image fits the target. The error is an
	// *[IncompatibleError] listing every candidate and why.
	ErrIncompatible = errors.New("resolve: no compatible image")
	// ErrAmbiguous: the target leaves a property unknown on which the
	// candidates differ (images for several PostgreSQL majors and a
	// target whose major is unknown): resolving would pick one at random.
	ErrAmbiguous = errors.New("resolve: ambiguous target")
	// ErrNoVersion: no tag satisfies the version constraint. The message
	// says why each tag was left out, naming up to 5 per reason.
	ErrNoVersion = errors.New("resolve: no version matches")
	// ErrReference: a reference does not parse.
	ErrReference = errors.New("resolve: invalid reference")
	// ErrPlatform: a platform string does not parse.
	ErrPlatform = errors.New("resolve: invalid platform")
	// ErrUnauthorized: the registry wants credentials that are missing
	// or that it refused.
	ErrUnauthorized = errors.New("resolve: unauthorized")
	// ErrPolicy: a policy name other than default, strict or permissive.
	ErrPolicy = errors.New("resolve: invalid policy")
	// ErrVersion: a package version does not parse.
	ErrVersion = errors.New("resolve: invalid version")
	// ErrConstraint: a version constraint does not parse.
	ErrConstraint = errors.New("resolve: invalid version constraint")

	// ErrDigest: fetched content does not match the digest asked for or
	// announced by its descriptor, or a descriptor's digest is invalid.
	// It is the same value as extension's and the layout store's.
	ErrDigest = verify.ErrDigest
	// ErrSize: fetched content is not the size its descriptor says.
	ErrSize = verify.ErrSize
	// ErrTooLarge: a manifest, index or config is over the size limit
	// (4 MiB); it is refused before it is read.
	ErrTooLarge = errors.New("resolve: content too large")
	// ErrMediaType: a manifest's mediaType field or shape disagrees with
	// its descriptor (CVE-2021-41190), or the media type is not a
	// manifest or index pgoci reads.
	ErrMediaType = errors.New("resolve: media type mismatch")
	// ErrInvalidManifest: a manifest, index or config is not valid JSON
	// of its type.
	ErrInvalidManifest = errors.New("resolve: invalid manifest")
	// ErrTooDeep: image indexes nest deeper than pgoci follows (4 levels).
	ErrTooDeep = errors.New("resolve: index nesting too deep")

	// ErrNotFound: the tag, manifest, blob or repository does not exist
	// in the registry or layout. It is the same value as oras-go's
	// errdef.ErrNotFound, which its registry client and stores return
	// for a 404 and a missing tag, so errors from any of them match it;
	// [ExplainAuth] (which [Resolve] applies) adds the reference to the
	// message and makes a registry's other 404 answers (NAME_UNKNOWN,
	// MANIFEST_UNKNOWN, BLOB_UNKNOWN error bodies, as a tag listing of a
	// missing repository gets) match it too. Not temporary: see
	// [IsTemporary].
	ErrNotFound = errdef.ErrNotFound
)

// IncompatibleError says why no image fits a target: for each candidate
// manifest, each property wanted vs found. It wraps [ErrIncompatible].
type IncompatibleError struct {
	// Reference is the reference resolved, "" from [Check].
	Reference string
	Target    Target
	Policy    Policy
	// Candidates are the manifests considered, in the order considered.
	Candidates []Candidate
}

// Candidate is one manifest that was considered, with its findings.
type Candidate struct {
	// Descriptor is the manifest's descriptor (empty from [Check]).
	Descriptor ocispec.Descriptor
	// Tag is the tag it was reached through, if any.
	Tag string
	// Platform is the image's platform, from the index or its config.
	Platform ocispec.Platform
	// Findings compare each property; at least one is a [Mismatch].
	Findings []Finding
}

// Error lists each candidate and its mismatching properties.
func (e *IncompatibleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", ErrIncompatible)
	if e.Reference != "" {
		fmt.Fprintf(&b, " in %s", e.Reference)
	}
	fmt.Fprintf(&b, " for target %s (policy %s)", e.Target, e.Policy)
	if len(e.Candidates) == 0 {
		b.WriteString(": no candidate manifest")
	}
	for _, c := range e.Candidates {
		b.WriteString("; ")
		b.WriteString(c.name())
		b.WriteString(":")
		sep := " "
		for _, f := range c.Findings {
			if f.Status == Mismatch {
				b.WriteString(sep + f.String())
				sep = ", "
			}
		}
	}
	return b.String()
}

// Unwrap returns [ErrIncompatible].
func (e *IncompatibleError) Unwrap() error { return ErrIncompatible }

func (c Candidate) name() string {
	var parts []string
	if c.Tag != "" {
		parts = append(parts, "tag "+c.Tag)
	}
	if c.Descriptor.Digest != "" {
		parts = append(parts, c.Descriptor.Digest.String())
	}
	if p := PlatformString(c.Platform); p != "" {
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "image"
	}
	return strings.Join(parts, " ")
}
