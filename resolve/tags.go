package resolve

import (
	"sort"
	"strconv"
	"strings"

	"pgoci/labels"
)

// Tag is a tag read as a package version, with the PostgreSQL major and
// distribution it names, if any. [ParseTag] understands these schemes:
//
//	<version>                  1.4, 3.5.2, 1.0-beta1, v0.8.1
//	<version>-pg<major>        3.5.2-pg17
//	<version>-<pg>-<distro>    0.8.1-18-trixie (CloudNativePG extension images)
//	<pg>-<version>-<distro>    18-0.8.1-trixie
type Tag struct {
	Name    string  // the tag itself
	Version Version // the package version it names
	PGMajor int     // 0 when the tag does not say
	Distro  string  // distribution codename, "" when the tag does not say
}

// ParseTag reads a tag as a [Tag]. It returns false for tags that name no
// version ("latest", "main", "sha256-....sig").
func ParseTag(tag string) (Tag, bool) {
	t := Tag{Name: tag}
	body := tag
	if i := strings.LastIndex(body, "-pg"); i > 0 {
		if n, ok := pgMajor(body[i+3:]); ok {
			t.PGMajor, body = n, body[:i]
		}
	}
	if t.PGMajor == 0 {
		if v, pg, distro, ok := cnpgTag(body); ok {
			t.Version, t.PGMajor, t.Distro = v, pg, distro
			return t, true
		}
	}
	v, err := ParseVersion(body)
	if err != nil {
		return Tag{}, false
	}
	t.Version = v
	return t, true
}

// cnpgTag splits "<version>-<pg>-<distro>" or "<pg>-<version>-<distro>".
// The distro is a word of letters; the PostgreSQL major a bare integer of
// 10-999. When both leading parts are bare integers the CloudNativePG order
// (<version>-<pg>) wins.
func cnpgTag(s string) (Version, int, string, bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || !isWord(s[i+1:]) {
		return Version{}, 0, "", false
	}
	distro, head := s[i+1:], s[:i]
	if j := strings.LastIndexByte(head, '-'); j > 0 {
		if pg, ok := pgMajor(head[j+1:]); ok {
			if v, err := ParseVersion(head[:j]); err == nil {
				return v, pg, distro, true
			}
		}
	}
	if j := strings.IndexByte(head, '-'); j > 0 {
		if pg, ok := pgMajor(head[:j]); ok {
			if v, err := ParseVersion(head[j+1:]); err == nil {
				return v, pg, distro, true
			}
		}
	}
	return Version{}, 0, "", false
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
// distribution over a bare version tag. A tag naming another PostgreSQL
// major than t's is left out, and so is one naming another distribution
// codename, unless that is a Debian release whose glibc is no newer than
// t's (a bookworm build loads on trixie); tags that name no version are
// left out too.
func SelectTags(tags []string, c Constraint, t Target) []Tag {
	var out []Tag
	for _, name := range tags {
		tag, ok := ParseTag(name)
		if !ok || !c.Match(tag.Version) {
			continue
		}
		if tag.PGMajor != 0 && t.PG.Major != 0 && tag.PGMajor != t.PG.Major {
			continue
		}
		if tag.Distro != "" && t.Distro.Codename != "" && tag.Distro != t.Distro.Codename && !olderDebian(tag.Distro, t) {
			continue
		}
		out = append(out, tag)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if c := out[i].Version.Compare(out[j].Version); c != 0 {
			return c > 0
		}
		if si, sj := out[i].specificity(t), out[j].specificity(t); si != sj {
			return si > sj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// specificity ranks a tag naming the target's major and distribution
// above a bare one, and a bare one above one of another distribution.
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
		n--
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
