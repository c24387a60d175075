package extension

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"pgoci/internal/state"
	"pgoci/internal/verify"
	"pgoci/layout"
)

// checkContent refuses, before anything changes, what the install mode
// cannot place: see checkShape and checkControls; in PostgreSQL 17 mode
// also OS libraries (system/), which only an install root and
// LD_LIBRARY_PATH make visible, and programs when pg_config names no
// bindir.
func (i *installer) checkContent(dir string, files []InstalledFile) error {
	if err := checkShape(files); err != nil {
		return err
	}
	if err := checkControls(dir, files); err != nil {
		return err
	}
	if !i.loc.pg17() {
		return nil
	}
	var bad []string
	for _, f := range files {
		if i.loc.dest17("", f.Path) == "" && !strings.HasPrefix(f.Path, layout.DirLicenses+"/") {
			bad = append(bad, f.Path)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: PostgreSQL 17 mode installs share, lib and bin into the server's directories; the image also holds %s (OS libraries need an install root and LD_LIBRARY_PATH)",
			ErrNotInstallable, verify.Truncate(strings.Join(bad, ", ")))
	}
	return nil
}

// Limits on what an extension image may hold, beyond the unpacker's: the
// installer places files under longer names (temporary names, view links
// that climb back to packages/<name>/current), so it keeps room for them.
const (
	maxInstallDepth    = 32
	maxInstallPath     = 1024
	maxInstallBaseName = 200
)

// checkShape refuses content the installer cannot place safely, before
// anything changes: paths too deep or too long, and symbolic links other
// than those checkLink accepts.
func checkShape(files []InstalledFile) error {
	kinds := make(map[string]bool, len(files)) // path -> is a link
	for _, f := range files {
		kinds[f.Path] = f.Link != ""
	}
	for _, f := range files {
		base := path.Base(f.Path)
		if strings.Count(f.Path, "/") >= maxInstallDepth || len(f.Path) > maxInstallPath || len(base) > maxInstallBaseName {
			return fmt.Errorf("%w: %s is too deep or too long to install (at most %d levels, %d bytes, %d-byte names)",
				ErrNotInstallable, verify.Truncate(f.Path), maxInstallDepth, maxInstallPath, maxInstallBaseName)
		}
		if f.Link != "" {
			if why := checkLink(f.Path, f.Link, kinds); why != "" {
				return fmt.Errorf("%w: symbolic link %s -> %s: %s", ErrNotInstallable, f.Path, verify.Truncate(f.Link), why)
			}
		}
	}
	return nil
}

// checkLink says why the link at p with target may not be installed, ""
// when it may. A relative link that stays inside the package's own tree,
// in the same top directory (share, lib, bin, ... are placed apart in
// PostgreSQL 17 mode), through real directories only, and ends at one of
// the package's regular files is safe wherever the tree is placed:
// lib/plugins/pre_prepare.so -> ../pre_prepare.so, or the shared-library
// alias libfoo.so -> libfoo.so.1. Any other link could, once placed, let
// a later file of this or another package be written through it, or
// point at a file the package does not own.
func checkLink(p, target string, isLink map[string]bool) string {
	if target == "" || path.IsAbs(target) {
		return "an extension image may only hold relative links"
	}
	if climbsAfterDescending(target) {
		return "the target climbs back after descending (judged lexically, a directory on the way could differ)"
	}
	dst := path.Join(path.Dir(p), target)
	if dst == ".." || strings.HasPrefix(dst, "../") {
		return "the target leaves the package"
	}
	if top(dst) != top(p) {
		return fmt.Sprintf("the target is outside %s/, which is placed apart from %s/", top(p), top(dst))
	}
	for d := path.Dir(dst); d != "."; d = path.Dir(d) {
		if isLink[d] {
			return "the target goes through another link"
		}
	}
	link, ok := isLink[dst]
	switch {
	case !ok:
		return "the target is not a regular file of the package (missing or a directory)"
	case link:
		return "the target is another link (chains are refused)"
	}
	return ""
}

// climbsAfterDescending reports a ".." after a plain element: "a/../b".
// Leading ".." elements are what relative links are made of.
func climbsAfterDescending(target string) bool {
	parts := strings.Split(target, "/")
	k := 0
	for k < len(parts) && parts[k] == ".." {
		k++
	}
	for _, part := range parts[k:] {
		if part == ".." {
			return true
		}
	}
	return false
}

// top is the first element of a slash-separated path.
func top(p string) string {
	t, _, _ := strings.Cut(p, "/")
	return t
}

// checkControls refuses a control file whose directory parameter is
// absolute or leaves share/: PostgreSQL would read the scripts from the
// machine's own directories, not from the image. The control files are
// parsed with PostgreSQL's rules (layout.ParseControl).
func checkControls(dir string, files []InstalledFile) error {
	for _, f := range files {
		if f.Link != "" || path.Dir(f.Path) != layout.DirExtension || !strings.HasSuffix(f.Path, ".control") {
			continue
		}
		c, err := readControl(filepath.Join(dir, filepath.FromSlash(f.Path)), f.Path)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNotInstallable, err)
		}
		if d := c.Directory; d != "" {
			if j := path.Clean(d); path.IsAbs(d) || j == "." || j == ".." || strings.HasPrefix(j, "../") {
				return fmt.Errorf("%w: %s: directory = %q is absolute or leaves share/: PostgreSQL would read the scripts from outside the image (the control file must name a directory under share/)",
					ErrNotInstallable, f.Path, d)
			}
		}
	}
	return nil
}

func readControl(file, name string) (layout.Control, error) {
	fh, err := os.OpenFile(file, os.O_RDONLY|state.NoFollow, 0)
	if err != nil {
		return layout.Control{}, err
	}
	defer fh.Close()
	return layout.ParseControl(fh, name)
}
