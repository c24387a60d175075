package resolve

import (
	"fmt"
	"strings"
)

// Constraint selects package versions. Parse one with [ParseConstraint].
// The zero value (and "latest", "*") accepts every release.
type Constraint struct {
	clauses []clause
	raw     string
	// preBases are the release numbers of the pre-releases the user's
	// clauses name: a pre-release matches a range only when it is of one
	// of them, as in semver (">=1.0-beta1" admits 1.0-beta2, not
	// 3.0-alpha1). Exact clauses always may.
	preBases [][]int
}

type clause struct {
	op string // "=", "!=", ">", ">=", "<", "<="
	v  Version
	// withEpoch is set when the clause's version names an epoch ("1:6.1");
	// without one the candidate's epoch is not compared.
	withEpoch bool
	// bound is set for the upper bound ~ and ^ add: its "-0" pre-release
	// only excludes pre-releases, it does not invite them.
	bound bool
}

const maxConstraintLen = 512

// ParseConstraint parses a version constraint:
//
//   - "" , "latest" or "*": the highest release;
//   - "1.4" or "=1.4": exactly that version ("1.4" equals "1.4.0");
//   - comparisons ">=1.2", ">1.2", "<2", "<=2.1", "!=1.3", combined with
//     commas or spaces, all of which must hold: ">=1.2,<2";
//   - "~1.4": ">=1.4,<1.5" ("~1" is ">=1,<2");
//   - "^2": ">=2,<3"; "^0.8" is ">=0.8,<0.9", "^0.0.3" is ">=0.0.3,<0.0.4".
//
// Pre-releases ("1.0-beta1") match only an exact clause, or a range one of
// whose clauses names a pre-release of the same release, as in semver.
//
// A clause compares only the parts of a version it names: "0.8.1" (or
// "=0.8.1") matches the packaged releases "0.8.1-3" and "0.8.1+dfsg-1"
// and the epoch version "1:0.8.1", since a user asking for upstream 0.8.1
// wants a build of it; ">0.8.1" matches none of them, "<=0.8.1" all.
// "=0.8.1-3" names a revision and matches that one only, "=1:0.8.1" an
// epoch. Errors wrap [ErrConstraint].
func ParseConstraint(s string) (Constraint, error) {
	c := Constraint{raw: s}
	if len(s) > maxConstraintLen {
		return Constraint{}, fmt.Errorf("%w: %q: longer than %d bytes", ErrConstraint, truncate(s), maxConstraintLen)
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if f == "latest" || f == "*" {
			continue
		}
		// Allow ">= 1.2" with a space between operator and version.
		if isOperator(f) && i+1 < len(fields) {
			f += fields[i+1]
			i++
		}
		cl, err := parseClause(f)
		if err != nil {
			return Constraint{}, fmt.Errorf("%w: %q: %w", ErrConstraint, truncate(s), err)
		}
		for _, x := range cl {
			if x.v.Pre != "" && !x.bound && x.op != "!=" {
				c.preBases = append(c.preBases, x.v.Nums)
			}
		}
		c.clauses = append(c.clauses, cl...)
	}
	return c, nil
}

func isOperator(s string) bool {
	switch s {
	case "=", "==", "!=", ">", ">=", "<", "<=", "~", "^":
		return true
	}
	return false
}

func parseClause(f string) ([]clause, error) {
	for _, op := range []string{">=", "<=", "!=", "==", ">", "<", "=", "~", "^"} {
		rest, ok := strings.CutPrefix(f, op)
		if !ok {
			continue
		}
		v, err := ParseVersion(rest)
		if err != nil {
			return nil, err
		}
		withEpoch := hasEpoch(rest)
		switch op {
		case "~":
			return []clause{{op: ">=", v: v, withEpoch: withEpoch}, {op: "<", v: bump(v, tildeIndex(v)), bound: true, withEpoch: withEpoch}}, nil
		case "^":
			return []clause{{op: ">=", v: v, withEpoch: withEpoch}, {op: "<", v: bump(v, caretIndex(v)), bound: true, withEpoch: withEpoch}}, nil
		case "==":
			op = "="
		}
		return []clause{{op: op, v: v, withEpoch: withEpoch}}, nil
	}
	v, err := ParseVersion(f)
	if err != nil {
		return nil, err
	}
	return []clause{{op: "=", v: v, withEpoch: hasEpoch(f)}}, nil
}

// hasEpoch reports whether a version that parsed names an epoch: ":"
// appears nowhere else in one.
func hasEpoch(s string) bool { return strings.Contains(s, ":") }

// tildeIndex is the number ~ bumps: the minor when given, else the major.
func tildeIndex(v Version) int {
	if len(v.Nums) >= 2 {
		return 1
	}
	return 0
}

// caretIndex is the number ^ bumps: the first non-zero one, or the last.
func caretIndex(v Version) int {
	for i, n := range v.Nums {
		if n != 0 {
			return i
		}
	}
	return len(v.Nums) - 1
}

// bump returns the smallest pre-release of v with Nums[i] incremented and
// later numbers dropped, so that "<bump" excludes 2.0-beta1 from ^1.
func bump(v Version, i int) Version {
	nums := append([]int(nil), v.Nums[:i+1]...)
	nums[i]++
	return Version{Epoch: v.Epoch, Nums: nums, Pre: "0"}
}

// String returns the constraint as given.
func (c Constraint) String() string {
	if c.raw == "" {
		return "latest"
	}
	return c.raw
}

// IsExact reports whether c names one version (a single "=" clause), with
// its revisions unless it names one ("0.8.1" matches 0.8.1-3 too).
func (c Constraint) IsExact() bool {
	return len(c.clauses) == 1 && c.clauses[0].op == "="
}

// Match reports whether v satisfies every clause of c, and is a release
// or a pre-release c asks for.
func (c Constraint) Match(v Version) bool {
	return c.matchClauses(v) && c.admitsPre(v)
}

// matchClauses reports whether v satisfies every clause of c, whether it
// is a pre-release or not.
func (c Constraint) matchClauses(v Version) bool {
	for _, cl := range c.clauses {
		if !cl.match(v) {
			return false
		}
	}
	return true
}

func (cl clause) match(v Version) bool {
	cmp := cl.compare(v)
	switch cl.op {
	case "=":
		return cmp == 0
	case "!=":
		return cmp != 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	}
	return false
}

// compare compares v with the clause's version on the parts the clause
// names: the epoch only when it names one, the revision only when it
// names one.
func (cl clause) compare(v Version) int {
	if !cl.withEpoch {
		v.Epoch = cl.v.Epoch
	}
	if cl.v.Revision == "" {
		v.Revision = ""
	}
	return v.Compare(cl.v)
}

// admitsPre reports whether v is a release, or a pre-release that an
// exact clause or one naming a pre-release of its release asks for.
func (c Constraint) admitsPre(v Version) bool {
	if !v.IsPrerelease() || c.preOf(v) {
		return true
	}
	for _, cl := range c.clauses {
		if cl.op == "=" {
			return true
		}
	}
	return false
}

// preOf reports whether a clause names a pre-release of v's release.
func (c Constraint) preOf(v Version) bool {
	for _, b := range c.preBases {
		if sameRelease(b, v.Nums) {
			return true
		}
	}
	return false
}

// sameRelease compares release numbers, missing ones being 0 ("1.0" is
// "1.0.0").
func sameRelease(a, b []int) bool {
	for i := range max(len(a), len(b)) {
		if num(a, i) != num(b, i) {
			return false
		}
	}
	return true
}
