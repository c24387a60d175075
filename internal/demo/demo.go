// Package demo gives the quickstart, the tests and the end-to-end suite
// the demo extension package pgoci_demo (layout/testdata/demo) as DESTDIR
// trees for several PostgreSQL majors, and the build description that goes
// with each.
package demo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/elftest"
	"pgoci/labels"
)

// Package and Version name the demo package.
const (
	Package = "pgoci_demo"
	Version = "1.1.0"
	// Major is the PostgreSQL major the checked-in tree is laid out for.
	Major = 18
)

// Dir returns the checked-in demo tree, found from this source file so
// that programs work from any directory of the checkout.
func Dir() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("demo: cannot locate the source tree")
	}
	dir := filepath.Join(filepath.Dir(self), "..", "..", "layout", "testdata", "demo")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("demo: %w (run from a checkout of the repository)", err)
	}
	return dir, nil
}

// Tree returns a demo DESTDIR tree laid out for PostgreSQL major and built
// for linux/arch, written under work: a copy of the checked-in tree with
// the major replaced in its paths, and with a real (code-less) ELF shared
// object for arch as demo.so, so that the packer and the installer's link
// check read it as a module of that architecture. It stands in for a build
// of the same sources against that major on that architecture.
func Tree(work string, major int, arch string) (string, error) {
	src, err := Dir()
	if err != nil {
		return "", err
	}
	so, err := elftest.Build(elftest.Spec{Arch: arch, Defines: []string{"Pg_magic_func", "_PG_init", "demo_add"},
		Comment: "pgoci demo module " + Version})
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	dst := filepath.Join(work, "demo-pg"+strconv.Itoa(major)+"-"+arch)
	old, repl := strconv.Itoa(Major), strconv.Itoa(major)
	return dst, filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if filepath.Base(rel) == "demo.so" {
			data = so
		}
		out := filepath.Join(dst, strings.ReplaceAll(rel, old, repl))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
}

// Build describes a demo build for PostgreSQL major on linux/arch, on a
// Debian 12 (glibc 2.36) build image.
func Build(major int, arch string) (ocispec.Platform, labels.Metadata) {
	p := ocispec.Platform{OS: "linux", Architecture: arch}
	if arch == "arm64" {
		p.Variant = "v8"
	}
	return p, labels.Metadata{
		Package: labels.Package{Name: Package, Version: Version},
		PG:      labels.PG{Major: major, VersionNum: major*10000 + 4},
		Libc:    labels.Libc{Family: "glibc", Version: "2.36"},
		Distro:  labels.Distro{ID: "debian", Version: "12"},
	}
}
