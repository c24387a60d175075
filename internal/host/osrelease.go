package host

import (
	"bufio"
	"io"
	"os"
	"strings"

	"pgoci/labels"
)

// ReadOSRelease reads the os-release file at path, or when path is ""
// the first of /etc/os-release and /usr/lib/os-release that opens.
func ReadOSRelease(path string) (labels.Distro, error) {
	paths := []string{"/etc/os-release", "/usr/lib/os-release"}
	if path != "" {
		paths = []string{path}
	}
	var firstErr error
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		defer f.Close()
		return ParseOSRelease(f)
	}
	return labels.Distro{}, firstErr
}

// ParseOSRelease reads ID, VERSION_ID and VERSION_CODENAME from an
// os-release file (shell-style KEY=value, values optionally quoted).
func ParseOSRelease(r io.Reader) (labels.Distro, error) {
	var d labels.Distro
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		v = unquoteShell(v)
		switch k {
		case "ID":
			d.ID = v
		case "VERSION_ID":
			d.Version = v
		case "VERSION_CODENAME":
			d.Codename = v
		}
	}
	return d, sc.Err()
}

func unquoteShell(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(v)
}

// cmpErr keeps the first error: the default path's failure says more
// than the fallback's.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
