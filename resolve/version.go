package resolve

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Version is an extension package version as found in tags and labels.
// Extension versions are often not semver ("1.4", "3.5.2", "1.0-beta1",
// "v0.8.1") and are often Debian or RPM package versions ("2.4.2-3",
// "3.3.2+dfsg-1+b1", "1:6.1.0-2", "1.2.3-1.el9"), so the grammar is loose:
//
//	[v] [<epoch>:] <numbers> [<pre-release>] [<revision>]
//
// numbers are one to eight dot-separated decimal numbers; the pre-release
// follows "-", "~", "." or the last number directly ("1.0-beta1",
// "1.0~rc1", "1.0beta1", "1.0-rc.2"); the revision starts at the first
// "+" or "_", at a "-" followed by a digit, or at a "-" or "~" followed by
// a repack word (dfsg, ds, repack). Tags cannot hold "+", so "_" is read
// as "+": the tag "3.3.2_dfsg-1_b1" is the Debian version 3.3.2+dfsg-1+b1.
// Unlike semver, "1.0-1" is a packaged release, not a pre-release.
//
// Missing trailing numbers are zero: "1.4" equals "1.4.0". See
// [Version.Compare] for the order.
type Version struct {
	// Epoch is the Debian epoch, e.g. 1 for "1:6.1.0-2" (and for the
	// CloudNativePG tag "1-6.1.0-18-trixie", see [ParseTag]); 0 when
	// none. It outranks the numbers.
	Epoch int
	// Nums are the release numbers, e.g. [3 5 2].
	Nums []int
	// Pre is the pre-release, e.g. "beta1"; "" for a release.
	Pre string
	// Revision is the packaging of the release, from its separator on,
	// with "_" read as "+": "-3" for "2.4.2-3", "-1ubuntu2",
	// "+dfsg-1+b1" for "3.3.2_dfsg-1_b1", "-1.el9" for an RPM release,
	// "+build.5" for semver build metadata; "" for none. A version with a
	// revision is a release of its numbers, ordered after them.
	Revision string
	// Raw is the text the version was parsed from; for a tag's epoch,
	// written "1-" in the tag, it is written "1:" here, so that Raw
	// parses back to the same version.
	Raw string
}

const (
	maxVersionNums = 8
	maxVersionLen  = 128
	maxVersionNum  = 1 << 30
)

// ParseVersion parses s as a package [Version]. It fails with
// [ErrVersion] when s has no leading number, an empty or malformed
// pre-release or revision, or is longer than 128 bytes.
func ParseVersion(s string) (Version, error) {
	if len(s) == 0 || len(s) > maxVersionLen {
		return Version{}, fmt.Errorf("%w: %q: want 1-%d bytes", ErrVersion, truncate(s), maxVersionLen)
	}
	v := Version{Raw: s}
	rest := strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	if n, tail, ok := leadingNumber(rest); ok && strings.HasPrefix(tail, ":") {
		v.Epoch, rest = n, tail[1:]
	}
	nums, rest, err := releaseNumbers(rest)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %q: %w", ErrVersion, truncate(s), err)
	}
	v.Nums = nums
	i := revisionStart(rest)
	if v.Pre, err = preRelease(rest[:i]); err != nil {
		return Version{}, fmt.Errorf("%w: %q: %w", ErrVersion, truncate(s), err)
	}
	if v.Revision, err = revision(rest[i:]); err != nil {
		return Version{}, fmt.Errorf("%w: %q: %w", ErrVersion, truncate(s), err)
	}
	return v, nil
}

// releaseNumbers splits the dot-separated release numbers off s.
func releaseNumbers(s string) ([]int, string, error) {
	var nums []int
	for {
		n, tail, ok := leadingNumber(s)
		if !ok {
			return nil, "", fmt.Errorf("want a number at %q", truncate(s))
		}
		if len(nums) == maxVersionNums {
			return nil, "", fmt.Errorf("more than %d numbers", maxVersionNums)
		}
		nums = append(nums, n)
		s = tail
		if !strings.HasPrefix(s, ".") || !startsWithDigit(s[1:]) {
			return nums, s, nil
		}
		s = s[1:]
	}
}

// revisionStart returns where the revision starts in s, the text after
// the release numbers, or len(s) when there is none. "-" followed by a
// digit starts one because Debian and RPM revisions start with a digit
// ("2.4.2-3", "1.2.3-1.el9") while pre-releases start with a word.
func revisionStart(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '+', '_':
			return i
		case '-':
			if startsWithDigit(s[i+1:]) || isRepack(s[i+1:]) {
				return i
			}
		case '~':
			if isRepack(s[i+1:]) {
				return i
			}
		}
	}
	return len(s)
}

// repackWords mark an upstream tarball repacked for Debian ("+dfsg",
// "+ds", "+repack"): a release, whatever separator a tag gives them.
var repackWords = []string{"dfsg", "ds", "repack"}

// isRepack reports whether s starts with a repack word that is not the
// beginning of a longer word ("dfsg1" is one, "dsx" is not).
func isRepack(s string) bool {
	for _, w := range repackWords {
		if rest, ok := strings.CutPrefix(s, w); ok && !startsWithLetter(rest) {
			return true
		}
	}
	return false
}

// preRelease reads the pre-release from s, the text between the release
// numbers and the revision.
func preRelease(s string) (string, error) {
	pre := strings.TrimLeft(s, "-~.")
	if pre == "" && s != "" {
		return "", fmt.Errorf("empty pre-release")
	}
	for _, r := range pre {
		if !isPreChar(r) {
			return "", fmt.Errorf("pre-release %q has %q (want letters, digits, '.', '-')", truncate(pre), r)
		}
	}
	return pre, nil
}

