package unpack

import (
	"path"
	"strings"
	"unicode/utf8"
)

// maxComponent is NAME_MAX on Linux and most filesystems.
const maxComponent = 255

// cleanName turns a tar entry name into a clean path relative to the root.
// A leading "/" is dropped (absolute names are relative to the root, as in
// containerd); "a/../b" becomes "b"; a name that climbs out is refused. The
// result is "." for the root itself.
func cleanName(name string, lim Limits) (string, error) {
	if err := checkRaw(name); err != nil {
		return "", err
	}
	p := path.Clean("/" + name) // rooted: ".." cannot climb above "/"
	if escapes(name) {
		return "", detail(ErrPathEscapes, "%q climbs out of the root", name)
	}
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		p = "."
	}
	if err := checkShape(p, lim); err != nil {
		return "", err
	}
	return p, nil
}

// escapes reports whether a relative walk of name (with any leading "/"
// dropped) would climb above its start at some point.
func escapes(name string) bool {
	depth := 0
	for _, c := range strings.Split(strings.TrimLeft(name, "/"), "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// checkRaw refuses names no filesystem should see.
func checkRaw(name string) error {
	switch {
	case name == "":
		return detail(ErrInvalidName, "empty name")
	case strings.IndexByte(name, 0) >= 0:
		return detail(ErrInvalidName, "%q contains NUL", name)
	case !utf8.ValidString(name):
		return detail(ErrInvalidName, "%q is not valid UTF-8", name)
	}
	return nil
}

// checkShape applies the component, length and depth caps to a clean path.
func checkShape(p string, lim Limits) error {
	if over(int64(len(p)), lim.PathBytes) {
		return limitErr("PathBytes", int64(len(p)), lim.PathBytes)
	}
	depth := int64(0)
	for c := range strings.SplitSeq(p, "/") {
		if len(c) > maxComponent {
			return detail(ErrInvalidName, "component of %d bytes (max %d)", len(c), maxComponent)
		}
		depth++
	}
	if over(depth, lim.Depth) {
		return limitErr("Depth", depth, lim.Depth)
	}
	return nil
}

// symlinkTarget validates and rewrites the target of a symlink at clean path
// p. An absolute target is taken as relative to the root (as if the root
// were "/") and rewritten relative to the link's directory; a relative
// target that climbs out of the root is refused. The result is lexically
// clean ("../x/y", never "x/../y"), so resolving it through symlinks that are
// themselves clean cannot climb out either.
func symlinkTarget(p, target string, lim Limits) (string, error) {
	if err := checkRaw(target); err != nil {
		return "", err
	}
	var abs string // the target as a root-relative clean path
	if strings.HasPrefix(target, "/") {
		abs = path.Clean(target)
	} else {
		joined := path.Join(path.Dir(p), target)
		if escapes(path.Dir(p) + "/" + target) {
			return "", detail(ErrLinkEscapes, "symlink %q -> %q climbs out of the root", p, target)
		}
		abs = path.Clean("/" + joined)
	}
	abs = strings.TrimPrefix(abs, "/")
	if abs == "" {
		abs = "."
	}
	if err := checkShape(abs, lim); err != nil {
		return "", err
	}
	return relTo(path.Dir(p), abs), nil
}

// relTo returns the clean relative path from directory dir to target, both
// clean and root-relative ("." for the root).
func relTo(dir, target string) string {
	split := func(s string) []string {
		if s == "." {
			return nil
		}
		return strings.Split(s, "/")
	}
	d, t := split(dir), split(target)
	i := 0
	for i < len(d) && i < len(t) && d[i] == t[i] {
		i++
	}
	parts := make([]string, 0, len(d)-i+len(t)-i)
	for range d[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

// hardlinkTarget cleans a hardlink target: hardlink names are relative to
// the root (never the process working directory), like entry names.
func hardlinkTarget(target string, lim Limits) (string, error) {
	t, err := cleanName(target, lim)
	if err != nil {
		if isSentinel(err, ErrPathEscapes) {
			return "", detail(ErrLinkEscapes, "hardlink target %q climbs out of the root", target)
		}
		return "", err
	}
	return t, nil
}

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
)
