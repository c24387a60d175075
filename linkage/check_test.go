package linkage_test

import (
	"context"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/linkage"
)

// world is a small system built with the C compiler: a server executable
// exporting server_func, and libraries in several versions.
type world struct {
	dir    string
	server string
}

const (
	demoV1 = "DEMO_1.0 { global: demo_hello; local: *; };\n"
	demoV2 = "DEMO_1.0 { global: demo_hello; local: *; };\nDEMO_2.0 { global: demo_new; } DEMO_1.0;\n"
)

func newWorld(t *testing.T) *world {
	t.Helper()
	needCC(t)
	w := &world{dir: t.TempDir()}
	w.server = cc(t, w.path("bin/postgres"), "int server_func(int x){return x+1;}\nint main(void){return 0;}\n", "-rdynamic")
	// libdemo.so.1 in two versions: v1 (DEMO_1.0) and v2 (adds demo_new@DEMO_2.0).
	w.lib(t, "v1/libdemo.so.1", "libdemo.so.1", "int demo_hello(void){return 1;}\n", demoV1)
	w.lib(t, "v2/libdemo.so.1", "libdemo.so.1", "int demo_hello(void){return 1;}\nint demo_new(void){return 2;}\n", demoV2)
	// libplain.so.1 without versions: v2 adds plain_new (the PQcancelStart case).
	w.lib(t, "v1/libplain.so.1", "libplain.so.1", "int plain_old(void){return 1;}\n", "")
	w.lib(t, "v2/libplain.so.1", "libplain.so.1", "int plain_old(void){return 1;}\nint plain_new(void){return 2;}\n", "")
	return w
}

func (w *world) path(p string) string { return filepath.Join(w.dir, p) }

// lib builds a shared library with a soname and an optional version script.
func (w *world) lib(t *testing.T, out, soname, src, script string, args ...string) string {
	t.Helper()
	a := []string{"-shared", "-Wl,-soname," + soname}
	if script != "" {
		a = append(a, "-Wl,--version-script="+writeFile(t, w.path("tmp/"+soname+".map"), script))
	}
	return cc(t, w.path(out), src, append(a, args...)...)
}

// mod builds a module linked against the given libraries (paths in the
// world), with extra linker arguments.
func (w *world) mod(t *testing.T, out, src string, args ...string) string {
	t.Helper()
	return cc(t, w.path(out), src, append([]string{"-shared"}, args...)...)
}

func link(w *world, dir, name string) []string {
	return []string{"-Wl,--no-as-needed", "-L" + w.path(dir), "-l:" + name}
}

func check(t *testing.T, opts linkage.Options, module string) *linkage.Report {
	t.Helper()
	rs, err := linkage.NewChecker(opts).Check(context.Background(), module)
	if err != nil {
		t.Fatal(err)
	}
	return rs[0]
}

func kinds(r *linkage.Report) []string {
	var k []string
	for _, f := range r.Findings {
		s := string(f.Kind)
		switch {
		case f.Symbol != "":
			s += " " + f.Symbol
		case f.Soname != "":
			s += " " + f.Soname
		}
		if f.Version != "" {
			s += "@" + f.Version
		}
		k = append(k, s)
	}
	return k
}

func viaOf(r *linkage.Report, soname string) (linkage.Via, string) {
	for _, l := range r.Libraries {
		if l.Soname == soname {
			return l.Via, l.Path
		}
	}
	return "absent", ""
}

