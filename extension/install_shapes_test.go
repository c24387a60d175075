package extension

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/tartest"
	"pgoci/labels"
	"pgoci/resolve"
	"pgoci/unpack"
)

// instMode is one install location, with where a path of the image root
// layout ends up once installed.
type instMode struct {
	name  string
	major int
	// top is the directory whose snapshot must be unchanged after the
	// last uninstall (the root, or the fake server's tree).
	top     string
	install RootOptions
	list    RootOptions
	remove  RootOptions
	placed  func(p string) string
}

// instModes returns a fresh PostgreSQL 18 root and a fresh PostgreSQL 17
// server (instServer).
func instModes(t *testing.T) []instMode {
	t.Helper()
	root := t.TempDir()
	// The directories a root keeps once made (the view's top directories
	// and packages/), so that a snapshot taken now is the empty root.
	for _, d := range []string{"share/extension", "lib", "system", "bin", "packages"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pgConfig, top := instServer(t)
	cache := filepath.Join(t.TempDir(), "cache")
	dirs17 := map[string]string{
		"share": filepath.Join(top, "share", "postgresql", "17"),
		"lib":   filepath.Join(top, "lib", "postgresql", "17", "lib"),
		"bin":   filepath.Join(top, "bin"),
	}
	return []instMode{
		{name: "root", major: 18, top: root,
			install: RootOptions{Root: root, CacheDir: cache},
			list:    RootOptions{Root: root},
			remove:  RootOptions{Root: root},
			placed:  func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }},
		{name: "pg17", major: 17, top: top,
			install: RootOptions{PGConfig: pgConfig, CacheDir: cache},
			list:    RootOptions{PGConfig: pgConfig},
			remove:  RootOptions{PGConfig: pgConfig},
			placed: func(p string) string {
				first, rest, _ := strings.Cut(p, "/")
				return filepath.Join(dirs17[first], filepath.FromSlash(rest))
			}},
	}
}

// TestInstallPackageShapes: the shapes of Debian's PostgreSQL packages
// that are not plain extensions install, list, verify and uninstall in
// both modes: a logical decoding output plugin with no control file
// (wal2json), programs (pg_repack, into the server's bindir in PostgreSQL
// 17 mode), scripts in a control file's directory (pgfincore), and a link
// inside the package (pre_prepare's lib/plugins/pre_prepare.so ->
// ../pre_prepare.so).
func TestInstallPackageShapes(t *testing.T) {
	srv := instRegistry(t)
	type pkg struct {
		name, version string
		files, links  map[string]string
		modules       []string
		programs      []string
		// read maps layout paths to the content read through them once
		// installed.
		read map[string]string
	}
	pkgs := []pkg{
		{name: "wal2json", version: "2.5",
			files:   map[string]string{"lib/wal2json.so": instModule("wal2json"), "lib/bitcode/wal2json/wal2json.bc": "bc", "lib/bitcode/wal2json.index.bc": "bc"},
			modules: []string{"wal2json"},
			read:    map[string]string{"lib/wal2json.so": instModule("wal2json")}},
		{name: "pg_repack", version: "1.4.8",
			files: func() map[string]string {
				f := instFiles(instExt{name: "pg_repack", version: "1.4.8"})
				f["bin/pg_repack"] = "ELF program"
				return f
			}(),
			modules: []string{"pg_repack"}, programs: []string{"pg_repack"},
			read: map[string]string{"bin/pg_repack": "ELF program"}},
		{name: "pgfincore", version: "1.2",
			files: map[string]string{
				"share/extension/pgfincore.control":  "default_version = '1.2'\ndirectory = 'pgfincore'\nmodule_pathname = '$libdir/pgfincore'\n",
				"share/pgfincore/pgfincore--1.2.sql": "CREATE FUNCTION f() RETURNS int AS 'MODULE_PATHNAME' LANGUAGE C;\n",
				"lib/pgfincore.so":                   instModule("pgfincore"),
			},
			modules: []string{"pgfincore"},
			read:    map[string]string{"share/pgfincore/pgfincore--1.2.sql": "CREATE FUNCTION f() RETURNS int AS 'MODULE_PATHNAME' LANGUAGE C;\n"}},
		{name: "pre_prepare", version: "0.4",
			files:   instFiles(instExt{name: "pre_prepare", version: "0.4"}),
			links:   map[string]string{"lib/plugins/pre_prepare.so": "../pre_prepare.so"},
			modules: []string{"pre_prepare"},
			read:    map[string]string{"lib/plugins/pre_prepare.so": instModule("pre_prepare 0.4")}},
	}
	for _, m := range instModes(t) {
		t.Run(m.name, func(t *testing.T) {
			ctx := context.Background()
			before := instSnapshot(t, m.top, ".pgoci", "share/postgresql/17/.pgoci")
			for _, p := range pkgs {
				instPushPkg(t, srv, m.name+"/"+p.name, p.version, labels.Package{Name: p.name, Version: p.version}, m.major, p.files, p.links)
				if _, err := installAt(ctx, srv.Host()+"/"+m.name+"/"+p.name+":"+p.version, instTarget(m.major), m.install); err != nil {
					t.Fatalf("install %s: %v", p.name, err)
				}
				for lp, want := range p.read {
					if got := instRead(t, m.placed(lp)); got != want {
						t.Errorf("%s: %s reads %q, want %q", p.name, lp, got, want)
					}
				}
			}
			list, err := listAt(ctx, m.list)
			if err != nil {
				t.Fatal(err)
			}
			for k, p := range pkgs {
				rec := list[slices.IndexFunc(list, func(r Installed) bool { return r.Name == p.name })]
				if !cmp.Equal(rec.Modules, pkgs[k].modules) || !cmp.Equal(rec.Programs, pkgs[k].programs) {
					t.Errorf("%s: modules %v programs %v, want %v %v", p.name, rec.Modules, rec.Programs, p.modules, p.programs)
				}
			}
			if drift, err := verifyAt(ctx, m.list); err != nil || len(drift) != 0 {
				t.Errorf("Verify: %v %+v", err, drift)
			}
			for _, p := range pkgs {
				if _, err := uninstallAt(ctx, p.name, m.remove); err != nil {
					t.Fatalf("uninstall %s: %v", p.name, err)
				}
			}
			if diff := cmp.Diff(before, instSnapshot(t, m.top, ".pgoci", "share/postgresql/17/.pgoci")); diff != "" {
				t.Errorf("tree after uninstalling everything (-before +after):\n%s", diff)
			}
		})
	}
}

