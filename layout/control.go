package layout

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// MaxControlSize bounds how much of a control file ParseControl reads.
// Real control files are a few hundred bytes.
const MaxControlSize = 1 << 20

// Control is the content of an extension control file, primary
// (`name.control`) or secondary (`name--version.control`). Field meanings are
// those of the PostgreSQL documentation, "Packaging Related Objects into an
// Extension" (https://www.postgresql.org/docs/18/extend-extensions.html).
type Control struct {
	// Name is the extension name, taken from the file name.
	Name string
	// Version is set for a secondary control file: the version in its
	// name. It is empty for a primary control file.
	Version string

	Directory      string   // directory holding the SQL scripts
	DefaultVersion string   // version installed when none is asked for
	Comment        string   // the extension's comment
	Encoding       string   // canonical PostgreSQL encoding name, or ""
	ModulePathname string   // substituted for MODULE_PATHNAME in scripts
	Requires       []string // extensions that must be installed first
	NoRelocate     []string // required extensions whose schema must not move (PG 16)
	Superuser      bool     // only superusers may create it (default true)
	Trusted        bool     // non-superusers with CREATE may install it
	Relocatable    bool     // objects can move to another schema
	Schema         string   // the fixed schema of a non-relocatable extension

	// Set lists the parameters the file sets, in the order of their last
	// setting, so that [Control.Merge] can tell a default from a value.
	Set []string
}

// ParseControlFileName splits the base name of a control file:
// "hstore.control" gives ("hstore", ""), "hstore--1.2.control" gives
// ("hstore", "1.2"). ok is false for other names.
func ParseControlFileName(file string) (name, version string, ok bool) {
	base, found := strings.CutSuffix(filepath.Base(file), ".control")
	if !found || base == "" {
		return "", "", false
	}
	name, version, secondary := strings.Cut(base, "--")
	if name == "" || secondary && (version == "" || strings.Contains(version, "--")) {
		return "", "", false
	}
	return name, version, true
}

// ParseControl parses a control file read from r. file is the file's name
// (a path or a base name): it gives the extension name and, for a secondary
// control file, its version, and it names the file in errors.
//
// The syntax and the checks are PostgreSQL's own (guc-file.l and
// parse_extension_control_file in src/backend/commands/extension.c):
// `name = value` lines, the `=` optional, values quoted with ” and backslash
// escapes or unquoted, `#` comments; a parameter set twice keeps its last
// value; an unknown parameter, a Boolean that is not one, an unknown encoding
// or a malformed name list is an error, as are `directory` and
// `default_version` in a secondary file and `schema` with `relocatable =
// true`. Include directives, which the server would follow, are refused.
// Errors are [*ControlError] values naming the file and line.
func ParseControl(r io.Reader, file string) (Control, error) {
	name, version, ok := ParseControlFileName(file)
	if !ok {
		return Control{}, &ControlError{File: file, Err: ErrSyntax,
			Msg: "file name is not name.control or name--version.control"}
	}
	c := Control{Name: name, Version: version, Superuser: true}
	br := bufio.NewReader(io.LimitReader(r, MaxControlSize+1))
	read := 0
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		read += len(line)
		if read > MaxControlSize {
			return Control{}, &ControlError{File: file, Err: ErrSyntax,
				Msg: fmt.Sprintf("file is larger than %d bytes", MaxControlSize)}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Control{}, &ControlError{File: file, Line: lineNo, Err: err, Msg: "read failed"}
		}
		if perr := c.parseLine(strings.TrimSuffix(string(line), "\n"), file, lineNo); perr != nil {
			return Control{}, perr
		}
		if err != nil {
			break
		}
	}
	if c.Relocatable && c.Schema != "" {
		return Control{}, &ControlError{File: file, Err: ErrInvalidValue,
			Msg: `parameter "schema" cannot be specified when "relocatable" is true`}
	}
	return c, nil
}

func (c *Control) parseLine(line, file string, lineNo int) error {
	toks := lexLine([]byte(line))
	if len(toks) == 0 {
		return nil
	}
	fail := func(msg string, args ...any) error {
		return &ControlError{File: file, Line: lineNo, Err: ErrSyntax, Msg: fmt.Sprintf(msg, args...)}
	}
	if toks[0].kind != tokID && toks[0].kind != tokQualifiedID {
		return fail("expected a parameter name, found %s", describe(toks[0]))
	}
	key := toks[0].text
	rest := toks[1:]
	if len(rest) > 0 && rest[0].kind == tokEquals {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return fail("expected a value for %q, found end of line", key)
	}
	v := rest[0]
	switch v.kind {
	case tokID, tokString, tokInteger, tokReal, tokUnquoted:
	default:
		return fail("expected a value for %q, found %s", key, describe(v))
	}
	if len(rest) > 1 {
		return fail("expected end of line after the value of %q, found %s (quote values that hold spaces or several dots)", key, describe(rest[1]))
	}
	value := v.text
	if v.kind == tokString {
		value = deescape(v.text)
	}
	return c.set(key, value, file, lineNo)
}