func TestCheckLoaderModel(t *testing.T) {
	w := newWorld(t)
	callNew := "extern int demo_new(void); int f(void){return demo_new();}\n"
	callHello := "extern int demo_hello(void); int f(void){return demo_hello();}\n"
	callPlainNew := "extern int plain_new(void); int f(void){return plain_new();}\n"
	runpath := func(p string) string { return "-Wl,--enable-new-dtags,-rpath," + p }
	rpath := func(p string) string { return "-Wl,--disable-new-dtags,-rpath," + p }

	// Modules, each built against the newest library.
	mods := map[string]string{
		"new-runpath":   w.mod(t, "pkg/lib/new.so", callNew, append(link(w, "v2", "libdemo.so.1"), runpath("$ORIGIN/../system"))...),
		"hello-runpath": w.mod(t, "pkg/lib/hello.so", callHello, append(link(w, "v2", "libdemo.so.1"), runpath("$ORIGIN/../system"))...),
		"plain":         w.mod(t, "pkg/lib/plain.so", callPlainNew, link(w, "v2", "libplain.so.1")...),
		"weak":          w.mod(t, "pkg/lib/weak.so", "extern int nowhere(void) __attribute__((weak));\nint f(void){return nowhere?nowhere():0;}\n"),
		"server-sym":    w.mod(t, "pkg/lib/srv.so", "extern int server_func(int); int f(void){return server_func(1);}\n"),
		"rpath-hello":   w.mod(t, "pkg/lib/rp.so", callHello, append(link(w, "v2", "libdemo.so.1"), rpath(w.path("v1")))...),
		"runpath-hello": w.mod(t, "pkg/lib/ru.so", callHello, append(link(w, "v2", "libdemo.so.1"), runpath(w.path("v1")))...),
		"nodeflib":      w.mod(t, "pkg/lib/nodef.so", "extern int demo_hello(void); int f(void){return demo_hello();}\n", append(link(w, "v2", "libdemo.so.1"), "-Wl,-z,nodefaultlib")...),
		"pthread":       w.mod(t, "pkg/lib/thr.so", "#include <pthread.h>\nstatic void *g(void *a){return a;}\nint f(void){pthread_t t; return pthread_create(&t,0,g,0);}\n", "-pthread"),
	}
	// <pkg>/system holds v2 of libdemo, as a bundle would.
	copyFile(t, w.path("v2/libdemo.so.1"), w.path("pkg/system/libdemo.so.1"))
	// A module's own sibling: b.so uses a_func that a.so defines, without
	// a DT_NEEDED (PostgreSQL loads both RTLD_GLOBAL).
	a := w.mod(t, "pkg/lib/a.so", "int a_func(void){return 1;}\n")
	b := w.mod(t, "pkg/lib/b.so", "extern int a_func(void); int f(void){return a_func();}\n")

	armLib := copyFile(t, w.path("v2/libdemo.so.1"), w.path("arm/libdemo.so.1"))
	patchMachine(t, armLib, 183) // EM_AARCH64
	textLib := writeFile(t, w.path("text/libdemo.so.1"), "/* GNU ld script */\nINPUT(libdemo.so.1.0)\n")
	class32 := copyFile(t, w.path("v2/libdemo.so.1"), w.path("c32/libdemo.so.1"))
	patchByte(t, class32, 4, byte(elf.ELFCLASS32))
	// A musl-built module: it needs musl's libc.so.
	w.lib(t, "musl/libc.so", "libc.so", "int musl_fn(void){return 0;}\n", "", "-nostdlib")
	muslMod := w.mod(t, "pkg/lib/musl.so", "extern int musl_fn(void); int f(void){return musl_fn();}\n", "-nostdlib", "-Wl,--no-as-needed", "-L"+w.path("musl"), "-l:libc.so")

	base := linkage.Options{Server: w.server}
	withLP := func(o linkage.Options, lp ...string) linkage.Options { o.LibraryPath = lp; return o }
	withServer := func(o linkage.Options, s string) linkage.Options { o.Server = s; return o }
	tests := []struct {
		name   string
		opts   linkage.Options
		module string
		want   []string // kinds (see kinds)
		via    map[string]string
	}{
		{name: "runpath $ORIGIN finds the bundled library", opts: base, module: mods["new-runpath"],
			via: map[string]string{"libdemo.so.1": "runpath " + w.path("pkg/system/libdemo.so.1")}},
		{name: "missing soname", opts: base, module: mods["plain"], want: []string{"not-found libplain.so.1"}},
		{name: "library path finds it", opts: withLP(base, w.path("v2")), module: mods["plain"],
			via: map[string]string{"libplain.so.1": "library-path " + w.path("v2/libplain.so.1")}},
		{name: "older unversioned library lacks the symbol", opts: withLP(base, w.path("v1")), module: mods["plain"],
			want: []string{"missing-symbol plain_new"}},
		{name: "older versioned library lacks the version", opts: withLP(base, w.path("v1")), module: w.mod(t, "pkg/lib/new2.so", callNew, link(w, "v2", "libdemo.so.1")...),
			want: []string{"missing-version libdemo.so.1@DEMO_2.0", "missing-symbol demo_new@DEMO_2.0"}},
		{name: "older versioned library keeps the old version", opts: withLP(base, w.path("v1")), module: w.mod(t, "pkg/lib/hello2.so", callHello, link(w, "v2", "libdemo.so.1")...)},
		{name: "weak undefined symbol may stay undefined", opts: base, module: mods["weak"]},
		{name: "symbol of the server executable", opts: base, module: mods["server-sym"]},
		{name: "server unknown: unchecked, not refused", opts: linkage.Options{}, module: mods["server-sym"], want: []string{"unchecked-symbol server_func"}},
		{name: "server lacks the symbol", opts: withServer(base, cc(t, w.path("bin/other"), "int main(void){return 0;}\n")), module: mods["server-sym"], want: []string{"missing-symbol server_func"}},
		{name: "RPATH before LD_LIBRARY_PATH", opts: withLP(base, w.path("v2")), module: mods["rpath-hello"],
			via: map[string]string{"libdemo.so.1": "rpath " + w.path("v1/libdemo.so.1")}},
		{name: "LD_LIBRARY_PATH before RUNPATH", opts: withLP(base, w.path("v2")), module: mods["runpath-hello"],
			via: map[string]string{"libdemo.so.1": "library-path " + w.path("v2/libdemo.so.1")}},
		{name: "wrong machine libdemo skipped, next found", opts: withLP(base, w.path("arm"), w.path("v1")), module: mods["hello-runpath"],
			via: map[string]string{"libdemo.so.1": "library-path " + w.path("v1/libdemo.so.1")}},
		{name: "32-bit candidate is skipped, next found", opts: withLP(base, w.path("c32"), w.path("v1")), module: mods["hello-runpath"],
			via: map[string]string{"libdemo.so.1": "library-path " + w.path("v1/libdemo.so.1")}},
		{name: "musl module on a glibc server", opts: base, module: muslMod, want: []string{"wrong-libc"}},
		{name: "non-ELF candidate stops the loader", opts: withLP(base, w.path("text"), w.path("v2")), module: mods["hello-runpath"],
			want: []string{"bad-library libdemo.so.1"}},
		{name: "DF_1_NODEFLIB skips cache and default dirs", opts: base, module: mods["nodeflib"], want: []string{"not-found libdemo.so.1"}},
		{name: "sibling module not loaded: missing", opts: base, module: b, want: []string{"missing-symbol a_func"}},
		{name: "sibling module loaded RTLD_GLOBAL", opts: linkage.Options{Server: w.server, Global: []string{a}}, module: b},
		{name: "module listed in Global is still checked", opts: linkage.Options{Server: w.server, Global: []string{a, b, mods["plain"]}}, module: mods["plain"],
			want: []string{"not-found libplain.so.1"}},
		{name: "module listed in Global sees the others", opts: linkage.Options{Server: w.server, Global: []string{a, b}}, module: b},
		{name: "libpthread symbols of old versions (glibc 2.34 moved them to libc)", opts: base, module: mods["pthread"]},
		{name: "module of another machine", opts: base, module: armLib, want: []string{"wrong-platform"}},
		{name: "not ELF module", opts: base, module: textLib, want: []string{"not-loadable"}},
		{name: "executable as module", opts: base, module: cc(t, w.path("pkg/lib/exe.so"), "int main(void){return 0;}\n", "-no-pie"), want: []string{"not-loadable"}},
	}
	_ = armLib
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := check(t, tc.opts, tc.module)
			if diff := cmp.Diff(tc.want, kinds(r)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nreport: %v", diff, r.Findings)
			}
			for so, want := range tc.via {
				via, p := viaOf(r, so)
				if got := string(via) + " " + p; got != want {
					t.Errorf("%s: got %s, want %s", so, got, want)
				}
			}
			if err := r.Err(); (err != nil) != hasFatal(tc.want) {
				t.Errorf("Err() = %v", err)
			} else if err != nil && !errors.Is(err, linkage.ErrCannotLoad) {
				t.Errorf("Err() does not wrap ErrCannotLoad: %v", err)
			}
		})
	}
}

