package linkage

import (
	"path"
	"sort"
	"strings"
)

// cRuntime is glibc's own set of shared libraries (by soname, version
// suffix included), plus the GCC runtime libgcc_s: the libraries that must
// come from the system the server runs on and are never bundled.
var cRuntime = map[string]bool{
	"libc.so.6": true, "libm.so.6": true, "libmvec.so.1": true,
	"libdl.so.2": true, "libpthread.so.0": true, "librt.so.1": true,
	"libresolv.so.2": true, "libutil.so.1": true, "libanl.so.1": true,
	"libnsl.so.1": true, "libcrypt.so.1": true, "libBrokenLocale.so.1": true,
	"libthread_db.so.1": true, "libc_malloc_debug.so.0": true,
	"libmemusage.so": true, "libpcprofile.so": true,
	"libgcc_s.so.1": true,
	// musl: the C library answers all of these.
	"libc.so": true,
}

// IsCRuntime reports whether soname belongs to the C runtime: glibc's own
// libraries (libc.so.6, libm.so.6, libmvec.so.1, libdl.so.2,
// libpthread.so.0, librt.so.1, libresolv.so.2, libutil.so.1, libanl.so.1,
// libnsl.so.1, libcrypt.so.1, libBrokenLocale.so.1, libthread_db.so.1,
// libc_malloc_debug.so.0, libmemusage.so, libpcprofile.so, the NSS modules
// libnss_*.so.2 and the loaders ld-linux*.so.*, ld64.so.*, ld.so.1), musl's
// libc.so and ld-musl-*.so.1, and GCC's libgcc_s.so.1. These come from the
// system the server runs on; bundling them breaks the process.
func IsCRuntime(soname string) bool {
	if cRuntime[soname] {
		return true
	}
	switch {
	case strings.HasPrefix(soname, "ld-linux") && strings.Contains(soname, ".so."),
		strings.HasPrefix(soname, "ld64.so."), soname == "ld.so.1",
		strings.HasPrefix(soname, "ld-musl-"),
		strings.HasPrefix(soname, "libnss_") && strings.HasSuffix(soname, ".so.2"):
		return true
	}
	return false
}

// muslReserved reports whether musl's loader answers a need with the C
// library itself: lib{c,pthread,rt,m,dl,util,xnet}.* (musl's
// ldso/dynlink.c, load_library).
func muslReserved(name string) bool {
	for _, r := range []string{"c", "pthread", "rt", "m", "dl", "util", "xnet"} {
		if strings.HasPrefix(name, "lib"+r+".") {
			return true
		}
	}
	return false
}

// ExternalNeeds returns the sonames the objects need that none of them
// provides (by SONAME, or by file name for an object without one), sorted
// and without duplicates: the OS libraries an image needs from the system
// it is installed on. C runtime libraries are included; filter them with
// [IsCRuntime] if you want.
func ExternalNeeds(objs []*Object) []string {
	have := map[string]bool{}
	for _, o := range objs {
		if o.Soname != "" {
			have[o.Soname] = true
		}
		if o.Path != "" {
			have[path.Base(o.Path)] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, o := range objs {
		for _, n := range o.Needed {
			if !have[n] && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// RequiredGlibc returns the highest [Object.GlibcRequired] of the objects:
// the glibc version an image needs, "" when none needs one.
func RequiredGlibc(objs []*Object) string {
	v := ""
	for _, o := range objs {
		if CompareVersions(o.GlibcRequired, v) > 0 {
			v = o.GlibcRequired
		}
	}
	return v
}

// ICUMajors returns the distinct ICU majors the objects link, sorted.
func ICUMajors(objs []*Object) []int {
	seen := map[int]bool{}
	var out []int
	for _, o := range objs {
		if o.ICUMajor != 0 && !seen[o.ICUMajor] {
			seen[o.ICUMajor] = true
			out = append(out, o.ICUMajor)
		}
	}
	sort.Ints(out)
	return out
}

// BuildPaths returns the RUNPATH and RPATH entries of o that point at the
// build machine: absolute directories outside the standard system library
// directories (/lib, /usr/lib, /lib64, /usr/lib64, /usr/local/lib and
// their subdirectories), such as /build/..., /home/... or
// /usr/local/pgsql/lib. Entries starting with $ORIGIN are relative to the
// object and never returned; relative entries (resolved against the
// server's working directory, almost always a mistake) are. Pack warns
// about these: on the target they find nothing, or something else.
func BuildPaths(o *Object) []string {
	var out []string
	for _, list := range [][]string{o.RunPath, o.RPath} {
		for _, d := range list {
			switch {
			case strings.HasPrefix(d, "$ORIGIN") || strings.HasPrefix(d, "${ORIGIN}"):
			case strings.HasPrefix(d, "/") && isSystemDir(d):
			default:
				out = append(out, d)
			}
		}
	}
	return out
}
