package resolve

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/labels"
)

// Policy selects how strictly an image must fit a [Target].
type Policy int

const (
	// Default requires the same PostgreSQL major, a platform the server
	// runs (see [MatchPlatform]), the same libc family, an image libc
	// version no newer than the server's, and binaries that require no
	// newer libc than the server's (org.pgoci.libc.requires). A property
	// unknown on either side passes and is reported. The distribution,
	// base image, ICU major and compiler are reported, not checked.
	Default Policy = iota
	// Strict requires everything Default does, with every property known
	// on both sides, and the same build environment: the same base image
	// digest, or else the same distribution ID and version. When the base
	// image digests are known and equal, libc and distribution may be
	// unknown (the same image has the same C library). The ICU major and
	// the compiler (family and major version), when both sides know
	// them, must be the same.
	Strict
	// Permissive checks only the PostgreSQL major and the platform;
	// unknown values pass and are reported.
	Permissive
)

// String returns "default", "strict" or "permissive".
func (p Policy) String() string {
	switch p {
	case Default:
		return "default"
	case Strict:
		return "strict"
	case Permissive:
		return "permissive"
	}
	return "policy(" + strconv.Itoa(int(p)) + ")"
}

// ParsePolicy parses a policy name as [Policy.String] writes it: "default"
// (or ""), "strict" or "permissive". Errors wrap [ErrPolicy].
func ParsePolicy(s string) (Policy, error) {
	for _, p := range []Policy{Default, Strict, Permissive} {
		if s == p.String() {
			return p, nil
		}
	}
	if s == "" {
		return Default, nil
	}
	return Default, fmt.Errorf("%w: %q (want default, strict or permissive)", ErrPolicy, s)
}

// Property names a property the compatibility check compares.
type Property string

// Properties, in the order a [Check] reports them.
const (
	PropPGMajor     Property = "pg.major"
	PropPlatform    Property = "platform"
	PropLibcFamily  Property = "libc.family"
	PropLibcVersion Property = "libc.version"
	// PropLibcRequires compares the C library version the image's
	// binaries require (read from them at pack) with the server's.
	PropLibcRequires Property = "libc.requires"
	// PropICU compares the ICU major the modules link with the server's.
	PropICU Property = "icu.major"
	// PropCompiler compares the compiler that built the modules with the
	// server's.
	PropCompiler Property = "compiler"
	PropDistro   Property = "distro"
	PropBase     Property = "base.digest"
	// PropLabels is a candidate whose labels do not parse.
	PropLabels Property = "labels"
)

// Status is the outcome of comparing one property.
type Status int

const (
	// Match: known on both sides and compatible.
	Match Status = iota
	// Mismatch: incompatible, or unknown under [Strict]. Rejects the image.
	Mismatch
	// Unknown: missing on one side; passes under [Default] and [Permissive].
	Unknown
	// Ignored: compared for the report only; the policy does not check it.
	Ignored
)

