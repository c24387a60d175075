package resolve

import (
	"fmt"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// annotationDockerReferenceType marks the attestation manifests BuildKit
// puts in an index (with platform unknown/unknown).
const annotationDockerReferenceType = "vnd.docker.reference.type"

// NormalizePlatform spells p the way pgoci compares platforms: lower case,
// architecture aliases resolved (x86_64 -> amd64, aarch64 -> arm64,
// armhf -> arm/v7, armel -> arm/v6, i386/i686 -> 386), and the default
// variant made explicit (arm64 -> v8, amd64 -> v1, arm -> v7).
// OSVersion and OSFeatures are kept.
func NormalizePlatform(p ocispec.Platform) ocispec.Platform {
	p.OS = strings.ToLower(p.OS)
	p.Architecture = strings.ToLower(p.Architecture)
	p.Variant = strings.ToLower(p.Variant)
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	case "i386", "i486", "i586", "i686", "x86":
		p.Architecture = "386"
	}
	switch p.Architecture {
	case "arm64":
		if p.Variant == "" || p.Variant == "8" {
			p.Variant = "v8"
		}
	case "amd64":
		if p.Variant == "" {
			p.Variant = "v1"
		}
	case "arm":
		switch p.Variant {
		case "", "7":
			p.Variant = "v7"
		case "6", "5", "8":
			p.Variant = "v" + p.Variant
		}
	}
	return p
}

// MatchPlatform reports whether an image built for have runs on a server
// of platform want, and how well: distance 0 is an exact match, a larger
// one a further variant fallback (an amd64/v3 server takes v3, v2, v1
// images in that order; an arm/v7 server takes v7, v6, v5; arm64 v8 equals
// no variant). The OS and architecture must be equal after normalisation.
func MatchPlatform(want, have ocispec.Platform) (distance int, ok bool) {
	w, h := NormalizePlatform(want), NormalizePlatform(have)
	if w.OS != h.OS || w.Architecture != h.Architecture {
		return 0, false
	}
	if w.Variant == h.Variant {
		return 0, true
	}
	wl, wok := variantLevel(w.Variant)
	hl, hok := variantLevel(h.Variant)
	if !wok || !hok || hl > wl {
		return 0, false
	}
	return wl - hl, true
}

// variantLevel orders the variants of one architecture: "v3" -> 300,
// "v8.2" -> 802. Fallback is only ever downwards.
func variantLevel(v string) (int, bool) {
	major, minor, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	a, err := strconv.Atoi(major)
	if err != nil || a < 0 || a > 99 {
		return 0, false
	}
	b := 0
	if minor != "" {
		if b, err = strconv.Atoi(minor); err != nil || b < 0 || b > 99 {
			return 0, false
		}
	}
	return a*100 + b, true
}

// isAttestation reports index entries that are not runnable images:
// BuildKit attestations (unknown/unknown, vnd.docker.reference.type).
func isAttestation(d ocispec.Descriptor) bool {
	if _, ok := d.Annotations[annotationDockerReferenceType]; ok {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

func platformKnown(p ocispec.Platform) bool { return p.OS != "" && p.Architecture != "" }

// ParsePlatform parses "os/arch[/variant]", e.g. "linux/arm64/v8", as
// [PlatformString] renders it. Errors wrap [ErrPlatform].
func ParsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || len(s) > 128 {
		return ocispec.Platform{}, fmt.Errorf("%w: %q: want os/arch[/variant]", ErrPlatform, truncate(s))
	}
	for _, p := range parts {
		if p == "" || strings.ContainsFunc(p, func(r rune) bool { return !isPreChar(r) }) {
			return ocispec.Platform{}, fmt.Errorf("%w: %q: want os/arch[/variant] of letters, digits, '.', '-', '_'", ErrPlatform, truncate(s))
		}
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}
