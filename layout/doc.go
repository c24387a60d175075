// Package layout describes what a pgoci extension image holds on disk and
// where it goes: the image root layout, PostgreSQL control files, discovery
// of an installed extension tree, the mapping of such a tree onto the image
// layout, and the server settings that make installed images visible.
//
// It imports nothing of pgoci and does no network or archive work: the
// packer streams the [Entry] list it produces into a layer, and the
// installer uses [PathSettings] for the server configuration.
//
// # The image root layout
//
// Version [LayoutVersion] is the CloudNativePG image-volume layout, so that
// pgoci images can be mounted by CloudNativePG unchanged and CloudNativePG
// images installed by pgoci unchanged:
//
//	share/extension/   *.control, *--*.sql   extension_control_path gets <root>/share
//	lib/               *.so, lib/bitcode/    dynamic_library_path gets <root>/lib
//	system/            OS shared libraries   LD_LIBRARY_PATH gets <root>/system
//	bin/               helper programs       PATH
//	licenses/<pkg>/    license texts
//
// # Control files
//
// [ParseControl] reads a primary (name.control) or secondary
// (name--version.control) control file with PostgreSQL's own rules: the
// configuration-file syntax of guc-file.l and the parameter checks of
// parse_extension_control_file. Errors are [*ControlError] values naming the
// file and line. See https://www.postgresql.org/docs/18/extend-extensions.html.
//
// # Discovery and mapping
//
// [Discover] accepts a layout root or the output of
// `make install DESTDIR=...` (Debian's usr/share/postgresql/<N> and
// usr/lib/postgresql/<N>/lib, the plain share/postgresql and lib/postgresql,
// usr/local/pgsql/share and lib, PGDG RPM's pgsql-<N>). It reports the
// extensions (default versions, install and update scripts, requires,
// modules), the modules in lib, a preload hint and the PostgreSQL major when
// the paths carry it. [Tree.Entries] then lists the layout entries, sorted,
// with the `$libdir/` rewrite of [RewriteLibdir] applied to control files
// and scripts so the image works under dynamic_library_path.
//
// Whether a module needs shared_preload_libraries cannot be read from its
// files; [Tree.Preload] comes from the list [KnownPreload] plus
// [Options.Preload], and [Tree.LoadOnly] lists modules no extension uses.
//
// # Settings
//
// [PathSettings] gives the PostgreSQL 18 values for a set of installed
// roots: `$system` then <root>/share for extension_control_path, `$libdir`
// then <root>/lib for dynamic_library_path, <root>/system for
// LD_LIBRARY_PATH. [Settings.PostgresqlConf] renders the postgresql.conf
// lines.
//
// # How do I use this package?
//
// To pack a tree built with `make install DESTDIR=/tmp/build`:
//
//	tree, err := layout.Discover(ctx, "/tmp/build", layout.Options{})
//	// tree.Extensions, tree.PGMajor, tree.Preload feed the image labels.
//	entries, err := tree.Entries(ctx, layout.MapOptions{})
//	for _, e := range entries {
//		// write a tar header from e.Path, e.Mode, e.Size, e.Link;
//		// for regular files copy e.Open() (rewritten content).
//	}
//
// To configure a server for images installed at /extensions/a and
// /extensions/b:
//
//	s, err := layout.PathSettings([]string{"/extensions/a", "/extensions/b"})
//	conf := s.PostgresqlConf() // and LD_LIBRARY_PATH=s.LDLibraryPath
package layout
