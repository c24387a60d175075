package extension

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/resolve"
)

// TestInstallDependencies installs requires first, reports cycles with
// their chain and missing dependencies with the reference tried.
func TestInstallDependencies(t *testing.T) {
	srv := instRegistry(t)
	push := func(name string, requires ...string) {
		instPush(t, srv, "ext/"+name, "1.0", name, 18, instFiles(instExt{name: name, version: "1.0", requires: requires, sqlOnly: true}))
	}
	push("a", "b")
	push("b", "c")
	push("c")
	push("x", "y")
	push("y", "z")
	push("z", "x")
	push("lonely", "nowhere")
	push("self")
	// A package whose second extension requires its first needs nothing.
	instPush(t, srv, "ext/multi", "1.0", "multi", 18, instFiles(
		instExt{name: "multi", version: "1.0"}, instExt{name: "multi_extra", version: "1.0", requires: []string{"multi"}, sqlOnly: true}))
	// A requirement the server ships is not fetched.
	push("usesplpgsql", "plpgsql")
	share := t.TempDir()
	if err := os.MkdirAll(filepath.Join(share, "extension"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(share, "extension", "plpgsql.control"), []byte("default_version = '1.0'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := srv.Host()
	for _, tc := range []struct {
		name, ref string
		noDeps    bool
		want      []string
		err       error
		msg       string
	}{
		{name: "chain", ref: "ext/a:1.0", want: []string{"c installed", "b installed", "a installed"}},
		{name: "no deps", ref: "ext/a:1.0", noDeps: true, want: []string{"a installed"}},
		{name: "cycle", ref: "ext/x:1.0", err: ErrDependencyCycle, msg: "x -> y -> z -> x"},
		{name: "missing", ref: "ext/lonely:1.0", err: ErrMissingDependency, msg: `nothing provides extension "nowhere"; no installed package provides it (installed: none); the server's extension directory ` + filepath.Join(share, "extension") + ` has no nowhere.control; no mapping for it (InstallOptions.Dependencies, pgoci install --dep nowhere=REF); and ` + host + "/ext/nowhere: extension: missing dependency: resolve: list tags"},
		{name: "within the package", ref: "ext/multi:1.0", want: []string{"multi installed"}},
		{name: "from the server", ref: "ext/usesplpgsql:1.0", want: []string{"usesplpgsql installed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			opts := instOptions(t, root)
			opts.ServerShareDir = share
			res, err := installAt(context.Background(), host+"/"+tc.ref, instTarget(18), opts, InstallOptions{NoDeps: tc.noDeps})
			if tc.err != nil {
				de, ok := errors.AsType[*DependencyError](err)
				if !errors.Is(err, tc.err) || !ok || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err = %v, want a *DependencyError wrapping %v saying %q", err, tc.err, tc.msg)
				}
				if tc.err == ErrDependencyCycle && strings.Join(de.Chain, " -> ") != tc.msg {
					t.Errorf("chain %v, want %s", de.Chain, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, instNames(res.Packages)); diff != "" {
				t.Errorf("installed (-want +got):\n%s", diff)
			}
			for _, p := range res.Packages[:len(res.Packages)-1] {
				if !p.Dependency {
					t.Errorf("%s not marked as a dependency", p.Name)
				}
			}
		})
	}
}

// TestInstallDependencyAlreadyInstalled does not fetch a requirement an
// installed package provides.
func TestInstallDependencyAlreadyInstalled(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	instPush(t, srv, "ext/earthdistance", "1.2", "earthdistance", 18, instFiles(instExt{name: "earthdistance", version: "1.2", requires: []string{"cube"}}))
	root := t.TempDir()
	opts := instOptions(t, root)
	ctx := context.Background()
	if _, err := installAt(ctx, srv.Host()+"/ext/cube:1.5", instTarget(18), opts); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	res, err := installAt(ctx, srv.Host()+"/ext/earthdistance:1.2", instTarget(18), opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"earthdistance installed"}, instNames(res.Packages)); diff != "" {
		t.Errorf("installed (-want +got):\n%s", diff)
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/ext/cube/") {
			t.Errorf("request for the installed dependency: %s %s", r.Method, r.Path)
		}
	}
}

func TestDefaultDependencyRef(t *testing.T) {
	for _, tc := range []struct {
		from, ext, want string
		err             bool
	}{
		{from: "ghcr.io/acme/earthdistance:1.2", ext: "cube", want: "ghcr.io/acme/cube"},
		{from: "localhost:5000/earthdistance@sha256:" + strings.Repeat("a", 64), ext: "cube", want: "localhost:5000/cube"},
		{from: "reg.example/a/b/c/postgis:3", ext: "postgis_raster", want: "reg.example/a/b/c/postgis_raster"},
		{from: "oci:/mirror/earthdistance:1.2", ext: "cube", want: "oci:/mirror/cube"},
		{from: "ghcr.io/acme/x", ext: "../etc", err: true},
		{from: "ghcr.io/acme/x", ext: "Bad Name", err: true},
	} {
		t.Run(tc.from+"+"+tc.ext, func(t *testing.T) {
			from, err := resolve.ParseReference(tc.from)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DefaultDependencyRef(tc.ext, from)
			if tc.err {
				if !errors.Is(err, ErrMissingDependency) {
					t.Errorf("= %q, %v; want ErrMissingDependency", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
