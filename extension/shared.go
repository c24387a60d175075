package extension

import "slices"

// Byte-identical files are shared between packages: PostgreSQL's own
// contrib has plperl and plperlu both need plperl.so, so images of each
// carry it. A path whose content (digest, or link target) is the same in
// several packages is installed once, owned by every package that carries
// it, and removed when the last owner goes. The same path with different
// content stays a conflict naming both packages.

// fileAt returns the record of path p in files.
func fileAt(files []InstalledFile, p string) (InstalledFile, bool) {
	k := slices.IndexFunc(files, func(f InstalledFile) bool { return f.Path == p })
	if k < 0 {
		return InstalledFile{}, false
	}
	return files[k], true
}

// sameContent reports whether two records of one path describe the same
// bytes: regular files with equal digests, or links with equal targets.
func sameContent(a, b InstalledFile) bool {
	if a.Link != "" || b.Link != "" {
		return a.Link == b.Link
	}
	return a.Digest != "" && a.Digest == b.Digest
}

// viewSharers returns, sorted, the packages other than except whose view
// holds p (PostgreSQL 18 mode: view paths are the packages' relative file
// paths).
func viewSharers(recs map[string]Installed, except, p string) []string {
	var out []string
	for _, name := range keysSorted(recs) {
		if name != except && slices.Contains(recs[name].View, p) {
			out = append(out, name)
		}
	}
	return out
}

// fileOwners returns, sorted, the packages other than except whose
// records list the absolute path p (PostgreSQL 17 mode).
func fileOwners(recs map[string]Installed, except, p string) []string {
	var out []string
	for _, name := range keysSorted(recs) {
		if _, ok := fileAt(recs[name].Files, p); ok && name != except {
			out = append(out, name)
		}
	}
	return out
}
