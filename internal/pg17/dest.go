package pg17

import (
	"path/filepath"
	"strings"

	"pgoci/layout"
)

// Dirs are the directories one package's files go to. A directory left
// "" takes nothing.
type Dirs struct {
	Share, PkgLib, Bin string
	// Licenses is <state>/licenses/<name> for the package.
	Licenses string
}

// Dest maps a path of the image root layout to where PostgreSQL 17 mode
// installs it: share/** into <sharedir> (share/extension into
// <sharedir>/extension, the scripts of a control file's directory into
// <sharedir>/<directory>, which is where PostgreSQL 17 and older look for
// them), lib/** into <pkglibdir> (lib/bitcode into <pkglibdir>/bitcode),
// bin/** into <bindir>, licenses/** into the package's licenses
// directory. Other paths (system/) are not installed ("").
func (d Dirs) Dest(p string) string {
	for _, m := range []struct{ prefix, dir string }{
		{layout.DirShare, d.Share},
		{layout.DirLib, d.PkgLib},
		{layout.DirBin, d.Bin},
		{layout.DirLicenses, d.Licenses},
	} {
		if rest, ok := strings.CutPrefix(p, m.prefix+"/"); ok && m.dir != "" {
			return filepath.Join(m.dir, filepath.FromSlash(rest))
		}
	}
	return ""
}

// IsControl reports an extension's control file, which the server reads
// to offer the extension: placed last, removed first.
func IsControl(p string) bool { return strings.HasSuffix(p, ".control") }

// ControlLast orders paths for placing: control files after the rest,
// so CREATE EXTENSION sees an extension only when it is complete.
// Reversed, it orders them for removal.
func ControlLast(a, b string) int { return boolInt(IsControl(a)) - boolInt(IsControl(b)) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
