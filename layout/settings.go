package layout

import (
	"fmt"
	"path"
	"strings"
)

// Settings holds the values that make a PostgreSQL 18 server find the
// extensions installed in a set of layout roots.
type Settings struct {
	// ExtensionControlPath is the extension_control_path value:
	// "$system" first, then <root>/share for each root. The server appends
	// "extension" to every entry itself.
	ExtensionControlPath string
	// DynamicLibraryPath is the dynamic_library_path value: "$libdir"
	// first, then <root>/lib for each root.
	DynamicLibraryPath string
	// LDLibraryPath is the LD_LIBRARY_PATH environment value for the
	// server process: <root>/system for each root, "" when there is no
	// root. It is an environment variable, not a postgresql.conf setting.
	LDLibraryPath string
}

// PathSettings returns the settings for the layout roots, in the order given
// (the order is the lookup precedence: an extension found in an earlier
// entry hides the same name in a later one; a root given twice keeps its
// first place). The server's own directories come first, so an installed
// image can never shadow a built-in extension or module.
//
// Each root must be an absolute path. Both settings are colon-separated
// lists, so a root holding a colon cannot be expressed and is an error
// (ErrPath), as are roots holding a newline or a NUL; relative roots are
// refused too, since PostgreSQL rejects relative entries ("component in
// parameter ... is not an absolute path").
func PathSettings(roots []string) (Settings, error) {
	ecp := []string{"$system"}
	dlp := []string{"$libdir"}
	var ld []string
	seen := make(map[string]bool)
	for _, r := range roots {
		if err := checkRoot(r); err != nil {
			return Settings{}, err
		}
		r = path.Clean(r)
		if seen[r] {
			continue
		}
		seen[r] = true
		ecp = append(ecp, path.Join(r, DirShare))
		dlp = append(dlp, path.Join(r, DirLib))
		ld = append(ld, path.Join(r, DirSystem))
	}
	return Settings{
		ExtensionControlPath: strings.Join(ecp, ":"),
		DynamicLibraryPath:   strings.Join(dlp, ":"),
		LDLibraryPath:        strings.Join(ld, ":"),
	}, nil
}

func checkRoot(r string) error {
	switch {
	case !strings.HasPrefix(r, "/"):
		return fmt.Errorf("%w: root %q is not an absolute path", ErrPath, r)
	case strings.Contains(r, ":"):
		return fmt.Errorf("%w: root %q holds a colon, the separator of extension_control_path and dynamic_library_path", ErrPath, r)
	case strings.ContainsAny(r, "\n\r\x00"):
		return fmt.Errorf("%w: root %q holds a line break or a NUL", ErrPath, r)
	}
	return nil
}

// PostgresqlConf renders the two server settings as postgresql.conf lines,
// each value quoted for the configuration-file syntax (a quote doubled, a
// backslash doubled), ending in a newline. LDLibraryPath is not included: it
// belongs in the server's environment.
func (s Settings) PostgresqlConf() string {
	return "extension_control_path = " + QuoteConf(s.ExtensionControlPath) + "\n" +
		"dynamic_library_path = " + QuoteConf(s.DynamicLibraryPath) + "\n"
}

// QuoteConf quotes a value for postgresql.conf: it is wrapped in single
// quotes, a single quote and a backslash are doubled, and line breaks become
// \n and \r, which the server's configuration lexer turns back into the
// original string.
func QuoteConf(v string) string {
	r := strings.NewReplacer(`'`, `''`, `\`, `\\`, "\n", `\n`, "\r", `\r`)
	return "'" + r.Replace(v) + "'"
}
