package versions

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"pgoci/resolve"
)

// Group is one version and its tags: all the constraint admits, and the
// best one for the target (Best is "" when the target excludes them all).
type Group struct {
	Version resolve.Version
	Tags    []resolve.Tag
	Best    string
}

// Groups groups the version tags the constraint admits by version, newest
// first, and picks each version's best tag for t.
func Groups(tags []string, c resolve.Constraint, t resolve.Target) []Group {
	all := resolve.SelectTags(tags, c, resolve.Target{})
	fit := resolve.SelectTags(tags, c, t)
	var out []Group
	for _, tag := range all {
		if n := len(out); n > 0 && out[n-1].Version.Compare(tag.Version) == 0 {
			out[n-1].Tags = append(out[n-1].Tags, tag)
			continue
		}
		out = append(out, Group{Version: tag.Version, Tags: []resolve.Tag{tag}})
	}
	for i := range out {
		for _, tag := range fit {
			if tag.Version.Compare(out[i].Version) == 0 {
				out[i].Best = tag.Name
				break
			}
		}
	}
	return out
}

// Why says why the target excludes every tag of g: the majors or
// distributions they name.
func (g Group) Why(t resolve.Target) string {
	var majors, distros []string
	for _, tag := range g.Tags {
		if tag.PGMajor != 0 && t.PG.Major != 0 && tag.PGMajor != t.PG.Major {
			majors = appendMissing(majors, strconv.Itoa(tag.PGMajor))
		} else if tag.Distro != "" {
			distros = appendMissing(distros, tag.Distro)
		}
	}
	var parts []string
	if len(majors) > 0 {
		parts = append(parts, fmt.Sprintf("its tags are for PostgreSQL %s, not %d", strings.Join(majors, ", "), t.PG.Major))
	}
	if len(distros) > 0 {
		parts = append(parts, fmt.Sprintf("its tags are for distribution %s, not %s", strings.Join(distros, ", "), t.Distro.Codename))
	}
	return strings.Join(parts, "; ")
}

func appendMissing(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// WhyNone says why none of the images of a version fits: per candidate,
// its platform (or digest) and the properties that did not fit.
func WhyNone(cands []resolve.Candidate) string {
	if len(cands) == 0 {
		return "no image in the index"
	}
	parts := make([]string, 0, len(cands))
	for _, c := range cands {
		var fs []string
		for _, f := range c.Findings {
			if f.Status == resolve.Mismatch {
				fs = append(fs, f.String())
			}
		}
		name := resolve.PlatformString(c.Platform)
		if name == "" {
			name = c.Descriptor.Digest.String()
		}
		parts = append(parts, name+": "+strings.Join(fs, ", "))
	}
	return fmt.Sprintf("none of %d images fits: %s", len(cands), strings.Join(parts, "; "))
}
