package extension

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/labels"
	"pgoci/layout"
	"pgoci/linkage"
)

// binary is one ELF file of an image being packed: its path in the image
// root layout and what it says.
type binary struct {
	path string
	obj  *linkage.Object
}

// elfDirs are the image directories whose files may be ELF objects.
var elfDirs = []string{layout.DirLib + "/", layout.DirSystem + "/", layout.DirBin + "/"}

// readBinaries reads the ELF files among the regular-file entries under
// lib/, system/ and bin/ (bitcode and scripts are not ELF and are
// skipped, as is anything linkage.ErrNotELF).
func readBinaries(ctx context.Context, entries []layout.Entry) ([]binary, error) {
	var out []binary
	for _, e := range entries {
		if !e.Mode.IsRegular() || e.Kind == layout.FileBitcode || !hasAnyPrefix(e.Path, elfDirs) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o, err := linkage.ReadFile(e.Source)
		if errors.Is(err, linkage.ErrNotELF) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBuild, e.Path, err)
		}
		out = append(out, binary{path: e.Path, obj: o})
	}
	return out, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}

// fromBinaries checks the stated build against the binaries and fills
// what they prove: the platform's architecture, the C library family and
// the version it requires, the ICU major, the compiler, the OS libraries
// needed and not carried, and the per-object facts (labels.Object). A
// statement the binaries contradict is ErrInvalidBuild: labels say what a
// build claims, the binaries prove it. warn receives the findings that do
// not stop the pack (RUNPATHs into the build machine, a stated compiler
// that differs).
func fromBinaries(m *labels.Metadata, platform ocispec.Platform, bins []binary, warn func(string)) error {
	if len(bins) == 0 {
		return nil
	}
	objs := make([]*linkage.Object, len(bins))
	for k, b := range bins {
		objs[k] = b.obj
		if err := linkage.CheckPlatform(b.obj, platform.Architecture); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidBuild, b.path, err)
		}
		for _, p := range linkage.BuildPaths(b.obj) {
			warn(fmt.Sprintf("%s: RUNPATH/RPATH entry %s points at a directory of the build machine; the loader will not find it on a server", b.path, p))
		}
	}
	if err := libcFromBinaries(m, bins); err != nil {
		return err
	}
	switch icu := linkage.ICUMajors(objs); len(icu) {
	case 0:
	case 1:
		m.ICUMajor = icu[0]
	default:
		return fmt.Errorf("%w: the binaries link several ICU majors %v: one image must link one", ErrInvalidBuild, icu)
	}
	compilerFromBinaries(m, bins, warn)
	if len(m.OSRequires) == 0 {
		m.OSRequires = slices.DeleteFunc(linkage.ExternalNeeds(objs), linkage.IsCRuntime)
	}
	m.Objects = objectLabels(bins)
	return nil
}

// libcFromBinaries sets the C library family and required version from
// the binaries, refusing a stated family or version they contradict.
func libcFromBinaries(m *labels.Metadata, bins []binary) error {
	var family string
	for _, b := range bins {
		f := string(b.obj.Libc)
		if f == "" {
			continue
		}
		if family != "" && f != family {
			return fmt.Errorf("%w: %s is built for %s, other binaries for %s", ErrInvalidBuild, b.path, f, family)
		}
		family = f
	}
	if family == "" {
		return nil
	}
	if m.Libc.Family != "" && m.Libc.Family != family {
		return fmt.Errorf("%w: stated C library %s, but the binaries are built for %s", ErrInvalidBuild, m.Libc.Family, family)
	}
	m.Libc.Family = family
	objs := make([]*linkage.Object, len(bins))
	for k, b := range bins {
		objs[k] = b.obj
	}
	req := linkage.RequiredGlibc(objs)
	if req == "" {
		return nil
	}
	if m.Libc.Version != "" && linkage.CompareVersions(req, m.Libc.Version) > 0 {
		return fmt.Errorf("%w: stated glibc %s, but the binaries require GLIBC_%s (%s): they were built against a newer C library",
			ErrInvalidBuild, m.Libc.Version, req, requiring(bins, req))
	}
	m.Libc.Requires = req
	return nil
}