// String returns "match", "mismatch", "unknown" or "ignored".
func (s Status) String() string {
	switch s {
	case Match:
		return "match"
	case Mismatch:
		return "mismatch"
	case Unknown:
		return "unknown"
	case Ignored:
		return "ignored"
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// Finding is the comparison of one property: what the target wants and
// what the image has ("" when unknown).
type Finding struct {
	Property Property
	Want     string
	Found    string
	Status   Status
}

// String renders f as e.g. `libc.version: want <= 2.36, found 2.41 (mismatch)`.
func (f Finding) String() string {
	return fmt.Sprintf("%s: want %s, found %s (%s)", f.Property, orUnknown(f.Want), orUnknown(f.Found), f.Status)
}

// Check compares an image, described by its platform and parsed labels,
// with target t under policy p. It returns every finding; when one is a
// [Mismatch] it also returns an *[IncompatibleError] with one candidate
// (its Descriptor empty) that wraps [ErrIncompatible].
func Check(p Policy, t Target, platform ocispec.Platform, m labels.Metadata) ([]Finding, error) {
	fs := compare(p, t, platform, m)
	for _, f := range fs {
		if f.Status == Mismatch {
			return fs, &IncompatibleError{Target: t, Policy: p,
				Candidates: []Candidate{{Platform: platform, Findings: fs}}}
		}
	}
	return fs, nil
}

func compare(p Policy, t Target, platform ocispec.Platform, m labels.Metadata) []Finding {
	sameBase := t.Base.Digest != "" && t.Base.Digest == m.Base.Digest
	unknown := Unknown
	if p == Strict {
		unknown = Mismatch
	}
	fs := []Finding{
		comparePG(t, m, unknown),
		comparePlatform(t, platform, unknown),
	}
	envUnknown := unknown
	if sameBase {
		envUnknown = Unknown
	}
	libc := []Finding{compareLibcFamily(t, m, envUnknown), compareLibcVersion(t, m, envUnknown), compareLibcRequires(t, m)}
	env := []Finding{compareDistro(t, m, envUnknown), compareBase(t, m)}
	build := []Finding{compareICU(t, m), compareCompiler(t, m)}
	switch p {
	case Permissive:
		for i := range libc {
			libc[i].Status = ignore(libc[i].Status)
		}
		fallthrough
	case Default:
		for i := range env {
			env[i].Status = ignore(env[i].Status)
		}
		for i := range build {
			build[i].Status = ignore(build[i].Status)
		}
	case Strict:
		// Either the same base image or the same distribution suffices.
		if env[0].Status == Match || env[1].Status == Match {
			env[0].Status, env[1].Status = keepMatch(env[0].Status), keepMatch(env[1].Status)
		} else if env[1].Status == Unknown {
			env[1].Status = Mismatch
		}
	}
	// The facts read from binaries are reported only when the image
	// states them: older images and CloudNativePG's do not.
	return slices.DeleteFunc(append(append(append(fs, libc...), env...), build...), func(f Finding) bool {
		return f.Found == "" && (f.Property == PropLibcRequires || f.Property == PropICU || f.Property == PropCompiler)
	})
}

func ignore(s Status) Status {
	if s == Mismatch {
		return Ignored
	}
	return s
}

func keepMatch(s Status) Status {
	if s == Match {
		return Match
	}
	return Ignored
}

func comparePG(t Target, m labels.Metadata, unknown Status) Finding {
	f := Finding{Property: PropPGMajor, Want: itoa(t.PG.Major), Found: itoa(imageMajor(m.PG))}
	f.Status = equalStatus(f.Want, f.Found, unknown)
	return f
}

// imageMajor is the PostgreSQL major an image was built for: its major
// label, else what its version_num (160004) or version ("16.4") says, so
// that an image labelled only by those is not taken as "unknown".
func imageMajor(pg labels.PG) int {
	switch {
	case pg.Major != 0:
		return pg.Major
	case pg.VersionNum >= 100000:
		return pg.VersionNum / 10000
	}
	n := 0
	for _, r := range pg.Version {
		if r < '0' || r > '9' || n > 1000 {
			break
		}
		n = n*10 + int(r-'0')
	}
	return n
}

func comparePlatform(t Target, platform ocispec.Platform, unknown Status) Finding {
	f := Finding{Property: PropPlatform, Want: PlatformString(t.Platform), Found: PlatformString(platform)}
	switch {
	case !platformKnown(t.Platform) || !platformKnown(platform):
		f.Status = unknown
	case !platformOK(t.Platform, platform):
		f.Status = Mismatch
	}
	return f
}

func platformOK(want, have ocispec.Platform) bool {
	_, ok := MatchPlatform(want, have)
	return ok
}

// imageLibc is the C library an image was built against: its libc labels,
// else, for a Debian build that names its release, the glibc that release
// ships (a trixie build needs glibc 2.41 whether or not it says so).
func imageLibc(m labels.Metadata) labels.Libc {
	l := m.Libc
	if l.Version != "" || (l.Family != "" && l.Family != "glibc") || (m.Distro.ID != "" && m.Distro.ID != "debian") {
		return l
	}
	for _, release := range []string{m.Distro.Codename, m.Distro.Version} {
		if v, ok := labels.DebianGlibc(release); ok && release != "" {
			return labels.Libc{Family: "glibc", Version: v}
		}
	}
	return l
}

func compareLibcFamily(t Target, m labels.Metadata, unknown Status) Finding {
	m.Libc = imageLibc(m)
	f := Finding{Property: PropLibcFamily, Want: t.Libc.Family, Found: m.Libc.Family}
	f.Status = equalStatus(f.Want, f.Found, unknown)
	return f
}

// compareLibcVersion wants the image's libc no newer than the server's: a
// module linked against a newer glibc needs symbols the server lacks.
func compareLibcVersion(t Target, m labels.Metadata, unknown Status) Finding {
	m.Libc = imageLibc(m)
	f := Finding{Property: PropLibcVersion, Found: m.Libc.Version}
	if t.Libc.Version != "" {
		f.Want = "<= " + t.Libc.Version
	}
	c, ok := compareDotted(m.Libc.Version, t.Libc.Version)
	switch {
	case t.Libc.Family != "" && m.Libc.Family != "" && t.Libc.Family != m.Libc.Family:
		f.Status = Ignored // versions of different C libraries do not compare
	case !ok:
		f.Status = unknown
	case c > 0:
		f.Status = Mismatch
	}
	return f
}

// compareLibcRequires wants the C library version the binaries require
// no newer than the server's: a fact read from them, so an image that
// does not say is Unknown under every policy (libc.version carries the
// strictness).
func compareLibcRequires(t Target, m labels.Metadata) Finding {
	f := Finding{Property: PropLibcRequires, Found: m.Libc.Requires, Status: Unknown}
	if t.Libc.Version != "" {
		f.Want = "<= " + t.Libc.Version
	}
	if t.Libc.Family != "" && t.Libc.Family != "glibc" {
		f.Status = Ignored // the label names a GLIBC_x.y symbol version
		return f
	}
	if c, ok := compareDotted(m.Libc.Requires, t.Libc.Version); ok {
		f.Status = Match
		if c > 0 {
			f.Status = Mismatch
		}
	}
	return f
}

// compareICU reports a module linking another ICU major than the
// server's: collation order can differ between them. Unknown on either
// side (or a module that links no ICU) is Unknown.
func compareICU(t Target, m labels.Metadata) Finding {
	f := Finding{Property: PropICU, Want: itoa(t.ICUMajor), Found: itoa(m.ICUMajor)}
	f.Status = equalStatus(f.Want, f.Found, Unknown)
	return f
}

// compareCompiler compares compiler family and major version ("gcc 12"
// from "gcc 12.2.0"): PostgreSQL's advice is to build extensions with the
// server's compiler.
func compareCompiler(t Target, m labels.Metadata) Finding {
	f := Finding{Property: PropCompiler, Want: t.Compiler, Found: m.Compiler}
	f.Status = equalStatus(compilerMajor(t.Compiler), compilerMajor(m.Compiler), Unknown)
	return f
}

// compilerMajor is "gcc 12" for "gcc 12.2.0", "" when s is not "<name>
// <version>".
func compilerMajor(s string) string {
	name, version, ok := strings.Cut(s, " ")
	if !ok || name == "" {
		return ""
	}
	major, _, _ := strings.Cut(version, ".")
	return strings.ToLower(name) + " " + major
}

func compareDistro(t Target, m labels.Metadata, unknown Status) Finding {
	f := Finding{Property: PropDistro, Want: joinDash(t.Distro.ID, t.Distro.Version), Found: joinDash(m.Distro.ID, m.Distro.Version)}
	if t.Distro.ID == "" || t.Distro.Version == "" || m.Distro.ID == "" || m.Distro.Version == "" {
		f.Status = unknown
	} else if f.Want != f.Found {
		f.Status = Mismatch
	}
	return f
}

// compareBase reports Unknown, never Mismatch, for a missing digest; the
// Strict policy decides what that means together with the distribution.
func compareBase(t Target, m labels.Metadata) Finding {
	f := Finding{Property: PropBase, Want: t.Base.Digest.String(), Found: m.Base.Digest.String()}
	f.Status = equalStatus(f.Want, f.Found, Unknown)
	return f
}

func equalStatus(want, found string, unknown Status) Status {
	switch {
	case want == "" || found == "":
		return unknown
	case want != found:
		return Mismatch
	}
	return Match
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// compareDotted compares dotted decimal versions ("2.36" < "2.41",
// "2.4" < "2.36", "1.2" == "1.2.0"). ok is false when either is empty or
// not dotted decimal.
func compareDotted(a, b string) (c int, ok bool) {
	as, aok := dotted(a)
	bs, bok := dotted(b)
	if !aok || !bok {
		return 0, false
	}
	for i := range max(len(as), len(bs)) {
		if c := cmp.Compare(num(as, i), num(bs, i)); c != 0 {
			return c, true
		}
	}
	return 0, true
}

func dotted(s string) ([]int, bool) {
	if s == "" {
		return nil, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 8 {
		return nil, false
	}
	ns := make([]int, len(parts))
	for i, p := range parts {
		n, rest, ok := leadingNumber(p)
		if !ok || rest != "" {
			return nil, false
		}
		ns[i] = n
	}
	return ns, true
}
