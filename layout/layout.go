package layout

// LayoutVersion is the version of the image root layout described by the
// Dir constants. It is recorded in image labels so that a reader can refuse a
// layout it does not understand. Version 1 is the CloudNativePG image-volume
// layout.
const LayoutVersion = 1

// Paths of the image root layout, relative to the root and slash-separated.
//
// They follow the CloudNativePG image-volume extension images: the
// postgres-extensions-containers Dockerfiles copy the server's
// `extension/` files to `/share/extension/`, its pkglibdir modules to
// `/lib/`, `lib/bitcode/` to `/lib/bitcode/`, the OS libraries the modules
// need to `/system/` and the packages' copyright files to
// `/licenses/<package>/` (see pgvector/Dockerfile and postgis/Dockerfile in
// github.com/cloudnative-pg/postgres-extensions-containers). CloudNativePG
// mounts each image at `/extensions/<name>` and by default appends
// `<mount>/share` to extension_control_path and `<mount>/lib` to
// dynamic_library_path; `system` is added to LD_LIBRARY_PATH when the image
// declares it (cloudnative-pg pull request 7991, "dynamic loading of
// PostgreSQL extensions").
const (
	// DirShare is the directory named in extension_control_path. The
	// server appends "extension" to each entry of that path itself.
	DirShare = "share"
	// DirExtension holds the control files and SQL scripts.
	DirExtension = "share/extension"
	// DirLib is the directory named in dynamic_library_path: the
	// extension's loadable modules (*.so, *.dylib).
	DirLib = "lib"
	// DirBitcode holds the LLVM bitcode used by JIT inlining.
	DirBitcode = "lib/bitcode"
	// DirSystem holds OS shared libraries the modules need; it goes into
	// the server's LD_LIBRARY_PATH.
	DirSystem = "system"
	// DirBin holds helper programs, if any; it goes into PATH.
	DirBin = "bin"
	// DirLicenses holds license texts, one subdirectory per package:
	// licenses/<package>/.
	DirLicenses = "licenses"
)

// LicensePath returns the layout path of a license file of package pkg.
func LicensePath(pkg, name string) string {
	return DirLicenses + "/" + pkg + "/" + name
}