// requiring names the first binary that requires glibc version v.
func requiring(bins []binary, v string) string {
	for _, b := range bins {
		if b.obj.GlibcRequired == v {
			return b.path
		}
	}
	return ""
}

// compilerFromBinaries sets the compiler from the modules' .comment when
// it is not stated, and warns when a stated one differs.
func compilerFromBinaries(m *labels.Metadata, bins []binary, warn func(string)) {
	found := ""
	for _, b := range bins {
		if c := b.obj.CompilerVersion(); c != "" {
			found = c
			if strings.HasPrefix(b.path, layout.DirLib+"/") {
				break // a module's compiler is the one that matters
			}
		}
	}
	switch {
	case found == "":
	case m.Compiler == "":
		m.Compiler = found
	case !strings.HasPrefix(found, m.Compiler):
		warn(fmt.Sprintf("stated compiler %q, but the binaries say %q", m.Compiler, found))
	}
}

// objectLabels records each binary's load facts, nil when there are too
// many for the label (it is then left out rather than cut).
func objectLabels(bins []binary) []labels.Object {
	if len(bins) > 1024 {
		return nil
	}
	out := make([]labels.Object, len(bins))
	for k, b := range bins {
		o := b.obj
		out[k] = labels.Object{Path: b.path, Arch: o.Arch, Class: classBits(o), Libc: string(o.Libc), Glibc: o.GlibcRequired,
			Needs: o.Needed, RunPath: o.RunPath, RPath: o.RPath}
	}
	return out
}

func classBits(o *linkage.Object) int {
	switch o.Class.String() {
	case "ELFCLASS32":
		return 32
	case "ELFCLASS64":
		return 64
	}
	return 0
}

// bundleLibs plans the libraries to carry in system/ for the modules of
// the tree (PackOptions.BundleLibs) and returns them as layer files: each
// library under its own name, and its soname links. Libraries the tree
// already carries in system/ are not bundled again; needs found nowhere
// are warnings (the target system may provide them).
func bundleLibs(ctx context.Context, entries []layout.Entry, opts PackOptions, warn func(string)) ([]layerFile, []binary, error) {
	var modules []string
	have := map[string]bool{}
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Path, layout.DirSystem+"/"):
			have[path.Base(e.Path)] = true
		case e.Mode.IsRegular() && e.Kind != layout.FileBitcode && strings.HasPrefix(e.Path, layout.DirLib+"/"):
			modules = append(modules, e.Source)
		}
	}
	plan, err := linkage.PlanBundle(ctx, modules, linkage.BundleOptions{LibPath: opts.LibPath, IncludeSystem: opts.BundleSystemLibs})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: bundling libraries: %w", ErrInvalidBuild, err)
	}
	for _, f := range plan.Missing {
		warn("bundle: " + f.String())
	}
	var files []layerFile
	var bins []binary
	for _, l := range plan.Libs {
		if have[l.Name] {
			continue
		}
		lf, bin, err := bundledFile(l)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, lf)
		bins = append(bins, bin)
		for _, link := range l.Links {
			if !have[link] {
				files = append(files, layerFile{Name: layout.DirSystem + "/" + link, Mode: fs.ModeSymlink | 0o777, Linkname: l.Name})
			}
		}
	}
	slices.SortFunc(files, func(a, b layerFile) int { return strings.Compare(a.Name, b.Name) })
	return files, bins, nil
}

// bundledFile is the layer file of one bundled library, and its ELF facts.
func bundledFile(l linkage.BundledLib) (layerFile, binary, error) {
	fi, err := os.Stat(l.Source)
	if err != nil {
		return layerFile{}, binary{}, fmt.Errorf("%w: bundling %s: %w", ErrInvalidBuild, l.Source, err)
	}
	o, err := linkage.ReadFile(l.Source)
	if err != nil {
		return layerFile{}, binary{}, fmt.Errorf("%w: bundling %s: %w", ErrInvalidBuild, l.Source, err)
	}
	name := layout.DirSystem + "/" + l.Name
	src := l.Source
	return layerFile{Name: name, Mode: fi.Mode() & fs.ModePerm, Size: fi.Size(),
		Open: func() (io.ReadCloser, error) { return os.Open(src) }}, binary{path: name, obj: o}, nil
}
