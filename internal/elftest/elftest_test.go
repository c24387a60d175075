package elftest

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/linkage"
)

// TestBuild: what Build writes reads back, through the standard library
// and through the project's own ELF reader, as the spec says.
func TestBuild(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64", "ppc64le", "riscv64"} {
		t.Run(arch, func(t *testing.T) {
			b, err := Build(Spec{Arch: arch, Soname: "libx.so.1", Needed: []string{"libc.so.6", "libpq.so.5"}, RunPath: "$ORIGIN/..",
				Defines: []string{"x_init", "x_run"}, Undefined: []string{"PQconnectdb"}, Comment: "GCC: (Debian 12.2.0-14) 12.2.0",
				VersionNeeds: []Need{{File: "libc.so.6", Versions: []string{"GLIBC_2.2.5", "GLIBC_2.34"}}, {File: "libm.so.6", Versions: []string{"GLIBC_2.29"}}}})
			if err != nil {
				t.Fatal(err)
			}
			f, err := elf.NewFile(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			libs, _ := f.ImportedLibraries()
			if !cmp.Equal(libs, []string{"libc.so.6", "libpq.so.5"}) {
				t.Errorf("debug/elf: needed %v", libs)
			}
			o, err := linkage.Read(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			var defined, undefined []string
			for _, s := range o.Defined {
				defined = append(defined, s.Name)
			}
			for _, s := range o.Undefined {
				undefined = append(undefined, s.Name)
			}
			got := []any{o.Arch, o.Soname, o.Needed, o.RunPath, defined, undefined, o.Compiler(), o.GlibcRequired, string(o.Libc)}
			want := []any{arch, "libx.so.1", []string{"libc.so.6", "libpq.so.5"}, []string{"$ORIGIN/.."}, []string{"x_init", "x_run"},
				[]string{"PQconnectdb"}, "GCC: (Debian 12.2.0-14) 12.2.0", "2.34", "glibc"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("linkage.Read (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := Build(Spec{Arch: "s390x"}); err == nil {
		t.Error("Build for s390x: no error")
	}
}

// TestBuildReadelf cross-checks with binutils' readelf when it is
// installed: it is pickier than debug/elf about the layout.
func TestBuildReadelf(t *testing.T) {
	readelf, err := exec.LookPath("readelf")
	if err != nil {
		t.Skip("readelf not installed (apt-get install binutils); the other tests read the objects with debug/elf")
	}
	for name, spec := range map[string]Spec{
		"plain":    {Arch: "amd64", Soname: "libx.so.1", Needed: []string{"libc.so.6"}, Defines: []string{"f"}},
		"versions": {Arch: "amd64", Needed: []string{"libc.so.6"}, Defines: []string{"f"}, VersionNeeds: []Need{{File: "libc.so.6", Versions: []string{"GLIBC_2.34"}}}},
	} {
		b, err := Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "libx.so")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(readelf, "-W", "-a", p).CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("Warning")) || bytes.Contains(out, []byte("Error")) {
			t.Errorf("%s: readelf -a: %v\n%s", name, err, out)
		}
		wants := []string{"Shared library: [libc.so.6]", "FUNC    GLOBAL DEFAULT    4 f"}
		if name == "versions" {
			wants = append(wants, "Name: GLIBC_2.34")
		}
		for _, want := range wants {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("%s: readelf output lacks %q:\n%s", name, want, out)
			}
		}
	}
}
