package resolve

import (
	"fmt"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry"

	transport "pgoci/internal/registry"
)

// LayoutPrefix starts a reference to an OCI image layout directory.
const LayoutPrefix = "oci:"

// Reference names a repository, or an OCI image layout directory, and
// optionally a tag and a digest in it. Parse one with [ParseReference].
type Reference struct {
	// Layout is the OCI image layout directory of an "oci:DIR" reference;
	// "" for a registry reference.
	Layout string
	// Registry is "host[:port]" and Repository the path in it, for a
	// registry reference.
	Registry   string
	Repository string
	// Tag and Digest are each "" when not given. When both are, the
	// digest wins and the tag is informative.
	Tag    string
	Digest digest.Digest
}

// ParseReference parses "host[:port]/repo[:tag][@digest]" or
// "oci:DIR[:tag|@digest]". The registry host is required (no implicit
// docker.io). For a layout, a final ":word" after the last "/" is a tag
// when it is a valid tag, and "@algo:hex" a digest. Errors wrap
// [ErrReference].
func ParseReference(s string) (Reference, error) {
	if dir, ok := strings.CutPrefix(s, LayoutPrefix); ok {
		return parseLayoutReference(s, dir)
	}
	return parseRemoteReference(s)
}

func parseRemoteReference(s string) (Reference, error) {
	var r Reference
	name, dg, hasDigest := strings.Cut(s, "@")
	if hasDigest {
		d, err := digest.Parse(dg)
		if err != nil {
			return Reference{}, fmt.Errorf("%w: %q: digest %q: %v", ErrReference, truncate(s), truncate(dg), err)
		}
		r.Digest = d
	}
	slash := strings.IndexByte(name, '/')
	if slash <= 0 {
		return Reference{}, fmt.Errorf("%w: %q: want host[:port]/repository[:tag][@digest]", ErrReference, truncate(s))
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		r.Tag, name = name[i+1:], name[:i]
		if !transport.ValidTag(r.Tag) {
			return Reference{}, fmt.Errorf("%w: %q: tag %q (want [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127})", ErrReference, truncate(s), truncate(r.Tag))
		}
	}
	r.Registry, r.Repository = name[:slash], name[slash+1:]
	if _, err := registry.ParseReference(name); err != nil {
		return Reference{}, fmt.Errorf("%w: %q: %v", ErrReference, truncate(s), err)
	}
	return r, nil
}

func parseLayoutReference(s, rest string) (Reference, error) {
	var r Reference
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		d, err := digest.Parse(rest[i+1:])
		if err != nil {
			return Reference{}, fmt.Errorf("%w: %q: digest %q: %v", ErrReference, truncate(s), truncate(rest[i+1:]), err)
		}
		r.Digest, rest = d, rest[:i]
	}
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') && transport.ValidTag(rest[i+1:]) {
		r.Tag, rest = rest[i+1:], rest[:i]
	}
	if rest == "" || strings.ContainsRune(rest, 0) {
		return Reference{}, fmt.Errorf("%w: %q: want oci:DIR[:tag|@digest]", ErrReference, truncate(s))
	}
	r.Layout = rest
	return r, nil
}

// Name is the repository without tag or digest: "host/repo" or "oci:DIR".
func (r Reference) Name() string {
	switch {
	case r.Layout != "":
		return LayoutPrefix + r.Layout
	case r.Registry == "" && r.Repository == "":
		return ""
	}
	return r.Registry + "/" + r.Repository
}

// String renders r as ParseReference reads it.
func (r Reference) String() string {
	s := r.Name()
	if s == "" {
		return r.object()
	}
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// object is the tag or digest to resolve in the repository: the digest
// when given (it pins the content), else the tag, else "".
func (r Reference) object() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.Tag
}

// at names the manifest d in r's repository: "name@digest".
func (r Reference) at(d ocispec.Descriptor) string {
	if n := r.Name(); n != "" {
		return n + "@" + d.Digest.String()
	}
	return d.Digest.String()
}
