package linkage_test

import (
	"context"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/linkage"
)

// TestPlanBundle builds a server-like tree: lib/postgresql/mod.so with
// RUNPATH $ORIGIN/.. needs libtop.so.1 (lib/libtop.so.1.2.3, soname
// libtop.so.1, RUNPATH $ORIGIN) which needs libdep.so.2 from its own
// directory and libextra.so.3 from a --lib-path directory; mod.so also needs
// libz.so.1 (the system's), libm.so.6 (C runtime) and libnowhere.so.9.
func TestPlanBundle(t *testing.T) {
	needCC(t)
	if !systemHas(t, "libz.so.1") {
		t.Skip("libz.so.1 not in this machine's ld.so.cache (apt-get install zlib1g)")
	}
	d := t.TempDir()
	p := func(s string) string { return filepath.Join(d, s) }
	cc(t, p("extra/libextra.so.3"), "int extra(void){return 3;}\n", "-shared", "-Wl,-soname,libextra.so.3")
	cc(t, p("tree/lib/libdep.so.2"), "int dep(void){return 2;}\n", "-shared", "-Wl,-soname,libdep.so.2")
	cc(t, p("tree/lib/libtop.so.1.2.3"), "extern int dep(void); extern int extra(void); int top(void){return dep()+extra();}\n",
		"-shared", "-Wl,-soname,libtop.so.1", "-Wl,--enable-new-dtags,-rpath,$ORIGIN", "-Wl,--no-as-needed",
		"-L"+p("tree/lib"), "-l:libdep.so.2", "-L"+p("extra"), "-l:libextra.so.3")
	if err := os.Symlink("libtop.so.1.2.3", p("tree/lib/libtop.so.1")); err != nil {
		t.Fatal(err)
	}
	cc(t, p("fake/libnowhere.so.9"), "int nowhere(void){return 9;}\n", "-shared", "-Wl,-soname,libnowhere.so.9")
	mod := cc(t, p("tree/lib/postgresql/mod.so"), `
#include <math.h>
#include <zlib.h>
extern int top(void); extern int nowhere(void);
double f(double x){ return sin(x) + top() + nowhere() + (double)zlibVersion()[0]; }
`, "-shared", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/..", "-Wl,--no-as-needed",
		"-L"+p("tree/lib"), "-l:libtop.so.1", "-L"+p("fake"), "-l:libnowhere.so.9", "-lz", "-lm")
	// A second module of the same package providing a library the first
	// needs is not bundled again.
	mod2 := cc(t, p("tree/lib/postgresql/libown.so.4"), "int own(void){return 4;}\n", "-shared", "-Wl,-soname,libown.so.4")

	type lib struct {
		Name   string
		Links  []string
		Via    linkage.Via
		Source string
	}
	summarizePlan := func(plan *linkage.BundlePlan) ([]lib, []string, []string) {
		var libs []lib
		for _, l := range plan.Libs {
			libs = append(libs, lib{l.Name, l.Links, l.Via, l.Source})
		}
		var sys, miss []string
		for _, s := range plan.System {
			sys = append(sys, s.Soname)
		}
		for _, m := range plan.Missing {
			miss = append(miss, m.Soname)
		}
		return libs, sys, miss
	}
	plan, err := linkage.PlanBundle(context.Background(), []string{mod, mod2}, linkage.BundleOptions{LibPath: []string{p("extra")}})
	if err != nil {
		t.Fatal(err)
	}
	libs, sys, miss := summarizePlan(plan)
	wantLibs := []lib{
		{"libdep.so.2", nil, linkage.ViaRunPath, p("tree/lib/libdep.so.2")},
		{"libextra.so.3", nil, linkage.ViaLibPath, p("extra/libextra.so.3")},
		{"libtop.so.1.2.3", []string{"libtop.so.1"}, linkage.ViaRunPath, p("tree/lib/libtop.so.1.2.3")},
	}
	if diff := cmp.Diff(wantLibs, libs); diff != "" {
		t.Errorf("libs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"libc.so.6", "libm.so.6", "libz.so.1"}, sys); diff != "" {
		t.Errorf("system (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"libnowhere.so.9"}, miss); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}

	// IncludeSystem bundles libz too, never the C runtime.
	plan, err = linkage.PlanBundle(context.Background(), []string{mod}, linkage.BundleOptions{LibPath: []string{p("extra")}, IncludeSystem: true})
	if err != nil {
		t.Fatal(err)
	}
	libs, sys, _ = summarizePlan(plan)
	var names []string
	for _, l := range libs {
		names = append(names, l.Name)
	}
	if len(names) < 4 || !containsPrefix(names, "libz.so.1") {
		t.Errorf("IncludeSystem: libs %v", names)
	}
	if diff := cmp.Diff([]string{"libc.so.6", "libm.so.6"}, sys); diff != "" {
		t.Errorf("IncludeSystem: system (-want +got):\n%s", diff)
	}

	// The plan is deterministic.
	again, err := linkage.PlanBundle(context.Background(), []string{mod}, linkage.BundleOptions{LibPath: []string{p("extra")}, IncludeSystem: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(plan, again); diff != "" {
		t.Errorf("second plan differs:\n%s", diff)
	}

	// The bundle makes the module load when installed elsewhere.
	system := materialize(t, plan)
	copyFile(t, p("fake/libnowhere.so.9"), filepath.Join(system, "libnowhere.so.9"))
	server := cc(t, p("bin/postgres"), "int main(void){return 0;}\n")
	const at = "/srv/pg/packages/m/1/lib/mod.so"
	r := check(t, linkage.Options{Server: server, LibraryPath: []string{system}, Overlay: []linkage.Mapping{{Target: at, Source: mod}}}, at)
	if err := r.Err(); err != nil {
		t.Fatalf("bundled module: %v", err)
	}
}

func containsPrefix(l []string, p string) bool {
	for _, s := range l {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

// TestPG18Bundle: the contrib modules of the PostgreSQL 18 tree bundle the
// tree's libraries (libpq, OpenSSL 1.1, libossp-uuid, ...), never the C
// runtime, and report libperl/libpython as missing.
func TestPG18Bundle(t *testing.T) {
	needPG18(t)
	mods, _ := filepath.Glob(testPG18 + "/lib/postgresql/*.so")
	plan, err := linkage.PlanBundle(context.Background(), mods, linkage.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range plan.Libs {
		names = append(names, l.Name)
		if linkage.IsCRuntime(l.Soname) {
			t.Errorf("C runtime bundled: %s", l.Name)
		}
	}
	for _, want := range []string{"libpq.so.5.18", "libssl.so.1.1", "libcrypto.so.1.1", "libossp-uuid.so.16"} {
		if !containsPrefix(names, want) {
			t.Errorf("%s not bundled; bundle: %v", want, names)
		}
	}
	var miss []string
	for _, m := range plan.Missing {
		miss = append(miss, m.Soname)
	}
	t.Logf("bundle: %v; missing: %v", names, miss)
}

func TestHelpers(t *testing.T) {
	good, err := linkage.ReadFile(fixture("mod/good.so"))
	if err != nil {
		t.Fatal(err)
	}
	demo, err := linkage.ReadFile(fixture("lib/libdemo.so.1"))
	if err != nil {
		t.Fatal(err)
	}
	nolib, err := linkage.ReadFile(fixture("mod/nolib.so"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"libabsent.so.7"}, linkage.ExternalNeeds([]*linkage.Object{good, demo, nolib})); diff != "" {
		t.Errorf("ExternalNeeds (-want +got):\n%s", diff)
	}
	if got := linkage.RequiredGlibc([]*linkage.Object{{GlibcRequired: "2.17"}, {GlibcRequired: "2.34"}, {GlibcRequired: "2.4"}}); got != "2.34" {
		t.Errorf("RequiredGlibc = %q", got)
	}
	if got := linkage.ICUMajors([]*linkage.Object{{ICUMajor: 72}, {ICUMajor: 60}, {ICUMajor: 72}, {}}); !cmp.Equal(got, []int{60, 72}) {
		t.Errorf("ICUMajors = %v", got)
	}
	o := &linkage.Object{RunPath: []string{"$ORIGIN/..", "/usr/lib/x86_64-linux-gnu", "/build/pg/lib", "/usr/local/pgsql/lib", "lib", "${ORIGIN}"}, RPath: []string{"/home/me/lib"}}
	if diff := cmp.Diff([]string{"/build/pg/lib", "/usr/local/pgsql/lib", "lib", "/home/me/lib"}, linkage.BuildPaths(o)); diff != "" {
		t.Errorf("BuildPaths (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		so   string
		want bool
	}{{"libc.so.6", true}, {"libpthread.so.0", true}, {"ld-linux-x86-64.so.2", true}, {"ld-linux-aarch64.so.1", true},
		{"libgcc_s.so.1", true}, {"libnss_files.so.2", true}, {"libresolv.so.2", true}, {"libpq.so.5", false}, {"libstdc++.so.6", false}, {"libz.so.1", false}} {
		if got := linkage.IsCRuntime(tc.so); got != tc.want {
			t.Errorf("IsCRuntime(%s) = %v", tc.so, got)
		}
	}
	if err := linkage.CheckPlatform(good, "amd64"); err != nil {
		t.Errorf("CheckPlatform amd64: %v", err)
	}
	if err := linkage.CheckPlatform(good, "x86_64"); err != nil {
		t.Errorf("CheckPlatform x86_64: %v", err)
	}
	arm := *good
	arm.Machine, arm.Arch, arm.Path = elf.EM_AARCH64, "arm64", "lib/x.so"
	err = linkage.CheckPlatform(&arm, "amd64")
	var pe *linkage.PlatformError
	if !errors.Is(err, linkage.ErrWrongPlatform) || !errors.As(err, &pe) || pe.Found != "arm64" {
		t.Errorf("arm64 object in an amd64 image: %v", err)
	} else if want := "linkage: lib/x.so is arm64 (EM_AARCH64 ELFCLASS64), not amd64"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	for _, tc := range []struct {
		class elf.Class
		data  elf.Data
		m     elf.Machine
		want  string
	}{
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64, "amd64"}, {elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_386, "386"},
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_AARCH64, "arm64"}, {elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_ARM, "arm"},
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_PPC64, "ppc64le"}, {elf.ELFCLASS64, elf.ELFDATA2MSB, elf.EM_S390, "s390x"},
		{elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_RISCV, "riscv64"}, {elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_X86_64, ""},
	} {
		if got := linkage.ArchOf(tc.class, tc.data, tc.m); got != tc.want {
			t.Errorf("ArchOf(%v %v %v) = %q, want %q", tc.class, tc.data, tc.m, got, tc.want)
		}
	}
}
