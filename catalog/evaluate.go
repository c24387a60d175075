package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/extension"
	"pgoci/internal/versions"
	"pgoci/labels"
	"pgoci/resolve"
)

// documentVersions lists the versions of one repository of a catalog
// document for t, as extension.ListVersions lists them from the registry
// (same order, same bounds, same reasons), without a request.
func documentVersions(name string, r *RepositoryEntry, t resolve.Target, opts extension.ListVersionsOptions) ([]extension.Version, error) {
	c, err := resolve.ParseConstraint(opts.Constraint)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, nil
	}
	tags := make([]string, len(r.Tags))
	byTag := make(map[string]*TagEntry, len(r.Tags))
	for i := range r.Tags {
		tags[i] = r.Tags[i].Tag
		byTag[r.Tags[i].Tag] = &r.Tags[i]
	}
	maxVersions := opts.MaxVersions
	if maxVersions == 0 {
		maxVersions = extension.DefaultMaxVersions
	}
	var (
		out               []extension.Version
		examined, fitting int
	)
	for _, g := range versions.Groups(tags, c, t) {
		if opts.MaxFitting > 0 && fitting >= opts.MaxFitting {
			break
		}
		if g.Best == "" {
			if opts.Rejected {
				out = append(out, extension.Version{Tag: g.Tags[0].Name, Version: g.Version.String(), Why: g.Why(t)})
			}
			continue
		}
		if maxVersions > 0 && examined >= maxVersions {
			if opts.Rejected {
				out = append(out, extension.Version{Tag: g.Best, Version: g.Version.String(),
					Why: fmt.Sprintf("not examined: only the %d newest versions are (ListVersionsOptions.MaxVersions)", maxVersions)})
			}
			continue
		}
		examined++
		v, err := evaluateTag(name, byTag[g.Best], t, opts.Policy)
		if err != nil {
			return nil, err
		}
		v.Version = g.Version.String()
		if v.Fits {
			fitting++
		}
		if v.Fits || opts.Rejected {
			out = append(out, v)
		}
	}
	return out, nil
}

// candidate is one image of a tag that passed the check.
type candidate struct {
	m        *ManifestEntry
	platform ocispec.Platform
	meta     labels.Metadata
	report   []resolve.Finding
	unknowns int
	distance int
}

// better orders candidates as the resolver does: fewer unknown
// properties, then the closest platform variant, then the newest C
// library of one family, then index order (the earlier is kept).
func (c *candidate) better(o *candidate) bool {
	if c.unknowns != o.unknowns {
		return c.unknowns < o.unknowns
	}
	if c.distance != o.distance {
		return c.distance < o.distance
	}
	if c.meta.Libc.Family == o.meta.Libc.Family {
		return compareDotted(c.meta.Libc.Version, o.meta.Libc.Version) > 0
	}
	return false
}

// compareDotted compares dotted numbers ("2.36" < "2.41"); anything
// else compares equal.
func compareDotted(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		x, y := 0, 0
		var err error
		if i < len(as) {
			if x, err = strconv.Atoi(as[i]); err != nil {
				return 0
			}
		}
		if i < len(bs) {
			if y, err = strconv.Atoi(bs[i]); err != nil {
				return 0
			}
		}
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return 0
}

// evaluateTag checks every image of tag e against t and chooses the best
// that fits, as the resolver orders candidates.
func evaluateTag(name string, e *TagEntry, t resolve.Target, p resolve.Policy) (extension.Version, error) {
	v := extension.Version{Tag: e.Tag}
	var (
		best     *candidate
		rejected []resolve.Candidate
		majors   []int
	)
	for i := range e.Manifests {
		m := &e.Manifests[i]
		platform := m.Platform.OCI()
		d := ocispec.Descriptor{Digest: m.Digest, Size: m.Size, Platform: &platform}
		meta, err := labels.Parse(m.Labels)
		if err != nil {
			rejected = append(rejected, resolve.Candidate{Descriptor: d, Tag: e.Tag, Platform: platform, Findings: []resolve.Finding{{
				Property: resolve.PropLabels, Want: "valid labels", Found: err.Error(), Status: resolve.Mismatch}}})
			continue
		}
		fs, err := resolve.Check(p, t, platform, meta)
		if err != nil {
			rejected = append(rejected, resolve.Candidate{Descriptor: d, Tag: e.Tag, Platform: platform, Findings: fs})
			continue
		}
		c := &candidate{m: m, platform: platform, meta: meta, distance: 1 << 20}
		for _, f := range fs {
			if f.Status != resolve.Match {
				c.report = append(c.report, f)
			}
			if f.Found == "" && f.Property != resolve.PropDistro && f.Property != resolve.PropBase {
				c.unknowns++
			}
			if n, err := strconv.Atoi(f.Found); err == nil && f.Property == resolve.PropPGMajor && !slices.Contains(majors, n) {
				majors = append(majors, n)
			}
		}
		if dist, ok := resolve.MatchPlatform(t.Platform, platform); ok {
			c.distance = dist
		}
		if best == nil || c.better(best) {
			best = c
		}
	}
	if t.PG.Major == 0 && len(majors) > 1 {
		slices.Sort(majors)
		list := make([]string, len(majors))
		for i, n := range majors {
			list[i] = strconv.Itoa(n)
		}
		return v, fmt.Errorf("%w: %s:%s has images for PostgreSQL %s and the target's major is unknown: state it (Target.PG.Major; pgoci --pg-major N)",
			resolve.ErrAmbiguous, name, e.Tag, strings.Join(list, ", "))
	}
	if best == nil {
		v.Why, v.Candidates = versions.WhyNone(rejected), rejected
		return v, nil
	}
	v.Fits = true
	v.Reference = name + "@" + best.m.Digest.String()
	if resolve.IsIndexMediaType(e.MediaType) {
		v.Index = e.Digest
	}
	v.Manifest = best.m.Digest
	v.Platform = best.platform
	v.Metadata = best.meta
	v.Report = best.report
	v.Dirs, v.DirsComplete = slices.Clone(best.m.Dirs), best.m.DirsComplete
	return v, nil
}