// TestInstallSharedFiles: plperl and plperlu both carry plperl.so. The
// second package shares the byte-identical file instead of conflicting;
// removing the first keeps it for the second (in PostgreSQL 18 mode the
// view link moves into the remaining package); removing the second
// removes it. A package with other bytes at the same path is a conflict
// naming both packages.
func TestInstallSharedFiles(t *testing.T) {
	srv := instRegistry(t)
	for _, m := range instModes(t) {
		t.Run(m.name, func(t *testing.T) {
			ctx := context.Background()
			before := instSnapshot(t, m.top, ".pgoci", "share/postgresql/17/.pgoci")
			push := func(name, so string) string {
				files := map[string]string{
					"share/extension/" + name + ".control":       "default_version = '1.0'\nmodule_pathname = '$libdir/plperl'\n",
					"share/extension/" + name + "--1.0.sql":      "SELECT 1;\n",
					"lib/plperl.so":                              so,
					"lib/bitcode/plperl/SPI.bc":                  "bc " + so,
					"share/extension/" + name + "--0.9--1.0.sql": "SELECT 2;\n",
				}
				instPushPkg(t, srv, m.name+"/"+name, "1.0", labels.Package{Name: name}, m.major, files, nil)
				return srv.Host() + "/" + m.name + "/" + name + ":1.0"
			}
			plperl, plperlu, other := push("plperl", instModule("plperl")), push("plperlu", instModule("plperl")), push("plperlx", instModule("other plperl"))
			for _, ref := range []string{plperl, plperlu} {
				if _, err := installAt(ctx, ref, instTarget(m.major), m.install); err != nil {
					t.Fatalf("install %s: %v", ref, err)
				}
			}
			_, err := installAt(ctx, other, instTarget(m.major), m.install)
			var conflict *ConflictError
			if !errors.As(err, &conflict) || conflict.Package != "plperlx" || !slices.Contains([]string{"plperl", "plperlu"}, conflict.Owner) {
				t.Errorf("other bytes at lib/plperl.so: %v, want a *ConflictError naming plperlx and plperl or plperlu", err)
			}
			if drift, err := verifyAt(ctx, m.list); err != nil || len(drift) != 0 {
				t.Errorf("Verify with a shared file: %v %+v", err, drift)
			}
			if _, err := uninstallAt(ctx, "plperl", m.remove); err != nil {
				t.Fatal(err)
			}
			if got := instRead(t, m.placed("lib/plperl.so")); got != instModule("plperl") {
				t.Errorf("after removing plperl, lib/plperl.so reads %q, want it kept for plperlu", got)
			}
			if drift, err := verifyAt(ctx, m.list); err != nil || len(drift) != 0 {
				t.Errorf("Verify after removing one owner: %v %+v", err, drift)
			}
			if _, err := uninstallAt(ctx, "plperlu", m.remove); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, instSnapshot(t, m.top, ".pgoci", "share/postgresql/17/.pgoci")); diff != "" {
				t.Errorf("tree after removing both (-before +after):\n%s", diff)
			}
		})
	}
}

