package resolve

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Version is an extension package version as found in tags and labels.
// Extension versions are often not semver ("1.4", "3.5.2", "2.13.0",
// "1.0-beta1", "v0.8.1"), so the grammar is loose: an optional "v", one to
// eight dot-separated decimal numbers, then an optional pre-release after
// "-", "~" or directly after the last number ("1.0beta1", "1.0-rc.2"), then
// optional build metadata after "+", which is ignored when comparing.
//
// Missing trailing numbers are zero: "1.4" equals "1.4.0". A pre-release
// sorts before its release: "1.0-beta1" < "1.0-rc1" < "1.0".
type Version struct {
	// Nums are the release numbers, e.g. [3 5 2].
	Nums []int
	// Pre is the pre-release, e.g. "beta1"; "" for a release.
	Pre string
	// Raw is the text the version was parsed from.
	Raw string
}

const (
	maxVersionNums = 8
	maxVersionLen  = 128
	maxVersionNum  = 1 << 30
)

// ParseVersion parses s as a package [Version]. It fails with
// [ErrVersion] when s has no leading number or is longer than 128 bytes.
func ParseVersion(s string) (Version, error) {
	v := Version{Raw: s}
	if len(s) == 0 || len(s) > maxVersionLen {
		return Version{}, fmt.Errorf("%w: %q: want 1-%d bytes", ErrVersion, truncate(s), maxVersionLen)
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	rest, _, _ = strings.Cut(rest, "+") // build metadata: not ordered
	for {
		n, tail, ok := leadingNumber(rest)
		if !ok {
			return Version{}, fmt.Errorf("%w: %q: want a number at %q", ErrVersion, truncate(s), truncate(rest))
		}
		if len(v.Nums) == maxVersionNums {
			return Version{}, fmt.Errorf("%w: %q: more than %d numbers", ErrVersion, truncate(s), maxVersionNums)
		}
		v.Nums = append(v.Nums, n)
		rest = tail
		if !strings.HasPrefix(rest, ".") || !startsWithDigit(rest[1:]) {
			break
		}
		rest = rest[1:]
	}
	pre := strings.TrimLeft(rest, "-~.")
	if pre == "" && rest != "" {
		return Version{}, fmt.Errorf("%w: %q: empty pre-release", ErrVersion, truncate(s))
	}
	for _, r := range pre {
		if !isPreChar(r) {
			return Version{}, fmt.Errorf("%w: %q: pre-release %q has %q (want letters, digits, '.', '-', '_')", ErrVersion, truncate(s), truncate(pre), r)
		}
	}
	v.Pre = pre
	return v, nil
}

func isPreChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_'
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// leadingNumber splits a decimal number off s.
func leadingNumber(s string) (int, string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 10 {
		return 0, s, false
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n > maxVersionNum {
		return 0, s, false
	}
	return n, s[i:], true
}

// String returns the text v was parsed from, or a canonical rendering for
// a Version built in code.
func (v Version) String() string {
	if v.Raw != "" {
		return v.Raw
	}
	parts := make([]string, len(v.Nums))
	for i, n := range v.Nums {
		parts[i] = strconv.Itoa(n)
	}
	s := strings.Join(parts, ".")
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// IsPrerelease reports whether v has a pre-release part.
func (v Version) IsPrerelease() bool { return v.Pre != "" }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
// Numbers compare numerically with missing ones as zero; a release sorts
// after its pre-releases; pre-releases compare piece by piece, numbers
// numerically and words by byte order ("beta2" < "beta10" < "rc1").
func (v Version) Compare(w Version) int {
	for i := range max(len(v.Nums), len(w.Nums)) {
		if c := cmp.Compare(num(v.Nums, i), num(w.Nums, i)); c != 0 {
			return c
		}
	}
	switch {
	case v.Pre == w.Pre:
		return 0
	case v.Pre == "":
		return 1
	case w.Pre == "":
		return -1
	}
	return comparePre(v.Pre, w.Pre)
}

func num(ns []int, i int) int {
	if i < len(ns) {
		return ns[i]
	}
	return 0
}

// comparePre orders pre-releases by runs of digits and non-digits.
func comparePre(a, b string) int {
	for a != "" && b != "" {
		ra, ta := preRun(a)
		rb, tb := preRun(b)
		if c := compareRun(ra, rb); c != 0 {
			return c
		}
		a, b = ta, tb
	}
	return cmp.Compare(len(a), len(b))
}

func preRun(s string) (string, string) {
	digit := startsWithDigit(s)
	i := 1
	for i < len(s) && startsWithDigit(s[i:]) == digit {
		i++
	}
	return s[:i], s[i:]
}

func compareRun(a, b string) int {
	da, db := startsWithDigit(a), startsWithDigit(b)
	switch {
	case da && db:
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if c := cmp.Compare(len(a), len(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	case da: // numbers sort before words, as in semver
		return -1
	case db:
		return 1
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
