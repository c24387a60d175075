package extension

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/resolve"
)

// Copied is one copy made by [CopyAll].
type Copied struct {
	// Source and Destination are the references copied from and to.
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// Descriptor is the root written at Destination.
	Descriptor ocispec.Descriptor `json:"descriptor"`
}

// CopyAll copies several extension repositories into one mirror, for
// air-gapped sites: a registry namespace ("host[:port]/ns", or a bare
// "host[:port]") or a directory of OCI image layouts ("oci:DIR").
//
// Each source repository keeps its last path element as its name in the
// mirror, so that the installer finds dependencies there the way it finds
// them at the source (DefaultDependencyRef: the repository next to the
// one requiring it, named after the extension):
//
//	ghcr.io/acme/cube:1.5       -> oci:/mirror/cube:1.5       (the OCI layout /mirror/cube)
//	ghcr.io/acme/earthdistance  -> oci:/mirror/earthdistance  (every tag)
//	ghcr.io/acme/cube:1.5       -> registry.local/pg/cube:1.5
//
// An OCI layout holds one repository, as a registry repository does: its
// tags are plain versions, so version constraints and the tag schemes
// resolve reads work on the mirror unchanged. A source with a tag or a
// digest copies that; a source with neither copies every tag. Two sources
// with the same last path element are refused before anything is copied
// (ErrCopyReference). Options apply to every copy; the copies run one
// after the other and CopyAll stops at the first failure, returning what
// was copied before it.
func CopyAll(ctx context.Context, srcs []string, dstBase string, opts CopyOptions) ([]Copied, error) {
	base, err := mirrorBase(dstBase)
	if err != nil {
		return nil, err
	}
	plan, err := mirrorPlan(ctx, srcs, base, opts)
	if err != nil {
		return nil, err
	}
	var done []Copied
	for _, p := range plan {
		d, err := Copy(ctx, p.Source, p.Destination, opts)
		if err != nil {
			return done, err
		}
		p.Descriptor = d
		done = append(done, p)
	}
	return done, nil
}

// mirrorBase checks dstBase and returns it without a trailing slash.
func mirrorBase(dstBase string) (string, error) {
	base := strings.TrimRight(dstBase, "/")
	if dir, ok := strings.CutPrefix(base, resolve.LayoutPrefix); ok {
		if dir == "" {
			return "", fmt.Errorf("%w: mirror %q: want oci:DIR", ErrCopyReference, shorten(dstBase))
		}
		return base, nil
	}
	r, err := resolve.ParseReference(base + "/probe") // a bare host is a namespace too
	if err != nil || r.Tag != "" || r.Digest != "" {
		return "", fmt.Errorf("%w: mirror %q: want host[:port][/namespace] or oci:DIR, without tag or digest", ErrCopyReference, shorten(dstBase))
	}
	return base, nil
}

// mirrorPlan lists the copies to make, refusing name clashes first.
func mirrorPlan(ctx context.Context, srcs []string, base string, opts CopyOptions) ([]Copied, error) {
	owner := map[string]string{} // mirror name -> source repository
	var plan []Copied
	for _, src := range srcs {
		r, err := resolve.ParseReference(src)
		if err != nil {
			return nil, err
		}
		name := mirrorName(r)
		if prev, ok := owner[name]; ok && prev != r.Name() {
			return nil, fmt.Errorf("%w: %s and %s would both be %q in the mirror", ErrCopyReference, prev, r.Name(), name)
		}
		owner[name] = r.Name()
		dst := mirrorRepo(base, name)
		if r.Tag != "" || r.Digest != "" {
			if r.Tag != "" {
				dst += ":" + r.Tag
			}
			plan = append(plan, Copied{Source: src, Destination: dst})
			continue
		}
		tags, err := listTags(ctx, src, opts)
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			plan = append(plan, Copied{Source: r.Name() + ":" + t, Destination: dst + ":" + t})
		}
	}
	return plan, nil
}

// mirrorName is the repository's last path element, or the layout
// directory's base name.
func mirrorName(r resolve.Reference) string {
	if r.Layout != "" {
		// Absolute first: "oci:." or "oci:.." must be named after the
		// directory they mean, never "." or "..".
		abs, err := filepath.Abs(r.Layout)
		if err != nil {
			return ""
		}
		return filepath.Base(abs)
	}
	return path.Base(r.Repository)
}

func mirrorRepo(base, name string) string {
	if dir, ok := strings.CutPrefix(base, resolve.LayoutPrefix); ok {
		return resolve.LayoutPrefix + filepath.Join(dir, name)
	}
	return base + "/" + name
}

func listTags(ctx context.Context, src string, opts CopyOptions) ([]string, error) {
	s, _, err := resolve.Open(ctx, src, opts.Remote)
	if err != nil {
		return nil, err
	}
	var tags []string
	err = s.Tags(ctx, "", func(page []string) error {
		tags = append(tags, page...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("extension: list tags of %s: %w", shorten(src), err)
	}
	if len(tags) == 0 {
		return nil, fmt.Errorf("%w: %s has no tags", ErrCopyReference, shorten(src))
	}
	return tags, nil
}