// TestInstallRefusesLinks: links that leave the package, dangle, point at
// a directory or another link, cross from one top directory to another
// (placed apart in PostgreSQL 17 mode), or climb after descending are
// refused before anything changes, in both modes. Pack refuses most of
// them already, so the images are built by hand.
func TestInstallRefusesLinks(t *testing.T) {
	srv := instRegistry(t)
	cases := []struct {
		name, path, target string
	}{
		{"absolute", "lib/x.so", "/usr/lib/postgresql/17/lib/plpgsql.so"},
		{"leaves the package", "lib/x.so", "../../etc/passwd"},
		{"dangling", "lib/x.so", "nothere.so"},
		{"to a directory", "lib/plugins", "bitcode"},
		{"to another link", "lib/y.so", "alias.so"},
		{"across top directories", "lib/x.so", "../share/extension/shape.control"},
	}
	for _, m := range instModes(t) {
		before := instSnapshot(t, m.top)
		for _, tc := range cases {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				var entries []tartest.Entry
				files := instFiles(instExt{name: "shape", version: "1.0"})
				files["lib/bitcode/shape/a.bc"] = "bc"
				for _, p := range slices.Sorted(maps.Keys(files)) {
					entries = append(entries, tartest.File(p, files[p]))
				}
				entries = append(entries, tartest.Symlink("lib/alias.so", "shape.so"), tartest.Symlink(tc.path, tc.target))
				meta := labels.Metadata{SchemaVersion: labels.SchemaVersion, Package: labels.Package{Name: "shape", Version: "1.0"},
					Extensions: []labels.Extension{{Name: "shape", Version: "1.0"}}, PG: labels.PG{Major: m.major}}
				repo := m.name + "/links-" + strings.ReplaceAll(tc.name, " ", "-")
				pushEntries(t, srv, repo, "1.0", meta.Annotations(), entries)
				_, err := installAt(context.Background(), srv.Host()+"/"+repo+":1.0", instTarget(m.major), m.install)
				// The unpacker refuses a link that climbs out of the image
				// root before the installer sees it.
				if !(errors.Is(err, ErrNotInstallable) || errors.Is(err, unpack.ErrLinkEscapes)) || !strings.Contains(err.Error(), tc.path) {
					t.Errorf("error %v, want ErrNotInstallable or unpack.ErrLinkEscapes naming %s", err, tc.path)
				}
			})
		}
		if diff := cmp.Diff(before, instSnapshot(t, m.top, ".pgoci", "share/postgresql/17/.pgoci")); diff != "" {
			t.Errorf("%s: refused installs changed the tree (-before +after):\n%s", m.name, diff)
		}
	}
}

// TestCheckLink: the rule for links inside a package, on its own (the
// unpacker already cleans some targets, such as a/../b, before the
// installer sees them).
func TestCheckLink(t *testing.T) {
	isLink := map[string]bool{"lib/a.so": false, "lib/alias.so": true, "lib/bitcode/x.bc": false, "share/extension/a.control": false, "lib/dirlink": true}
	for _, tc := range []struct {
		p, target string
		ok        bool
	}{
		{"lib/alias.so", "a.so", true},
		{"lib/plugins/a.so", "../a.so", true},
		{"lib/plugins/deep/x.bc", "../../bitcode/x.bc", true},
		{"lib/x.so", "/lib/a.so", false},
		{"lib/x.so", "", false},
		{"lib/x.so", "../../a.so", false},
		{"lib/x.so", "../share/extension/a.control", false},
		{"lib/x.so", "bitcode", false},
		{"lib/x.so", "alias.so", false},
		{"lib/x.so", "missing.so", false},
		{"lib/plugins/x.so", "../bitcode/../a.so", false},
		{"lib/x.so", "dirlink/a.so", false},
	} {
		why := checkLink(tc.p, tc.target, isLink)
		if (why == "") != tc.ok {
			t.Errorf("checkLink(%s -> %s) = %q, want ok %v", tc.p, tc.target, why, tc.ok)
		}
	}
}

