package resolve

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/internal/elftest"
	"pgoci/labels"
)

func TestParsePGVersion(t *testing.T) {
	tests := []struct {
		name, in string
		want     labels.PG
		wantErr  bool
	}{
		{"release", "PostgreSQL 18.4", labels.PG{Major: 18, VersionNum: 180004, Version: "18.4"}, false},
		{"debian suffix", "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)", labels.PG{Major: 15, VersionNum: 150018, Version: "15.18"}, false},
		{"beta", "PostgreSQL 18beta1", labels.PG{Major: 18, VersionNum: 180000, Version: "18beta1"}, false},
		{"devel", "PostgreSQL 19devel", labels.PG{Major: 19, VersionNum: 190000, Version: "19devel"}, false},
		{"pre-10 refused", "PostgreSQL 9.6.24", labels.PG{}, true},
		{"not postgres", "EnterpriseDB 16", labels.PG{}, true},
		{"empty", "", labels.PG{}, true},
		{"huge number", "PostgreSQL 99999999999999999999.1", labels.PG{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePGVersion(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrPGConfig) {
					t.Fatalf("ParsePGVersion(%q) error = %v, want ErrPGConfig", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePGVersion(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseLibc(t *testing.T) {
	tests := []struct {
		name, in string
		want     labels.Libc
		ok       bool
	}{
		{"getconf", "glibc 2.36\n", labels.Libc{Family: "glibc", Version: "2.36"}, true},
		{"ldd glibc", "ldd (Debian GLIBC 2.36-9+deb12u14) 2.36\nCopyright (C) 2022", labels.Libc{Family: "glibc", Version: "2.36"}, true},
		{"ldd ubuntu", "ldd (Ubuntu GLIBC 2.39-0ubuntu8.4) 2.39\n", labels.Libc{Family: "glibc", Version: "2.39"}, true},
		{"musl ldd", "musl libc (x86_64)\nVersion 1.2.5\nDynamic Program Loader\n", labels.Libc{Family: "musl", Version: "1.2.5"}, true},
		{"garbage", "command not found", labels.Libc{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseLibc(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseLibc(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	in := "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n# comment\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n"
	got, err := ParseOSRelease(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := labels.Distro{ID: "debian", Version: "12", Codename: "bookworm"}
	if got != want {
		t.Errorf("ParseOSRelease = %+v, want %+v", got, want)
	}
}

const pgConfigListing = `BINDIR = /usr/lib/postgresql/15/bin
PKGLIBDIR = /usr/lib/postgresql/15/lib
SHAREDIR = /usr/share/postgresql/15
CONFIGURE =  '--build=x86_64-linux-gnu' '--prefix=/usr'
CC = gcc
LDFLAGS_EX = 
VERSION = PostgreSQL 15.18 (Debian 15.18-0+deb12u1)
`

func TestParsePGConfig(t *testing.T) {
	got, err := ParsePGConfig(strings.NewReader(pgConfigListing))
	if err != nil {
		t.Fatal(err)
	}
	want := PGConfig{
		PG:     labels.PG{Major: 15, VersionNum: 150018, Version: "15.18"},
		BinDir: "/usr/lib/postgresql/15/bin", ShareDir: "/usr/share/postgresql/15",
		PkgLibDir: "/usr/lib/postgresql/15/lib", CC: "gcc",
		Configure: "'--build=x86_64-linux-gnu' '--prefix=/usr'",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParsePGConfig (-want +got):\n%s", diff)
	}
	if _, err := ParsePGConfig(strings.NewReader("VERSION = PostgreSQL 18.1\n")); !errors.Is(err, ErrPGConfig) {
		t.Errorf("listing without SHAREDIR: err = %v, want ErrPGConfig", err)
	}
}

// fakePGConfig writes an executable that prints listing, as pg_config does.
func fakePGConfig(t *testing.T, listing string) string {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "listing")
	if err := os.WriteFile(data, []byte(listing), 0o644); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "pg_config")
	if err := os.WriteFile(prog, []byte("#!/bin/sh\ncat '"+data+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return prog
}

func TestDetect(t *testing.T) {
	osRelease := filepath.Join(t.TempDir(), "os-release")
	if err := os.WriteFile(osRelease, []byte("ID=alpine\nVERSION_ID=3.20.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Detect(context.Background(), DetectOptions{PGConfig: fakePGConfig(t, pgConfigListing), OSRelease: osRelease})
	if err != nil {
		t.Fatal(err)
	}
	if got.PG.Major != 15 || got.PG.VersionNum != 150018 {
		t.Errorf("PG = %+v, want major 15, version_num 150018", got.PG)
	}
	if got.Distro != (labels.Distro{ID: "alpine", Version: "3.20.1"}) {
		t.Errorf("Distro = %+v, want alpine 3.20.1", got.Distro)
	}
	if !cmp.Equal(got.Platform, HostPlatform()) {
		t.Errorf("Platform = %+v, want the host's %+v", got.Platform, HostPlatform())
	}
	// This machine's C library is detected when the usual tools exist.
	if _, err := os.Stat("/usr/bin/getconf"); err == nil && got.Libc.Family == "" {
		t.Errorf("Libc not detected although getconf exists")
	}
}

func TestDetectMissingPGConfig(t *testing.T) {
	_, err := Detect(context.Background(), DetectOptions{PGConfig: filepath.Join(t.TempDir(), "nope")})
	if !errors.Is(err, ErrPGConfig) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v, want ErrPGConfig naming the program", err)
	}
}

func TestTargetString(t *testing.T) {
	tg := Target{PG: labels.PG{Major: 18}, Libc: labels.Libc{Family: "glibc", Version: "2.36"}, Distro: labels.Distro{ID: "debian", Version: "12"}}
	tg.Platform.OS, tg.Platform.Architecture = "linux", "amd64"
	if got, want := tg.String(), "pg 18 linux/amd64 glibc-2.36 debian-12"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (Target{}).String(), "pg ? ?"; got != want {
		t.Errorf("zero String() = %q, want %q", got, want)
	}
}

// TestServerBuild: the ICU major and the compiler come from the server
// executable in pg_config's bindir, and are left unknown when it cannot
// be read.
func TestServerBuild(t *testing.T) {
	bindir := t.TempDir()
	b, err := elftest.Build(elftest.Spec{Arch: "amd64", Needed: []string{"libicuuc.so.72", "libc.so.6"}, Comment: "GCC: (Debian 12.2.0-14) 12.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bindir, "postgres"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if icu, cc := serverBuild(bindir); icu != 72 || cc != "gcc 12.2.0" {
		t.Errorf("serverBuild = %d, %q; want 72, gcc 12.2.0", icu, cc)
	}
	if icu, cc := serverBuild(t.TempDir()); icu != 0 || cc != "" {
		t.Errorf("serverBuild without a server = %d, %q; want unknown", icu, cc)
	}
}