func hasFatal(kinds []string) bool {
	for _, k := range kinds {
		if !strings.HasPrefix(k, "unchecked") {
			return true
		}
	}
	return false
}

// patchByte rewrites one byte of a file.
func patchByte(t *testing.T, p string, off int, v byte) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[off] = v
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// patchMachine rewrites e_machine of an ELF file (little-endian).
func patchMachine(t *testing.T, p string, m uint16) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[18], b[19] = byte(m), byte(m>>8)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestCheckInstalledLocation checks a module as if it were installed
// elsewhere: $ORIGIN is the checked location, and Overlay says where its
// files are now.
func TestCheckInstalledLocation(t *testing.T) {
	w := newWorld(t)
	m := w.mod(t, "stage/lib/new.so", "extern int demo_new(void); int f(void){return demo_new();}\n",
		append(link(w, "v2", "libdemo.so.1"), "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../system")...)
	copyFile(t, w.path("v2/libdemo.so.1"), w.path("stage/system/libdemo.so.1"))
	const target = "/srv/pg/packages/demo/1"
	opts := linkage.Options{Server: w.server, Overlay: []linkage.Mapping{{Target: target + "/lib/new.so", Source: m}}}
	r := check(t, opts, target+"/lib/new.so")
	if diff := cmp.Diff([]string{"not-found libdemo.so.1"}, kinds(r)); diff != "" {
		t.Fatalf("only the module mapped (-want +got):\n%s", diff)
	}
	if got := r.Findings[0].Looked[0]; got != target+"/system (RUNPATH)" {
		t.Errorf("first place looked = %q, want the RUNPATH at the installed location", got)
	}
	if !strings.Contains(r.Err().Error(), "new.so needs libdemo.so.1: not found (looked in "+target+"/system (RUNPATH)") {
		t.Errorf("message: %v", r.Err())
	}
	opts.Overlay = []linkage.Mapping{{Target: target, Source: w.path("stage")}}
	r = check(t, opts, target+"/lib/new.so")
	if len(r.Findings) != 0 {
		t.Fatalf("whole package mapped: %v", r.Findings)
	}
	if via, p := viaOf(r, "libdemo.so.1"); via != linkage.ViaRunPath || p != target+"/system/libdemo.so.1" {
		t.Errorf("libdemo.so.1 via %s at %s", via, p)
	}
}