// TestInstallRefusesAbsoluteDirectory: a control file whose directory is
// absolute, or leaves share/, would make PostgreSQL read scripts from the
// machine, not the image; Pack refuses it, so the image here is a
// CloudNativePG-style one written by hand.
func TestInstallRefusesAbsoluteDirectory(t *testing.T) {
	srv := instRegistry(t)
	for name, dir := range map[string]string{"absolute": "/usr/share/postgresql/17/abs", "climbing": "../../abs"} {
		t.Run(name, func(t *testing.T) {
			pushCNPG(t, srv, "ext/abs-"+name, "1.0", map[string]string{
				"share/extension/abs.control": "default_version = '1.0'\ndirectory = '" + dir + "'\n",
				"lib/abs.so":                  instModule("abs"),
			})
			root := t.TempDir()
			_, err := installAt(context.Background(), srv.Host()+"/ext/abs-"+name+":1.0", instTarget(18), instOptions(t, root))
			if !errors.Is(err, ErrNotInstallable) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %v, want ErrNotInstallable naming the directory %s", err, dir)
			}
		})
	}
}

// TestCheckControls: the installer's own check of control files in a
// labelled image (which Discover does not read).
func TestCheckControls(t *testing.T) {
	for _, tc := range []struct {
		name, control string
		ok            bool
	}{
		{"no directory", "default_version = '1.0'\n", true},
		{"relative", "directory = 'pgfincore'\n", true},
		{"absolute", "directory = '/etc'\n", false},
		{"climbing", "directory = 'a/../../x'\n", false},
		{"unparsable", "nonsense = 1\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "share", "extension", "x.control")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(tc.control), 0o644); err != nil {
				t.Fatal(err)
			}
			err := checkControls(dir, []InstalledFile{{Path: "share/extension/x.control"}})
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrNotInstallable)) {
				t.Errorf("checkControls: %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestInstallRootRefusesOlderMajors: an install root serves PostgreSQL 18
// and newer. An image for 17 is refused there even when the target does
// not say its major; with images for both in one index and the major
// unknown, nothing is picked at random.
func TestInstallRootRefusesOlderMajors(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/old", "1.0", "old", 17, instFiles(instExt{name: "old", version: "1.0"}))
	root := t.TempDir()
	unknownMajor := resolve.Target{Platform: instAmd64}
	_, err := installAt(context.Background(), srv.Host()+"/ext/old:1.0", unknownMajor, instOptions(t, root))
	if !errors.Is(err, ErrNotInstallable) || !strings.Contains(err.Error(), "PostgreSQL 17") {
		t.Errorf("17 image into a root: %v, want ErrNotInstallable naming PostgreSQL 17", err)
	}
	repo, err := remote.NewRepository(srv.Host() + "/ext/both")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	dir := t.TempDir()
	writeFiles(t, dir, instFiles(instExt{name: "both", version: "1.0"}))
	var images []Image
	for _, major := range []int{17, 18} {
		img, err := Pack(context.Background(), repo, dir, Build{Platform: instAmd64, Metadata: labels.Metadata{PG: labels.PG{Major: major}}}, PackOptions{})
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, img)
	}
	if _, err := PushIndex(context.Background(), repo, images, "1.0"); err != nil {
		t.Fatal(err)
	}
	_, err = installAt(context.Background(), srv.Host()+"/ext/both:1.0", unknownMajor, instOptions(t, root))
	if !errors.Is(err, resolve.ErrAmbiguous) {
		t.Errorf("17 and 18 in one index, major unknown: %v, want resolve.ErrAmbiguous", err)
	}
	if files := instSnapshot(t, root, ".pgoci"); len(files) != 1 {
		t.Errorf("refused installs left %v in the root", files)
	}
}
