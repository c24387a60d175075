package sqlstatus

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// quoteIdent quotes an SQL identifier, always: "name", with embedded
// double quotes doubled. PostgreSQL identifiers cannot hold a NUL byte;
// one is dropped, as pgx's Identifier.Sanitize does.
func quoteIdent(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteLiteral quotes an SQL string literal as PostgreSQL's quote_literal
// does: single quotes doubled, and a string holding a backslash written
// as an escape string (E'...') with the backslashes doubled, so that it
// reads the same whatever standard_conforming_strings says.
func quoteLiteral(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	q := strings.ReplaceAll(s, `'`, `''`)
	if strings.Contains(s, `\`) {
		return `E'` + strings.ReplaceAll(q, `\`, `\\`) + `'`
	}
	return `'` + q + `'`
}

// errPreloadSyntax: a shared_preload_libraries value the server would
// refuse.
var errPreloadSyntax = errors.New("invalid list syntax")

// parsePreload splits a shared_preload_libraries value into its entries as
// the server does (SplitDirectoriesString): separated by commas, blanks
// around an entry dropped, an entry in double quotes taken as written
// (commas included, "" for one double quote). Case is kept: these are
// file names. An unterminated quote, text after a closing quote or an
// empty unquoted entry is errPreloadSyntax, as the server says.
func parsePreload(v string) ([]string, error) {
	i := skipBlanks(v, 0)
	if i == len(v) {
		return nil, nil
	}
	var out []string
	for {
		if i == len(v) {
			return nil, fmt.Errorf("%w: empty entry after the last comma in %q", errPreloadSyntax, v)
		}
		var entry string
		if v[i] == '"' {
			var b strings.Builder
			for i++; ; i++ {
				if i == len(v) {
					return nil, fmt.Errorf("%w: unterminated double quote in %q", errPreloadSyntax, v)
				}
				if v[i] == '"' {
					if i+1 == len(v) || v[i+1] != '"' {
						i++
						break
					}
					i++
				}
				b.WriteByte(v[i])
			}
			entry = b.String()
		} else {
			start := i
			for i < len(v) && v[i] != ',' {
				i++
			}
			entry = strings.TrimRight(v[start:i], " \t\n\r\f\v")
			if entry == "" {
				return nil, fmt.Errorf("%w: empty entry in %q", errPreloadSyntax, v)
			}
		}
		out = append(out, entry)
		i = skipBlanks(v, i)
		switch {
		case i == len(v):
			return out, nil
		case v[i] == ',':
			i = skipBlanks(v, i+1)
		default:
			return nil, fmt.Errorf("%w: text after a quoted entry in %q", errPreloadSyntax, v)
		}
	}
}

func skipBlanks(v string, i int) int {
	for i < len(v) && isBlank(v[i]) {
		i++
	}
	return i
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// moduleName is the module an entry of shared_preload_libraries (or of a
// package's preload label) loads: "$libdir/plugins/auto_explain.so" and
// "auto_explain" are both "auto_explain".
func moduleName(entry string) string {
	name := path.Base(strings.ReplaceAll(entry, `\`, "/"))
	for _, suffix := range []string{".so", ".dylib", ".dll"} {
		if trimmed, ok := strings.CutSuffix(name, suffix); ok && trimmed != "" {
			return trimmed
		}
	}
	return name
}

// preloadStatement is the ALTER SYSTEM that sets shared_preload_libraries
// to entries. Each entry is a literal of its own: one literal holding
// "a, b" would name a single library called "a, b", since the server
// quotes each element of a list setting given that way.
func preloadStatement(entries []string) string {
	lits := make([]string, len(entries))
	for i, e := range entries {
		lits[i] = quoteLiteral(e)
	}
	if len(lits) == 0 {
		return "ALTER SYSTEM RESET shared_preload_libraries;"
	}
	return "ALTER SYSTEM SET shared_preload_libraries = " + strings.Join(lits, ", ") + ";"
}
