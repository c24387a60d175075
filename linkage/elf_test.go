package linkage_test

import (
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/linkage"
)

// summary is the part of an Object the fixture tests compare.
type summary struct {
	Arch, Soname, Interp, Glibc string
	Type                        elf.Type
	Needed, RunPath, RPath      []string
	Defined, Undefined          []string
	VersionDefs                 []string
	VersionNeeds                []string
	PIE                         bool
}

func summarize(o *linkage.Object) summary {
	s := summary{Arch: o.Arch, Soname: o.Soname, Interp: o.Interpreter, Glibc: o.GlibcRequired, Type: o.Type,
		Needed: o.Needed, RunPath: o.RunPath, RPath: o.RPath, PIE: o.PIE}
	for _, d := range o.Defined {
		n := d.String()
		if d.Hidden {
			n += " (hidden)"
		}
		s.Defined = append(s.Defined, n)
	}
	for _, u := range o.Undefined {
		n := u.String()
		if u.Library != "" {
			n += " from " + u.Library
		}
		if u.Weak() {
			n += " (weak)"
		}
		s.Undefined = append(s.Undefined, n)
	}
	for _, v := range o.VersionDefs {
		s.VersionDefs = append(s.VersionDefs, v.Name)
	}
	for _, vn := range o.VersionNeeds {
		for _, v := range vn.Versions {
			s.VersionNeeds = append(s.VersionNeeds, vn.File+":"+v.Name)
		}
	}
	sort.Strings(s.Defined)
	sort.Strings(s.Undefined)
	return s
}