// TestCheckGlibcTooOld builds a module against a stand-in libc.so.6 that
// defines GLIBC_2.99 and checks it against this machine's C library.
func TestCheckGlibcTooOld(t *testing.T) {
	w := newWorld(t)
	w.lib(t, "fakelibc/libc.so.6", "libc.so.6", "int future_fn(void){return 1;}\n",
		"GLIBC_2.2.5 { }; GLIBC_2.99 { global: future_fn; local: *; } GLIBC_2.2.5;\n", "-nostdlib")
	m := w.mod(t, "pkg/lib/future.so", "extern int future_fn(void); int f(void){return future_fn();}\n",
		"-nostdlib", "-L"+w.path("fakelibc"), "-l:libc.so.6")
	o, err := linkage.ReadFile(m)
	if err != nil {
		t.Fatal(err)
	}
	if o.GlibcRequired != "2.99" {
		t.Fatalf("GlibcRequired = %q", o.GlibcRequired)
	}
	r := check(t, linkage.Options{Server: w.server}, m)
	if diff := cmp.Diff([]string{"glibc-too-old@2.99", "missing-symbol future_fn@GLIBC_2.99"}, kinds(r)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if msg := r.Err().Error(); !strings.Contains(msg, "future.so requires glibc 2.99; the target's C library ") {
		t.Errorf("message: %s", msg)
	}
}

// TestCheckMovedSymbol reproduces glibc 2.34's move of libpthread into
// libc: the module needs moved@B_1 from libB.so.1; the new libB.so.1 still
// defines version B_1 but the symbol now lives in libA.so.1, which libB
// needs. The loader binds it there, and so must the check.
func TestCheckMovedSymbol(t *testing.T) {
	w := newWorld(t)
	script := "B_1 { global: moved; local: *; };\n"
	w.lib(t, "old/libB.so.1", "libB.so.1", "int moved(void){return 1;}\n", script)
	m := w.mod(t, "pkg/lib/m.so", "extern int moved(void); int f(void){return moved();}\n", link(w, "old", "libB.so.1")...)
	w.lib(t, "new/libA.so.1", "libA.so.1", "int moved(void){return 1;}\n", script)
	w.lib(t, "new/libB.so.1", "libB.so.1", "int stub_b(void){return 0;}\n", "B_1 { global: stub_b; local: *; };\n", link(w, "new", "libA.so.1")...)
	r := check(t, linkage.Options{Server: w.server, LibraryPath: []string{w.path("new")}}, m)
	if len(r.Findings) != 0 {
		t.Fatalf("findings: %v", r.Findings)
	}
	// And if nothing defines it any more, the message names libB.
	w.lib(t, "gone/libA.so.1", "libA.so.1", "int other(void){return 1;}\n", "")
	w.lib(t, "gone/libB.so.1", "libB.so.1", "int stub_b(void){return 0;}\n", "B_1 { global: stub_b; local: *; };\n", link(w, "gone", "libA.so.1")...)
	r = check(t, linkage.Options{Server: w.server, LibraryPath: []string{w.path("gone")}}, m)
	want := "m.so needs moved@B_1; libB.so.1 resolves to " + w.path("gone/libB.so.1") + ", which does not define it"
	if err := r.Err(); err == nil || !strings.HasPrefix(err.Error(), "linkage: "+want) {
		t.Fatalf("Err() = %v, want prefix %q", err, want)
	}
}

// TestLoadErrorMessage pins the message format of the example.
func TestLoadErrorMessage(t *testing.T) {
	err := &linkage.LoadError{Module: "/r/lib/dblink.so", Problems: []linkage.Finding{{
		Kind: linkage.MissingSymbol, Module: "/r/lib/dblink.so", Object: "/r/lib/dblink.so", Symbol: "PQcancelStart",
		Looked: []string{"libpq.so.5=/usr/lib/x86_64-linux-gnu/libpq.so.5"}, Scope: 1,
	}, {Kind: linkage.NotFound, Module: "/r/lib/dblink.so", Object: "/r/lib/dblink.so", Soname: "libx.so.1"}}}
	want := "linkage: dblink.so needs PQcancelStart; libpq.so.5 resolves to /usr/lib/x86_64-linux-gnu/libpq.so.5, which does not define it (and 1 more problem)"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if !errors.Is(err, linkage.ErrCannotLoad) {
		t.Error("not ErrCannotLoad")
	}
	var le *linkage.LoadError
	if !errors.As(linkage.Err([]*linkage.Report{{Module: "x", Findings: err.Problems}}), &le) || le.Module != "x" {
		t.Error("Err does not carry the LoadError")
	}
}

func TestCheckContext(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := linkage.NewChecker(linkage.Options{Server: w.server}).Check(ctx, w.server)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckMaxObjects(t *testing.T) {
	w := newWorld(t)
	_, err := linkage.NewChecker(linkage.Options{Server: w.server, MaxObjects: 2}).Check(context.Background(), w.server)
	if !errors.Is(err, linkage.ErrTooManyObjects) {
		t.Fatalf("err = %v", err)
	}
}