func describe(t token) string {
	if t.kind == tokError && t.text == "'" {
		return "an unterminated quoted string"
	}
	return fmt.Sprintf("%q", t.text)
}

// set applies one parameter, as parse_extension_control_file does.
func (c *Control) set(key, value, file string, lineNo int) error {
	invalid := func(msg string, args ...any) error {
		return &ControlError{File: file, Line: lineNo, Err: ErrInvalidValue, Msg: fmt.Sprintf(msg, args...)}
	}
	var err error
	switch key {
	case "directory", "default_version":
		if c.Version != "" {
			return invalid("parameter %q cannot be set in a secondary extension control file", key)
		}
		if key == "directory" {
			c.Directory = value
		} else {
			c.DefaultVersion = value
		}
	case "module_pathname":
		c.ModulePathname = value
	case "comment":
		c.Comment = value
	case "schema":
		c.Schema = value
	case "relocatable", "superuser", "trusted":
		b, ok := parseBool(value)
		if !ok {
			return invalid("parameter %q requires a Boolean value, found %q", key, value)
		}
		*c.boolField(key) = b
	case "encoding":
		enc, ok := serverEncoding(value)
		if !ok {
			return invalid("%q is not a valid server encoding name", value)
		}
		c.Encoding = enc
	case "requires", "no_relocate":
		names, ok := splitIdentifiers(value)
		if !ok {
			return invalid("parameter %q must be a list of extension names, found %q", key, value)
		}
		if key == "requires" {
			c.Requires = names
		} else {
			c.NoRelocate = names
		}
	default:
		if isInclude(key) {
			err = &ControlError{File: file, Line: lineNo, Err: ErrUnknownParameter,
				Msg: fmt.Sprintf("include directive %q is not supported in control files", key)}
		} else {
			err = &ControlError{File: file, Line: lineNo, Err: ErrUnknownParameter,
				Msg: fmt.Sprintf("unrecognized parameter %q; expected one of %s", key, strings.Join(controlParams, ", "))}
		}
		return err
	}
	c.markSet(key)
	return nil
}

var controlParams = []string{"comment", "default_version", "directory", "encoding",
	"module_pathname", "no_relocate", "relocatable", "requires", "schema", "superuser", "trusted"}

func isInclude(key string) bool {
	k := strings.ToLower(key)
	return k == "include" || k == "include_dir" || k == "include_if_exists"
}

func (c *Control) boolField(key string) *bool {
	switch key {
	case "relocatable":
		return &c.Relocatable
	case "superuser":
		return &c.Superuser
	default:
		return &c.Trusted
	}
}

func (c *Control) markSet(key string) {
	for i, k := range c.Set {
		if k == key {
			c.Set = append(c.Set[:i], c.Set[i+1:]...)
			break
		}
	}
	c.Set = append(c.Set, key)
}

// IsSet reports whether the file set the parameter key.
func (c Control) IsSet(key string) bool {
	for _, k := range c.Set {
		if k == key {
			return true
		}
	}
	return false
}

// Merge returns the primary control c overridden by the parameters that the
// secondary control file sec sets, which is what the server uses when it
// installs or updates to sec.Version (read_extension_aux_control_file).
func (c Control) Merge(sec Control) (Control, error) {
	m := c
	m.Version = sec.Version
	m.Set = append([]string(nil), c.Set...)
	for _, k := range sec.Set {
		switch k {
		case "module_pathname":
			m.ModulePathname = sec.ModulePathname
		case "comment":
			m.Comment = sec.Comment
		case "schema":
			m.Schema = sec.Schema
		case "relocatable":
			m.Relocatable = sec.Relocatable
		case "superuser":
			m.Superuser = sec.Superuser
		case "trusted":
			m.Trusted = sec.Trusted
		case "encoding":
			m.Encoding = sec.Encoding
		case "requires":
			m.Requires = sec.Requires
		case "no_relocate":
			m.NoRelocate = sec.NoRelocate
		}
		m.markSet(k)
	}
	if m.Relocatable && m.Schema != "" {
		return Control{}, &ControlError{File: sec.Name + "--" + sec.Version + ".control", Err: ErrInvalidValue,
			Msg: `parameter "schema" cannot be specified when "relocatable" is true`}
	}
	return m, nil
}

// parseBool accepts what PostgreSQL's parse_bool accepts: a non-empty prefix
// of true, false, yes, no (any case), on or off (at least two letters), 1, 0.
func parseBool(v string) (bool, bool) {
	if v == "" {
		return false, false
	}
	lv := strings.ToLower(v)
	prefix := func(word string, min int) bool {
		return len(lv) >= min && strings.HasPrefix(word, lv)
	}
	switch {
	case prefix("true", 1), prefix("yes", 1), prefix("on", 2), lv == "1":
		return true, true
	case prefix("false", 1), prefix("no", 1), prefix("off", 2), lv == "0":
		return false, true
	}
	return false, false
}