// revision reads the revision s, separator included, with "_" read as "+".
func revision(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	rev := strings.ReplaceAll(s, "_", "+")
	if len(rev) < 2 || !isAlnum(rune(rev[1])) {
		return "", fmt.Errorf("revision %q: want a letter or digit after %q", truncate(s), s[:1])
	}
	for _, r := range rev {
		if !isAlnum(r) && !strings.ContainsRune(".+-~", r) {
			return "", fmt.Errorf("revision %q has %q (want letters, digits, '.', '+', '_', '-', '~')", truncate(s), r)
		}
	}
	return rev, nil
}

// isPreChar reports a character of a pre-release (where "_" never occurs,
// as it starts a revision) or of a platform part.
func isPreChar(r rune) bool { return isAlnum(r) || r == '.' || r == '-' || r == '_' }

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

func startsWithLetter(s string) bool { return s != "" && isAlnum(rune(s[0])) && !startsWithDigit(s) }

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
// a Version built in code ("1:6.1.0-rc1+dfsg-2").
func (v Version) String() string {
	if v.Raw != "" {
		return v.Raw
	}
	var b strings.Builder
	if v.Epoch != 0 {
		b.WriteString(strconv.Itoa(v.Epoch) + ":")
	}
	for i, n := range v.Nums {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(n))
	}
	if v.Pre != "" {
		b.WriteByte(preSeparator(v.Pre))
		b.WriteString(v.Pre)
	}
	b.WriteString(v.Revision)
	return b.String()
}

// preSeparator is the separator String writes before pre-release pre:
// "-", unless that would read back as a revision: "-0" and "-dfsg" would,
// "~0" and ".dfsg" do not.
func preSeparator(pre string) byte {
	switch {
	case startsWithDigit(pre):
		return '~'
	case isRepack(pre):
		return '.'
	}
	return '-'
}

// IsPrerelease reports whether v has a pre-release part.
func (v Version) IsPrerelease() bool { return v.Pre != "" }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w:
//
//   - the epoch first (Debian: 1:0.5 > 2.0);
//   - then the numbers, numerically, missing ones as zero;
//   - then a release after its pre-releases; pre-releases piece by piece,
//     numbers numerically and words by byte order ("beta2" < "beta10" <
//     "rc1");
//   - then the revision, as dpkg orders versions: none first, then
//     "-3" < "-10" < "-10ubuntu1" < "+dfsg-1" < "+dfsg-1+b1"; a "~"
//     sorts before nothing ("~dfsg-1" < "").
func (v Version) Compare(w Version) int {
	return cmp.Or(
		cmp.Compare(v.Epoch, w.Epoch),
		compareNums(v.Nums, w.Nums),
		comparePrerelease(v.Pre, w.Pre),
		compareRevision(v.Revision, w.Revision),
	)
}

func compareNums(a, b []int) int {
	for i := range max(len(a), len(b)) {
		if c := cmp.Compare(num(a, i), num(b, i)); c != 0 {
			return c
		}
	}
	return 0
}

func num(ns []int, i int) int {
	if i < len(ns) {
		return ns[i]
	}
	return 0
}

// comparePrerelease orders a release ("") after its pre-releases.
func comparePrerelease(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return comparePre(a, b)
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
		return compareDigits(a, b)
	case da: // numbers sort before words, as in semver
		return -1
	case db:
		return 1
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// compareDigits compares two runs of decimal digits as numbers, however
// long they are.
func compareDigits(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// compareRevision orders revisions as dpkg would order the versions they
// end: what precedes the last "-" belongs to Debian's upstream version
// ("+dfsg" in "+dfsg-1+b1") and is compared first, then the Debian
// revision after it ("1+b1").
func compareRevision(a, b string) int {
	ua, ra := splitDebianRevision(a)
	ub, rb := splitDebianRevision(b)
	return cmp.Or(compareDpkg(ua, ub), compareDpkg(ra, rb))
}

func splitDebianRevision(s string) (upstream, rev string) {
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// compareDpkg is dpkg's verrevcmp: alternating runs of non-digits,
// compared character by character with letters before other characters
// and "~" before anything, even the end, and runs of digits, compared
// numerically.
func compareDpkg(a, b string) int {
	for a != "" || b != "" {
		for (a != "" && !startsWithDigit(a)) || (b != "" && !startsWithDigit(b)) {
			ca, cb := dpkgOrder(a), dpkgOrder(b)
			if ca != cb {
				return cmp.Compare(ca, cb)
			}
			a, b = dropNonDigit(a), dropNonDigit(b)
		}
		da, ta := digitRun(a)
		db, tb := digitRun(b)
		if c := compareDigits(da, db); c != 0 {
			return c
		}
		a, b = ta, tb
	}
	return 0
}

// dpkgOrder is the weight of s's first character while a non-digit run is
// compared: the end of the run or of s weighs 0, "~" less, letters their
// byte, anything else more than any letter.
func dpkgOrder(s string) int {
	switch {
	case s == "" || startsWithDigit(s):
		return 0
	case s[0] == '~':
		return -1
	case isAlnum(rune(s[0])):
		return int(s[0])
	}
	return int(s[0]) + 256
}

func dropNonDigit(s string) string {
	if s == "" || startsWithDigit(s) {
		return s
	}
	return s[1:]
}

func digitRun(s string) (string, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i], s[i:]
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
