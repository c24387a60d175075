package view

import (
	"path"
	"slices"
	"strings"

	"pgoci/layout"
)

// Dirs are the image root directories merged into the root's view:
// all of share/ (share/extension, and the script directories control
// files name, which PostgreSQL 18 looks for next to extension/), lib,
// system and bin. licenses/ stays in the package directory.
var Dirs = []string{layout.DirShare, layout.DirLib, layout.DirSystem, layout.DirBin}

// PackageDir is packages/<name>, relative to the root.
func PackageDir(name string) string { return path.Join("packages", name) }

// Target is the target of the view link p of package name: a relative
// path through packages/<name>/current, so an upgrade switches every link
// at once by replacing current.
func Target(name, p string) string {
	up := strings.Repeat("../", strings.Count(p, "/"))
	return up + path.Join(PackageDir(name), "current", p)
}

// AncestorIn reports whether a parent directory of p is one of paths:
// a view link of the previous version that p now goes through.
func AncestorIn(p string, paths []string) bool {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if slices.Contains(paths, d) {
			return true
		}
	}
	return false
}

// HoldsAny reports whether p is a directory of the view holding one of
// paths: a directory of the previous version that is now a file.
func HoldsAny(p string, paths []string) bool {
	return slices.ContainsFunc(paths, func(q string) bool { return strings.HasPrefix(q, p+"/") })
}
