package resolve

import (
	"fmt"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/labels"
)

// Target describes the PostgreSQL server an extension must load into. Build
// one with [Detect] on the server's machine, with [TargetFromLabels] from a
// PostgreSQL image's labels (an operator resolving for pods it does not run
// in), or by filling the fields. A zero field is unknown.
type Target struct {
	// PG is the server's major version, version_num and version string.
	PG labels.PG `json:"pg"`
	// Platform is the server's OS, architecture and variant.
	Platform ocispec.Platform `json:"platform"`
	// Libc is the server's C library family and version.
	Libc labels.Libc `json:"libc,omitzero"`
	// Distro is the server's OS distribution (os-release ID, VERSION_ID).
	Distro labels.Distro `json:"distro,omitzero"`
	// Base is the server's image, when it runs from one.
	Base labels.Base `json:"base,omitzero"`
	// ICUMajor is the ICU major the server executable links, 0 when
	// unknown or none.
	ICUMajor int `json:"icuMajor,omitempty"`
	// Compiler is the compiler that built the server ("gcc 12.2.0"), ""
	// when unknown.
	Compiler string `json:"compiler,omitempty"`
}

// String renders the target on one line, e.g.
// "pg 18 linux/amd64 glibc-2.36 debian-12".
func (t Target) String() string {
	parts := []string{fmt.Sprintf("pg %s", orUnknown(pgString(t.PG)))}
	parts = append(parts, orUnknown(PlatformString(t.Platform)))
	if t.Libc.Family != "" {
		parts = append(parts, joinDash(t.Libc.Family, t.Libc.Version))
	}
	if t.Distro.ID != "" {
		parts = append(parts, joinDash(t.Distro.ID, t.Distro.Version))
	}
	if t.Base.Digest != "" {
		parts = append(parts, "base "+t.Base.Digest.String())
	}
	return strings.Join(parts, " ")
}

// PlatformString renders p as os/arch[/variant].
func PlatformString(p ocispec.Platform) string {
	if p.OS == "" && p.Architecture == "" {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// TargetFromLabels builds the target described by the labels of a
// PostgreSQL server image (pgoci keys or a CloudNativePG image's
// io.cloudnativepg.image.* keys) and its platform. It is
// [labels.Metadata.Target] with the platform and the base image digest
// added; baseDigest is the digest of that image's manifest, if known,
// and otherwise m's base digest is used. Like labels.Metadata.Target it
// needs the PostgreSQL major.
func TargetFromLabels(m labels.Metadata, platform ocispec.Platform, baseDigest digest.Digest) (Target, error) {
	lt, err := m.Target()
	if err != nil {
		return Target{}, err
	}
	t := Target{
		PG:       labels.PG{Major: lt.PGMajor, VersionNum: lt.PGVersionNum, Version: m.PG.Version},
		Platform: platform,
		Libc:     labels.Libc{Family: lt.LibcFamily, Version: lt.LibcVersion},
		Distro:   labels.Distro{ID: lt.DistroID, Version: lt.DistroVersion, Codename: lt.DistroCodename},
		Base:     labels.Base{Name: lt.BaseName, Digest: m.Base.Digest},
	}
	if baseDigest != "" {
		t.Base.Digest = baseDigest
	}
	return t, nil
}

func pgString(pg labels.PG) string {
	switch {
	case pg.Version != "":
		return pg.Version
	case pg.Major != 0:
		return fmt.Sprint(pg.Major)
	}
	return ""
}

func joinDash(a, b string) string {
	if b == "" {
		return a
	}
	return a + "-" + b
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}
