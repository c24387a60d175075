package labels

import (
	_ "crypto/sha256" // digest.Parse accepts only registered algorithms
	_ "crypto/sha512"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// A checker validates one raw value and returns its canonical form, or a
// reason saying what was expected.
type checker func(string) (canon, reason string)

const (
	maxNameLen    = 63 // NAMEDATALEN-1
	maxVersionLen = 128
	maxRefLen     = 512
	maxTextLen    = 256
	maxListItems  = 256
)

// checkName accepts an extension, package or schema name: a letter or '_'
// then letters, digits, '_' or '-' (uuid-ossp), at most 63 bytes, without
// "--" or a trailing '-' (PostgreSQL refuses those in extension names).
func checkName(v string) (string, string) {
	const want = "a name: a letter or '_', then letters, digits, '_' or '-', at most 63 bytes"
	if v == "" || len(v) > maxNameLen || strings.Contains(v, "--") || strings.HasSuffix(v, "-") {
		return "", want
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		ok := c == '_' || isLetter(c) || (i > 0 && (isDigit(c) || c == '-'))
		if !ok {
			return "", want
		}
	}
	return v, ""
}

// checkVersion accepts a non-empty run of printable ASCII without spaces or
// commas, at most 128 bytes.
func checkVersion(v string) (string, string) {
	if v == "" || len(v) > maxVersionLen || !allBytes(v, func(c byte) bool { return c > ' ' && c < 0x7f && c != ',' }) {
		return "", "a version: 1-128 printable ASCII characters, no spaces or commas"
	}
	return v, ""
}

// checkRef accepts an image reference: printable ASCII without spaces.
func checkRef(v string) (string, string) {
	if v == "" || len(v) > maxRefLen || !allBytes(v, func(c byte) bool { return c > ' ' && c < 0x7f }) {
		return "", "an image reference: 1-512 printable ASCII characters, no spaces"
	}
	return v, ""
}

// checkText accepts printable ASCII with inner spaces, at most 256 bytes.
func checkText(v string) (string, string) {
	if v == "" || len(v) > maxTextLen || v != strings.TrimSpace(v) ||
		!allBytes(v, func(c byte) bool { return c >= ' ' && c < 0x7f && c != ',' }) {
		return "", "text: 1-256 printable ASCII characters, no commas, no leading or trailing space"
	}
	return v, ""
}

func checkDigest(v string) (string, string) {
	d, err := digest.Parse(v)
	if err != nil {
		return "", "a digest such as sha256:<64 hex digits>"
	}
	return d.String(), ""
}

func checkBool(v string) (string, string) {
	if v != "true" && v != "false" {
		return "", `"true" or "false"`
	}
	return v, ""
}

// intChecker accepts decimal digits without sign or leading zeros in [lo, hi].
func intChecker(lo, hi int) checker {
	return func(v string) (string, string) {
		reason := "an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)
		if v == "" || len(v) > 9 || (v[0] == '0' && v != "0") || !allBytes(v, isDigit) {
			return "", reason
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return "", reason
		}
		return v, ""
	}
}

// tokenChecker accepts 1..max bytes from the set ok.
func tokenChecker(max int, ok func(byte) bool, reason string) checker {
	return func(v string) (string, string) {
		if v == "" || len(v) > max || !allBytes(v, ok) {
			return "", reason
		}
		return v, ""
	}
}

var (
	checkSchemaVersion = intChecker(1, 999)
	checkPGMajor       = intChecker(10, 999)
	checkPGVersionNum  = intChecker(100000, 9999999)
	checkLayoutVersion = intChecker(1, 999)
	checkICUMajor      = intChecker(1, 999)

	// os-release: ID and VERSION_CODENAME are lowercase a-z, 0-9, '.', '_', '-'.
	checkOSName = tokenChecker(64, func(c byte) bool {
		return (c >= 'a' && c <= 'z') || isDigit(c) || c == '.' || c == '_' || c == '-'
	}, "lowercase letters, digits, '.', '_' or '-' (os-release), at most 64 bytes")
	checkLibrary = tokenChecker(255, func(c byte) bool {
		return isLetter(c) || isDigit(c) || strings.IndexByte("_.$/-", c) >= 0
	}, "a library name: letters, digits, '_', '.', '$', '/' or '-'")
)

func checkLibcFamily(v string) (string, string) {
	if v != "glibc" && v != "musl" {
		return "", `"glibc" or "musl"`
	}
	return v, ""
}

// checkLibcVersion accepts dotted numbers: 2.36, 1.2.5.
func checkLibcVersion(v string) (string, string) {
	const reason = "a dotted version such as 2.36 or 1.2.5"
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return "", reason
	}
	for _, p := range parts {
		if p == "" || len(p) > 4 || !allBytes(p, isDigit) {
			return "", reason
		}
	}
	return v, ""
}

// listChecker accepts a comma list whose items pass item after trimming
// spaces; it returns the list joined by "," without spaces.
func listChecker(item checker) checker {
	return func(v string) (string, string) {
		items := strings.Split(v, ",")
		if len(items) > maxListItems {
			return "", "a comma list of at most 256 items"
		}
		seen := make(map[string]bool, len(items))
		for i, it := range items {
			it = strings.Trim(it, " ")
			if it == "" {
				return "", "a comma list without empty items"
			}
			c, reason := item(it)
			if reason != "" {
				return "", "a comma list of items each " + reason
			}
			if seen[c] {
				return "", "a comma list without duplicates (" + strconv.Quote(c) + " repeats)"
			}
			seen[c] = true
			items[i] = c
		}
		return strings.Join(items, ","), ""
	}
}

func splitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
