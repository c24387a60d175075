package resolve

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"pgoci/labels"
)

// Tag is a tag read as a package version, with the PostgreSQL major,
// distribution and build it names, if any. [ParseTag] understands these
// forms (see the package documentation, "How tags are read"):
//
//	<version>                                    1.4, 2.4.2-3, 3.3.2_dfsg-1_b1, 1.0-beta1
//	<version>-pg<major>                          3.5.2-pg17
//	[<epoch>-]<version>[-<build>]-<pg>-<distro>  0.8.1-202509101200-18-trixie (CloudNativePG)
//	<pg>-<version>-<distro>                      18-0.8.1-trixie
type Tag struct {
	Name    string  // the tag itself
	Version Version // the package version it names
	PGMajor int     // 0 when the tag does not say
	Distro  string  // distribution codename, "" when the tag does not say
	// Build is the build timestamp, YYYYMMDDhhmm or YYYYMMDDhhmmss, of a
	// CloudNativePG tag: "202509101200" in "0.8.1-202509101200-18-trixie";
	// "" when the tag has none. It is not part of the version: the tag
	// names the same version as "0.8.1-18-trixie", and among builds of one
	// version the newest sorts first.
	Build string
}

// maxTagLen is the longest tag the distribution spec allows.
const maxTagLen = 128

// ParseTag reads a tag as a [Tag]. It returns false for tags that name no
// version ("latest", "main", "sha256-....sig") and for tags longer than
// 128 bytes.
func ParseTag(tag string) (Tag, bool) {
	if len(tag) > maxTagLen {
		return Tag{}, false
	}
	body := tag
	pg := 0
	if i := strings.LastIndex(body, "-pg"); i > 0 {
		if n, ok := pgMajor(body[i+3:]); ok {
			pg, body = n, body[:i]
		}
	}
	if pg == 0 {
		if t, ok := distroTag(body); ok {
			t.Name = tag
			return t, true
		}
	}
	v, err := ParseVersion(body)
	if err != nil {
		return Tag{}, false
	}
	return Tag{Name: tag, Version: v, PGMajor: pg}, true
}

// distroTag reads a tag ending in a distribution codename:
// "[<epoch>-]<version>[-<build>]-<pg>-<distro>" (CloudNativePG) or
// "<pg>-<version>-<distro>". When both readings work the CloudNativePG
// one wins, so "0.8.1-18-trixie" is 0.8.1 for PostgreSQL 18, not the
// Debian revision 18 of 0.8.1.
func distroTag(s string) (Tag, bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || !isWord(s[i+1:]) {
		return Tag{}, false
	}
	distro, head := s[i+1:], s[:i]
	t, ok := cnpgTag(head)
	if !ok {
		t, ok = pgFirstTag(head)
	}
	t.Distro = distro
	return t, ok
}

// cnpgTag reads "[<epoch>-]<version>[-<build>]-<pg>", the part of a
// CloudNativePG tag before its distribution.
func cnpgTag(head string) (Tag, bool) {
	j := strings.LastIndexByte(head, '-')
	if j <= 0 {
		return Tag{}, false
	}
	pg, ok := pgMajor(head[j+1:])
	if !ok {
		return Tag{}, false
	}
	body, build := head[:j], ""
	if k := strings.LastIndexByte(body, '-'); k > 0 && isTimestamp(body[k+1:]) {
		body, build = body[:k], body[k+1:]
	}
	v, ok := epochVersion(body)
	if !ok {
		return Tag{}, false
	}
	return Tag{Version: v, PGMajor: pg, Build: build}, true
}

// pgFirstTag reads "<pg>-<version>", the part of an "18-0.8.1-trixie" tag
// before its distribution.
func pgFirstTag(head string) (Tag, bool) {
	j := strings.IndexByte(head, '-')
	if j <= 0 {
		return Tag{}, false
	}
	pg, ok := pgMajor(head[:j])
	if !ok {
		return Tag{}, false
	}
	v, err := ParseVersion(head[j+1:])
	if err != nil {
		return Tag{}, false
	}
	return Tag{Version: v, PGMajor: pg}, true
}

// epochVersion reads the version of a CloudNativePG tag, which writes a
// Debian epoch's ":" as "-": "1-6.1.0" is 1:6.1.0. A bare number before
// the first "-" is an epoch when the rest is a version, since
// CloudNativePG drops Debian revisions from its tags; "0.8.1-2", whose
// first part has a dot, is version 0.8.1 with Debian revision 2.
func epochVersion(s string) (Version, bool) {
	if e, rest, ok := strings.Cut(s, "-"); ok && isDigits(e) && startsWithDigit(rest) {
		if v, err := ParseVersion(e + ":" + rest); err == nil {
			return v, true
		}
	}
	v, err := ParseVersion(s)
	return v, err == nil
}

func isDigits(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}

// isTimestamp reports a CloudNativePG build timestamp: a valid UTC time
// written YYYYMMDDhhmm (their bake file's format) or YYYYMMDDhhmmss.
func isTimestamp(s string) bool {
	layout := "200601021504"
	switch len(s) {
	case len(layout):
	case len(layout) + 2:
		layout += "05"
	default:
		return false
	}
	if !isDigits(s) {
		return false
	}
	_, err := time.Parse(layout, s)
	return err == nil
}

