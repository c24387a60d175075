package labels

import (
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// A field ties one key to its checker and to the Metadata value it fills.
// Values travel as canonical strings, so parsing and writing share one
// table and cannot drift apart.
type field struct {
	key      string
	own      Source // the schema that owns key
	required bool   // required whenever any org.pgoci.* key is present
	check    checker
	get      func(*Metadata) string // "" when unset
	set      func(*Metadata, string)
}

// fields lists every single-valued key in the order Parse applies them
// (KeyExtensions before the per-extension keys, which need the names).
var fields = []field{
	{KeyPackageName, SourcePgoci, true, checkName,
		func(m *Metadata) string { return m.Package.Name }, func(m *Metadata, v string) { m.Package.Name = v }},
	{KeyPackageVersion, SourcePgoci, true, checkVersion,
		func(m *Metadata) string { return m.Package.Version }, func(m *Metadata, v string) { m.Package.Version = v }},
	{KeyExtensions, SourcePgoci, false, listChecker(checkName), getExtensionNames, setExtensionNames},
	{KeyPGMajor, SourcePgoci, true, checkPGMajor,
		func(m *Metadata) string { return itoa(m.PG.Major) }, func(m *Metadata, v string) { m.PG.Major = atoi(v) }},
	{KeyPGVersionNum, SourcePgoci, false, checkPGVersionNum,
		func(m *Metadata) string { return itoa(m.PG.VersionNum) }, func(m *Metadata, v string) { m.PG.VersionNum = atoi(v) }},
	{KeyPGVersion, SourcePgoci, false, checkVersion,
		func(m *Metadata) string { return m.PG.Version }, func(m *Metadata, v string) { m.PG.Version = v }},
	{KeyLibcFamily, SourcePgoci, false, checkLibcFamily,
		func(m *Metadata) string { return m.Libc.Family }, func(m *Metadata, v string) { m.Libc.Family = v }},
	{KeyLibcVersion, SourcePgoci, false, checkLibcVersion,
		func(m *Metadata) string { return m.Libc.Version }, func(m *Metadata, v string) { m.Libc.Version = v }},
	{KeyLibcRequires, SourcePgoci, false, checkLibcVersion,
		func(m *Metadata) string { return m.Libc.Requires }, func(m *Metadata, v string) { m.Libc.Requires = v }},
	{KeyDistroID, SourcePgoci, false, checkOSName,
		func(m *Metadata) string { return m.Distro.ID }, func(m *Metadata, v string) { m.Distro.ID = v }},
	{KeyDistroVersion, SourcePgoci, false, checkOSName,
		func(m *Metadata) string { return m.Distro.Version }, func(m *Metadata, v string) { m.Distro.Version = v }},
	{KeyDistroCodename, SourcePgoci, false, checkOSName,
		func(m *Metadata) string { return m.Distro.Codename }, func(m *Metadata, v string) { m.Distro.Codename = v }},
	{KeyBaseName, SourcePgoci, false, checkRef,
		func(m *Metadata) string { return m.Base.Name }, func(m *Metadata, v string) { m.Base.Name = v }},
	{KeyBaseDigest, SourcePgoci, false, checkDigest,
		func(m *Metadata) string { return string(m.Base.Digest) }, func(m *Metadata, v string) { m.Base.Digest = digest.Digest(v) }},
	{KeyCompiler, SourcePgoci, false, checkText,
		func(m *Metadata) string { return m.Compiler }, func(m *Metadata, v string) { m.Compiler = v }},
	{KeyICUMajor, SourcePgoci, false, checkICUMajor,
		func(m *Metadata) string { return itoa(m.ICUMajor) }, func(m *Metadata, v string) { m.ICUMajor = atoi(v) }},
	{KeyObjects, SourcePgoci, false, checkObjects,
		func(m *Metadata) string { return encodeObjects(m.Objects) }, setObjects},
	{KeyLayoutVersion, SourcePgoci, false, checkLayoutVersion,
		func(m *Metadata) string { return itoa(m.LayoutVersion) }, func(m *Metadata, v string) { m.LayoutVersion = atoi(v) }},
	{KeyPreload, SourcePgoci, false, listChecker(checkLibrary),
		func(m *Metadata) string { return strings.Join(m.Preload, ",") }, func(m *Metadata, v string) { m.Preload = splitList(v) }},
	{KeyRestart, SourcePgoci, false, checkBool,
		func(m *Metadata) string { return formatBool(m.Restart) }, func(m *Metadata, v string) { m.Restart = parseBool(v) }},
	{KeyModules, SourcePgoci, false, listChecker(checkLibrary),
		func(m *Metadata) string { return strings.Join(m.Modules, ",") }, func(m *Metadata, v string) { m.Modules = splitList(v) }},
	{KeyPrograms, SourcePgoci, false, listChecker(checkLibrary),
		func(m *Metadata) string { return strings.Join(m.Programs, ",") }, func(m *Metadata, v string) { m.Programs = splitList(v) }},
	{KeyOSRequires, SourcePgoci, false, listChecker(checkText),
		func(m *Metadata) string { return strings.Join(m.OSRequires, ",") }, func(m *Metadata, v string) { m.OSRequires = splitList(v) }},
	{KeyLicenses, SourceOCI, false, checkLicenses,
		func(m *Metadata) string { return m.Licenses }, func(m *Metadata, v string) { m.Licenses = v }},
}

// An extField is one per-extension key suffix.
type extField struct {
	suffix string
	check  checker
	get    func(*Extension) string
	set    func(*Extension, string)
}

var extFields = []extField{
	{ExtVersion, checkVersion,
		func(e *Extension) string { return e.Version }, func(e *Extension, v string) { e.Version = v }},
	{ExtRequires, listChecker(checkName),
		func(e *Extension) string { return strings.Join(e.Requires, ",") }, func(e *Extension, v string) { e.Requires = splitList(v) }},
	{ExtTrusted, checkBool,
		func(e *Extension) string { return formatBool(e.Trusted) }, func(e *Extension, v string) { e.Trusted = parseBool(v) }},
	{ExtRelocatable, checkBool,
		func(e *Extension) string { return formatBool(e.Relocatable) }, func(e *Extension, v string) { e.Relocatable = parseBool(v) }},
	{ExtSuperuser, checkBool,
		func(e *Extension) string { return formatBool(e.Superuser) }, func(e *Extension, v string) { e.Superuser = parseBool(v) }},
	{ExtSchema, checkName,
		func(e *Extension) string { return e.Schema }, func(e *Extension, v string) { e.Schema = v }},
}

func findExtField(suffix string) (extField, bool) {
	for _, f := range extFields {
		if f.suffix == suffix {
			return f, true
		}
	}
	return extField{}, false
}

func getExtensionNames(m *Metadata) string {
	names := make([]string, len(m.Extensions))
	for i, e := range m.Extensions {
		names[i] = e.Name
	}
	return strings.Join(names, ",")
}

func setExtensionNames(m *Metadata, v string) {
	m.Extensions = nil
	for _, n := range splitList(v) {
		m.Extensions = append(m.Extensions, Extension{Name: n})
	}
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// atoi is only called on values a checker accepted.
func atoi(v string) int {
	n, _ := strconv.Atoi(v)
	return n
}

func formatBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func parseBool(v string) *bool {
	b := v == "true"
	return &b
}