func TestReadFixtures(t *testing.T) {
	tests := []struct {
		file string
		want summary
	}{
		{"lib/libdemo.so.1", summary{Arch: "amd64", Soname: "libdemo.so.1", Type: elf.ET_DYN,
			Defined: []string{"DEMO_1.0@DEMO_1.0", "demo_hello@DEMO_1.0"}, VersionDefs: []string{"libdemo.so.1", "DEMO_1.0"}}},
		{"mod/good.so", summary{Arch: "amd64", Type: elf.ET_DYN, Needed: []string{"libdemo.so.1"}, RunPath: []string{"$ORIGIN/../lib"},
			Defined:      []string{"good"},
			Undefined:    []string{"demo_hello@DEMO_1.0 from libdemo.so.1", "maybe (weak)", "server_func"},
			VersionNeeds: []string{"libdemo.so.1:DEMO_1.0"}}},
		{"mod/nolib.so", summary{Arch: "amd64", Type: elf.ET_DYN, Needed: []string{"libabsent.so.7"},
			Defined: []string{"nolib"}, Undefined: []string{"absent_fn"}}},
		{"bin/server", summary{Arch: "amd64", Type: elf.ET_DYN, Interp: "/lib64/ld-linux-x86-64.so.2", PIE: true,
			Defined: []string{"__bss_start", "_edata", "_end", "_start", "server_func"}}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			o, err := linkage.ReadFile(fixture(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, summarize(o)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if o.Path != fixture(tc.file) || o.Class != elf.ELFCLASS64 || o.Machine != elf.EM_X86_64 {
				t.Errorf("identity: %s %v %v", o.Path, o.Class, o.Machine)
			}
		})
	}
}

// TestReadBuilt reads objects built at test time for the facts pack
// records: compiler, ICU major, C library, versions, hidden symbols.
func TestReadBuilt(t *testing.T) {
	needCC(t)
	dir := t.TempDir()
	icu := cc(t, filepath.Join(dir, "libicuuc.so.74"), "int u_foo(void){return 0;}\n", "-shared", "-Wl,-soname,libicuuc.so.74")
	_ = icu
	vs := writeFile(t, filepath.Join(dir, "v.map"), "V_1 { global: old_fn; local: *; };\nV_2 { global: new_fn; } V_1;\n")
	lib := cc(t, filepath.Join(dir, "libv.so.1"), `
int old_impl(void){return 1;}
int new_impl(void){return 2;}
__asm__(".symver old_impl,old_fn@V_1");
__asm__(".symver new_impl,new_fn@@V_2");
`, "-shared", "-Wl,-soname,libv.so.1", "-Wl,--version-script="+vs)
	mod := cc(t, filepath.Join(dir, "mod.so"), `
#include <string.h>
extern int u_foo(void);
int f(char *d, const char *s, unsigned n){ memcpy(d, s, n); return u_foo(); }
`, "-shared", "-Wl,--no-as-needed", "-L"+dir, "-l:libicuuc.so.74")

	o, err := linkage.ReadFile(mod)
	if err != nil {
		t.Fatal(err)
	}
	if o.ICUMajor != 74 {
		t.Errorf("ICUMajor = %d", o.ICUMajor)
	}
	if o.Libc != linkage.Glibc || o.GlibcRequired == "" {
		t.Errorf("Libc %q GlibcRequired %q", o.Libc, o.GlibcRequired)
	}
	if c := o.Compiler(); !strings.HasPrefix(c, "GCC: ") {
		t.Errorf("Compiler() = %q (comments %q)", c, o.Compilers)
	}
	l, err := linkage.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	got := summarize(l).Defined
	want := []string{"V_1@V_1", "V_2@V_2", "new_fn@V_2", "old_fn@V_1 (hidden)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defined (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		ref  linkage.Symbol
		want bool
	}{
		{linkage.Symbol{Name: "new_fn", Version: "V_2"}, true},
		{linkage.Symbol{Name: "new_fn"}, true},
		{linkage.Symbol{Name: "old_fn", Version: "V_1"}, true},
		{linkage.Symbol{Name: "old_fn"}, true}, // V_1 is index 2, the oldest version, which glibc binds unversioned references to
		{linkage.Symbol{Name: "new_fn", Version: "V_1"}, false},
		{linkage.Symbol{Name: "absent"}, false},
	} {
		if got := l.Provides(tc.ref); got != tc.want {
			t.Errorf("Provides(%v) = %v, want %v", tc.ref, got, tc.want)
		}
	}
	libc, err := linkage.ReadFile(findLibc(t))
	if err != nil {
		t.Fatal(err)
	}
	if libc.GlibcProvided == "" || linkage.CompareVersions(libc.GlibcProvided, "2.17") < 0 {
		t.Errorf("libc GlibcProvided = %q", libc.GlibcProvided)
	}
	if linkage.CompareVersions(o.GlibcRequired, libc.GlibcProvided) > 0 {
		t.Errorf("module built here requires %s > libc %s", o.GlibcRequired, libc.GlibcProvided)
	}
}

func findLibc(t *testing.T) string {
	for _, p := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", "/lib64/libc.so.6", "/usr/lib64/libc.so.6", "/usr/lib/libc.so.6"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no glibc libc.so.6 found in the usual places")
	return ""
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2.34", "2.4", 1}, {"2.2.5", "2.3", -1}, {"2.17", "2.17", 0}, {"2.17", "2.17.0", 0},
		{"", "2.1", -1}, {"x", "", 0}, {"2.10", "2.9", 1},
	} {
		if got := linkage.CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestReadelfCrossCheck compares Read with binutils' readelf on the
// libraries and programs of this machine.
func TestReadelfCrossCheck(t *testing.T) {
	readelf, err := exec.LookPath("readelf")
	if err != nil {
		t.Skip("readelf not found; install binutils to cross-check the reader")
	}
	var files []string
	for _, g := range []string{"/usr/lib/postgresql/*/lib/*.so", "/usr/lib/postgresql/*/bin/postgres", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6", "/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libcc1.so.0", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libpq.so.5", "/lib/x86_64-linux-gnu/libicuuc.so.*", "/usr/bin/ls", testPG18 + "/lib/postgresql/*.so", testPG18 + "/bin/postgres"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no system libraries to cross-check")
	}
	if testing.Short() && len(files) > 20 {
		files = files[:20]
	}
	dynRe := regexp.MustCompile(`\((NEEDED|SONAME|RUNPATH|RPATH)\)\s+[^\[]*\[(.*)\]`)
	for _, f := range files {
		o, err := linkage.ReadFile(f)
		if errors.Is(err, linkage.ErrNotELF) {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		out, err := exec.Command(readelf, "-dW", f).Output()
		if err != nil {
			t.Errorf("readelf %s: %v", f, err)
			continue
		}
		var needed, soname, runpath, rpath []string
		for _, m := range dynRe.FindAllStringSubmatch(string(out), -1) {
			switch m[1] {
			case "NEEDED":
				needed = append(needed, m[2])
			case "SONAME":
				soname = append(soname, m[2])
			case "RUNPATH":
				runpath = append(runpath, strings.Split(m[2], ":")...)
			case "RPATH":
				rpath = append(rpath, strings.Split(m[2], ":")...)
			}
		}
		var gotSoname []string
		if o.Soname != "" {
			gotSoname = []string{o.Soname}
		}
		if diff := cmp.Diff([]any{needed, soname, runpath, rpath}, []any{o.Needed, gotSoname, o.RunPath, o.RPath}, cmp.Comparer(func(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") })); diff != "" {
			t.Errorf("%s: dynamic section differs from readelf (-readelf +Read):\n%s", f, diff)
		}
		// Symbol counts: readelf --dyn-syms, global/weak/unique, named.
		out, err = exec.Command(readelf, "--dyn-syms", "-W", f).Output()
		if err != nil {
			continue
		}
		und, def := 0, 0
		for _, line := range strings.Split(string(out), "\n") {
			fs := strings.Fields(strings.Replace(line, "<OS specific>: 10", "UNIQUE", 1))
			if len(fs) < 8 || !strings.HasSuffix(fs[0], ":") {
				continue
			}
			if fs[4] != "GLOBAL" && fs[4] != "WEAK" && fs[4] != "UNIQUE" {
				continue
			}
			if fs[6] == "UND" {
				und++
			} else if fs[3] != "SECTION" && fs[3] != "FILE" && !(fs[1] == strings.Repeat("0", len(fs[1])) && fs[6] != "ABS" && fs[3] != "TLS") {
				def++
			}
		}
		if und != len(o.Undefined) || def != len(o.Defined) {
			t.Errorf("%s: %d undefined and %d defined symbols, readelf says %d and %d", f, len(o.Undefined), len(o.Defined), und, def)
		}
	}
	t.Logf("cross-checked %d files", len(files))
}
