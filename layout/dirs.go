package layout

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The pg_config directory schemes Discover knows, by their share
// directory: Debian's usr/share/postgresql/<N>, PGDG RPM's
// usr/pgsql-<N>/share, the plain share/postgresql (or share/pgsql) and a
// bare prefix's share.
var (
	debianShare = regexp.MustCompile(`^(?:(.*)/)?share/postgresql/([0-9]+)$`)
	rpmShare    = regexp.MustCompile(`^(?:(.*)/)?pgsql-([0-9]+)/share$`)
	plainShare  = regexp.MustCompile(`^(?:(.*)/)?share/(postgresql|pgsql)$`)
	prefixShare = regexp.MustCompile(`^(?:(.*)/)?share$`)
)

// The same schemes recognised by a module (*.so in pkglibdir) or a
// program (a file in bindir), for trees without a control file. Each
// gives the share directory its scheme implies; the first match wins.
var shareFromFile = []struct {
	re    *regexp.Regexp
	share func(m []string) string
}{
	{regexp.MustCompile(`^(?:(.*)/)?lib/postgresql/([0-9]+)/(?:lib/[^/]+\.so|bin/[^/]+)$`),
		func(m []string) string { return joinPrefix(m[1], "share/postgresql", m[2]) }},
	{regexp.MustCompile(`^(?:(.*)/)?pgsql-([0-9]+)/(?:lib/[^/]+\.so|bin/[^/]+)$`),
		func(m []string) string { return joinPrefix(m[1], "pgsql-"+m[2], "share") }},
	{regexp.MustCompile(`^(?:(.*)/)?lib/(postgresql|pgsql)/[^/]+\.so$`),
		func(m []string) string { return joinPrefix(m[1], "share", m[2]) }},
	{regexp.MustCompile(`^(?:(.*)/)?(?:lib/[^/]+\.so|bin/[^/]+)$`),
		func(m []string) string { return joinPrefix(m[1], "share") }},
}

func joinPrefix(prefix string, elem ...string) string {
	return path.Join(append([]string{prefix}, elem...)...)
}

// findDirs locates the share directory, from the control files or else
// from the modules and programs, and infers the kind of tree, the lib and
// bin directories and the PostgreSQL major.
func (t *Tree) findDirs() error {
	shares := map[string]bool{}
	for _, f := range t.Files {
		d := path.Dir(f.Path)
		if strings.HasSuffix(f.Path, ".control") && path.Base(d) == "extension" {
			shares[path.Dir(d)] = true
		}
	}
	if len(shares) == 0 {
		shares = t.sharesFromFiles()
	}
	switch len(shares) {
	case 0:
		return fmt.Errorf("%w: %s holds nothing PostgreSQL can use: no control file (<sharedir>/extension/<name>.control), no loadable module (<pkglibdir>/<name>.so) and no program (<bindir>/<name>)", ErrNotTree, t.Root)
	case 1:
	default:
		list := slices.Sorted(mapKeys(shares))
		return fmt.Errorf("%w: %s holds files for several installations (share directories %s)", ErrNotTree, t.Root, strings.Join(list, ", "))
	}
	for s := range shares {
		t.ShareDir = s
	}
	return t.dirsFromShare()
}

// sharesFromFiles infers the share directory of a tree without control
// files from where its modules and programs lie.
func (t *Tree) sharesFromFiles() map[string]bool {
	shares := map[string]bool{}
	for _, f := range t.Files {
		for _, s := range shareFromFile {
			if m := s.re.FindStringSubmatch(f.Path); m != nil {
				shares[s.share(m)] = true
				break
			}
		}
	}
	return shares
}

// dirsFromShare sets Kind, LibDir, BinDir and PGMajor from ShareDir.
func (t *Tree) dirsFromShare() error {
	switch s := t.ShareDir; {
	case s == DirShare:
		t.Kind, t.LibDir, t.BinDir = KindLayout, DirLib, DirBin
		return nil
	case debianShare.MatchString(s):
		m := debianShare.FindStringSubmatch(s)
		t.LibDir, t.BinDir = joinPrefix(m[1], "lib/postgresql", m[2], "lib"), joinPrefix(m[1], "lib/postgresql", m[2], "bin")
		t.PGMajor, _ = strconv.Atoi(m[2])
	case rpmShare.MatchString(s):
		m := rpmShare.FindStringSubmatch(s)
		t.LibDir, t.BinDir = joinPrefix(m[1], "pgsql-"+m[2], "lib"), joinPrefix(m[1], "pgsql-"+m[2], "bin")
		t.PGMajor, _ = strconv.Atoi(m[2])
	case plainShare.MatchString(s):
		m := plainShare.FindStringSubmatch(s)
		t.LibDir, t.BinDir = joinPrefix(m[1], "lib", m[2]), joinPrefix(m[1], "bin")
	case prefixShare.MatchString(s):
		m := prefixShare.FindStringSubmatch(s)
		t.LibDir, t.BinDir = joinPrefix(m[1], "lib"), joinPrefix(m[1], "bin")
	default:
		return fmt.Errorf("%w: %s: share directory %q is not a pg_config layout (expected .../share, .../share/postgresql[/<major>] or .../pgsql-<major>/share)", ErrNotTree, t.Root, s)
	}
	t.Kind = KindDESTDIR
	return nil
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
