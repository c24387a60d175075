package labels

import "strings"

// An anchorMap maps one anchor key onto the pgoci key whose value it
// carries. conv, when set, derives the value (for example base.os
// "bookworm" means distro.version "12"); it reports false when it cannot,
// and the anchor then says nothing about that key.
type anchorMap struct {
	key    string
	src    Source
	target string
	conv   func(string) (string, bool)
}

// anchorMaps is in precedence order within each target key (CloudNativePG,
// then PGXN, then OCI); pgoci's own key always comes first.
//
// org.opencontainers.image.base.name and base.digest are deliberately not
// mapped: in OCI they name the image's literal parent (CloudNativePG
// extension images say "scratch"), while org.pgoci.base.* name the build
// environment the extension must match.
var anchorMaps = []anchorMap{
	{KeyCNPGBaseName, SourceCloudNativePG, KeyBaseName, nil},
	{KeyCNPGBasePGMajor, SourceCloudNativePG, KeyPGMajor, nil},
	{KeyCNPGBaseOS, SourceCloudNativePG, KeyDistroCodename, nil},
	{KeyCNPGBaseOS, SourceCloudNativePG, KeyDistroID, debianField(func(r debianRelease) string { return "debian" })},
	{KeyCNPGBaseOS, SourceCloudNativePG, KeyDistroVersion, debianField(func(r debianRelease) string { return r.version })},
	{KeyCNPGBaseOS, SourceCloudNativePG, KeyLibcFamily, debianField(func(r debianRelease) string { return "glibc" })},
	{KeyCNPGBaseOS, SourceCloudNativePG, KeyLibcVersion, debianField(func(r debianRelease) string { return r.glibc })},
	{KeyPGXNPGMajor, SourcePGXN, KeyPGMajor, nil},
	{KeyPGXNPGVersionNum, SourcePGXN, KeyPGVersionNum, nil},
	{KeyPGXNPGVersion, SourcePGXN, KeyPGVersion, nil},
	{KeyOCIVersion, SourceOCI, KeyPackageVersion, nil},
}

// debianRelease is what a Debian codename implies. CloudNativePG images
// are built on Debian, and base.os is the codename of that release.
type debianRelease struct {
	version string // os-release VERSION_ID
	glibc   string // the glibc upstream version the release ships
}

var debianReleases = map[string]debianRelease{
	"buster":   {"10", "2.28"},
	"bullseye": {"11", "2.31"},
	"bookworm": {"12", "2.36"},
	"trixie":   {"13", "2.41"},
}

// DebianGlibc returns the glibc version a Debian release ships, from its
// codename ("trixie") or its VERSION_ID ("13"); false for a release this
// package does not know.
func DebianGlibc(release string) (string, bool) {
	for codename, r := range debianReleases {
		if release == codename || release == r.version {
			return r.glibc, true
		}
	}
	return "", false
}

func debianField(get func(debianRelease) string) func(string) (string, bool) {
	return func(codename string) (string, bool) {
		r, ok := debianReleases[codename]
		if !ok {
			return "", false
		}
		return get(r), true
	}
}

// isAnchorKey reports whether key is in a namespace whose keys are kept in
// Metadata.Anchors.
func isAnchorKey(key string) bool {
	for _, p := range anchorPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// CompatAnnotations returns the anchor keys that let CloudNativePG and
// generic OCI tools understand a pgoci image: io.cloudnativepg.image.base.*
// from the base image, PG major and distro codename,
// io.cloudnativepg.image.sql.version when the package provides exactly one
// extension, and org.opencontainers.image.version from the package version.
// Each is omitted when the value it needs is unset. Merged with
// [Metadata.Annotations] the result parses without conflicts.
func (m Metadata) CompatAnnotations() map[string]string {
	out := make(map[string]string)
	put := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	put(KeyCNPGBaseName, m.Base.Name)
	put(KeyCNPGBasePGMajor, itoa(m.PG.Major))
	put(KeyCNPGBaseOS, m.Distro.Codename)
	if len(m.Extensions) == 1 {
		put(KeyCNPGSQLVersion, m.Extensions[0].Version)
	}
	put(KeyOCIVersion, m.Package.Version)
	return out
}