func pgMajor(s string) (int, bool) {
	if s == "" || s[0] == '0' || len(s) > 3 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 10 {
		return 0, false
	}
	return n, true
}

// isWord reports a distribution codename: letters only, and not a
// pre-release word that a version could end with.
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	switch s {
	case "alpha", "beta", "rc", "pre", "dev", "devel", "snapshot":
		return false
	}
	return true
}

// SelectTags returns the tags that satisfy c and suit t, best first:
// highest version, then the tag that names t's PostgreSQL major and
// distribution over a bare version tag, then the newest build. A tag
// naming another PostgreSQL major than t's is left out, and so is one
// naming another distribution codename, unless that is a Debian release
// whose glibc is no newer than t's (a bookworm build loads on trixie);
// tags that name no version are left out too.
func SelectTags(tags []string, c Constraint, t Target) []Tag {
	var out []Tag
	for _, name := range tags {
		if tag, why := judgeTag(name, c, t); why == kept {
			out = append(out, tag)
		}
	}
	slices.SortStableFunc(out, func(a, b Tag) int { return preferTag(a, b, t) })
	return out
}

// preferTag orders tags best first: highest version, most specific to t,
// newest build, then by name so that the order is total.
func preferTag(a, b Tag, t Target) int {
	return cmp.Or(
		b.Version.Compare(a.Version),
		cmp.Compare(b.specificity(t), a.specificity(t)),
		compareBuild(b.Build, a.Build),
		strings.Compare(a.Name, b.Name),
	)
}

// compareBuild orders build timestamps, none first; YYYYMMDDhhmm is
// YYYYMMDDhhmm00.
func compareBuild(a, b string) int {
	pad := func(s string) string {
		if len(s) == 12 {
			return s + "00"
		}
		return s
	}
	return strings.Compare(pad(a), pad(b))
}

// A tagVerdict says why [SelectTags] leaves a tag out, or that it keeps it.
type tagVerdict string

const (
	kept        tagVerdict = ""
	notAVersion tagVerdict = "not a version"
	prerelease  tagVerdict = "pre-release"
	outside     tagVerdict = "outside the constraint"
	otherMajor  tagVerdict = "another PostgreSQL major"
	otherDistro tagVerdict = "another distribution"
)

// verdictsListed bounds how many tags an error names per reason.
const verdictsListed = 5

// judgeTag reads name and says whether it suits c and t, and if not why.
func judgeTag(name string, c Constraint, t Target) (Tag, tagVerdict) {
	tag, ok := ParseTag(name)
	switch {
	case !ok:
		return tag, notAVersion
	case !c.matchClauses(tag.Version):
		return tag, outside
	case !c.admitsPre(tag.Version):
		return tag, prerelease
	case tag.PGMajor != 0 && t.PG.Major != 0 && tag.PGMajor != t.PG.Major:
		return tag, otherMajor
	case tag.Distro != "" && t.Distro.Codename != "" && tag.Distro != t.Distro.Codename && !olderDebian(tag.Distro, t):
		return tag, otherDistro
	}
	return tag, kept
}

// explainTags says why each of tags was left out, grouped by reason,
// naming at most 5 tags per reason: "not a version: latest, main;
// pre-release: 1.0-beta1; another PostgreSQL major: 0.8.1-17-trixie (and
// 3 more)".
func explainTags(tags []string, c Constraint, t Target) string {
	order := []tagVerdict{notAVersion, outside, prerelease, otherMajor, otherDistro}
	named := map[tagVerdict][]string{}
	more := map[tagVerdict]int{}
	for _, name := range tags {
		_, why := judgeTag(name, c, t)
		if why == kept {
			continue
		}
		if len(named[why]) < verdictsListed {
			named[why] = append(named[why], truncate(name))
		} else {
			more[why]++
		}
	}
	var parts []string
	for _, why := range order {
		if len(named[why]) == 0 {
			continue
		}
		part := string(why) + ": " + strings.Join(named[why], ", ")
		if n := more[why]; n > 0 {
			part += " (and " + strconv.Itoa(n) + " more)"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// specificity ranks a tag naming the target's major and distribution
// above a bare one, and a bare one above one of another distribution,
// even when that one names the major: a bookworm build on trixie is a
// fallback.
func (tag Tag) specificity(t Target) int {
	n := 0
	if tag.PGMajor != 0 {
		n++
	}
	switch {
	case tag.Distro == "":
	case t.Distro.Codename == "" || tag.Distro == t.Distro.Codename:
		n++
	default:
		n -= 2
	}
	return n
}

// olderDebian reports whether codename is a Debian release whose glibc is
// no newer than the target's, so that its builds can load on the target.
func olderDebian(codename string, t Target) bool {
	g, ok := labels.DebianGlibc(codename)
	if !ok || t.Libc.Family != "glibc" {
		return false
	}
	c, ok := compareDotted(g, t.Libc.Version)
	return ok && c <= 0
}
