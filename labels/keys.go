package labels

// Namespace is the reverse-DNS prefix of every pgoci key.
const Namespace = "org.pgoci."

// SchemaVersion is the labels schema version this package writes and fully
// understands. A newer value on input is accepted: its unknown org.pgoci.*
// keys are kept in [Metadata.Extra] instead of being errors.
const SchemaVersion = 1

// pgoci keys, schema version 1. See SPEC.md for types and examples.
const (
	// KeySchemaVersion is the labels schema version (int, required).
	KeySchemaVersion = "org.pgoci.schema.version"

	// KeyPackageName is the package name (name, required).
	KeyPackageName = "org.pgoci.package.name"
	// KeyPackageVersion is the package version (version, required).
	KeyPackageVersion = "org.pgoci.package.version"

	// KeyExtensions lists the SQL extensions the package provides (name list).
	KeyExtensions = "org.pgoci.extensions"

	// KeyPGMajor is the PostgreSQL major version built against (int, required).
	KeyPGMajor = "org.pgoci.pg.major"
	// KeyPGVersionNum is PostgreSQL's server_version_num built against (int).
	KeyPGVersionNum = "org.pgoci.pg.version_num"
	// KeyPGVersion is the PostgreSQL version string built against (version).
	KeyPGVersion = "org.pgoci.pg.version"

	// KeyLibcFamily is the C library family: "glibc" or "musl".
	KeyLibcFamily = "org.pgoci.libc.family"
	// KeyLibcVersion is the C library version built against, e.g. "2.36".
	KeyLibcVersion = "org.pgoci.libc.version"

	// KeyDistroID is the os-release ID of the build environment.
	KeyDistroID = "org.pgoci.distro.id"
	// KeyDistroVersion is the os-release VERSION_ID of the build environment.
	KeyDistroVersion = "org.pgoci.distro.version"
	// KeyDistroCodename is the os-release VERSION_CODENAME, e.g. "bookworm".
	KeyDistroCodename = "org.pgoci.distro.codename"

	// KeyBaseName is the reference of the build environment image.
	KeyBaseName = "org.pgoci.base.name"
	// KeyBaseDigest is the digest of the build environment image.
	KeyBaseDigest = "org.pgoci.base.digest"

	// KeyLibcRequires is the highest C library symbol version the
	// binaries require (GLIBC_x.y, read from them at pack), e.g. "2.34":
	// a server whose C library is older cannot load them.
	KeyLibcRequires = "org.pgoci.libc.requires"
	// KeyICUMajor is the ICU major version the modules link (libicuuc.so.NN).
	KeyICUMajor = "org.pgoci.icu.major"
	// KeyObjects records, as JSON, what each ELF file of the image needs
	// to load (see [Object]).
	KeyObjects = "org.pgoci.objects"

	// KeyCompiler names the compiler and its version, e.g. "gcc 14.2.0".
	KeyCompiler = "org.pgoci.compiler"
	// KeyLayoutVersion is the image root layout version (int).
	KeyLayoutVersion = "org.pgoci.layout.version"

	// KeyPreload lists the libraries that must be in shared_preload_libraries.
	KeyPreload = "org.pgoci.preload"
	// KeyRestart says whether a server restart is required (bool).
	KeyRestart = "org.pgoci.restart"
	// KeyModules lists the loadable modules the image carries in lib/, by
	// name without suffix: those of its extensions and those loaded on
	// their own (output plugins, preload-only libraries).
	KeyModules = "org.pgoci.modules"
	// KeyPrograms lists the programs the image carries in bin/.
	KeyPrograms = "org.pgoci.programs"
	// KeyOSRequires lists OS packages the modules need at run time.
	KeyOSRequires = "org.pgoci.os.requires"

	// KeyLicenses is the SPDX license expression. pgoci uses the standard
	// OCI key rather than a key of its own.
	KeyLicenses = "org.opencontainers.image.licenses"
)

// Per-extension keys are KeyExtensionPrefix + name + "." + suffix, e.g.
// "org.pgoci.extension.postgis.version". Use [ExtensionKey] to build them.
const (
	KeyExtensionPrefix = "org.pgoci.extension."

	// ExtVersion is the extension's default_version (version).
	ExtVersion = "version"
	// ExtRequires lists the extensions it requires (name list).
	ExtRequires = "requires"
	// ExtTrusted is the control file's trusted flag (bool).
	ExtTrusted = "trusted"
	// ExtRelocatable is the control file's relocatable flag (bool).
	ExtRelocatable = "relocatable"
	// ExtSuperuser is the control file's superuser flag (bool).
	ExtSuperuser = "superuser"
	// ExtSchema is the control file's schema (name).
	ExtSchema = "schema"
)

// ExtensionKey returns the key of one per-extension field, e.g.
// ExtensionKey("postgis", ExtVersion) is "org.pgoci.extension.postgis.version".
func ExtensionKey(name, suffix string) string {
	return KeyExtensionPrefix + name + "." + suffix
}

// Anchor keys: the keys of other schemas that Parse reads.
const (
	// CloudNativePG extension images (postgres-extensions-containers).
	KeyCNPGBaseName    = "io.cloudnativepg.image.base.name"
	KeyCNPGBasePGMajor = "io.cloudnativepg.image.base.pgmajor"
	KeyCNPGBaseOS      = "io.cloudnativepg.image.base.os"
	KeyCNPGSQLVersion  = "io.cloudnativepg.image.sql.version"

	// PGXN trunk images (the trunk OCI proof of concept).
	KeyPGXNPGVersion    = "org.pgxn.trunk.pg.version"
	KeyPGXNPGMajor      = "org.pgxn.trunk.pg.major"
	KeyPGXNPGVersionNum = "org.pgxn.trunk.pg.version_num"
	KeyPGXNVersion      = "org.pgxn.trunk.version"

	// OCI pre-defined annotation keys (image-spec annotations.md).
	KeyOCIVersion    = "org.opencontainers.image.version"
	KeyOCITitle      = "org.opencontainers.image.title"
	KeyOCISource     = "org.opencontainers.image.source"
	KeyOCIBaseName   = "org.opencontainers.image.base.name"
	KeyOCIBaseDigest = "org.opencontainers.image.base.digest"
)

// anchorPrefixes are the namespaces whose keys are kept in Metadata.Anchors.
var anchorPrefixes = []string{"io.cloudnativepg.", "org.pgxn.trunk.", "org.opencontainers.image."}
