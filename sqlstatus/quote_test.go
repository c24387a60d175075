package sqlstatus

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{
		"hida":          `"hida"`,
		"Hida":          `"Hida"`,
		"uuid-ossp":     `"uuid-ossp"`,
		`we"ird`:        `"we""ird"`,
		`"`:             `""""`,
		"a\x00b":        `"ab"`,
		"x; DROP TABLE": `"x; DROP TABLE"`,
		"":              `""`,
	} {
		if got := quoteIdent(in); got != want {
			t.Errorf("quoteIdent(%q) = %s, want %s", in, got, want)
		}
		// The same as pgx's own sanitising.
		if got, pgxs := quoteIdent(in), (pgx.Identifier{in}).Sanitize(); got != pgxs {
			t.Errorf("quoteIdent(%q) = %s, pgx.Identifier.Sanitize = %s", in, got, pgxs)
		}
	}
}

func TestQuoteLiteral(t *testing.T) {
	for in, want := range map[string]string{
		"1.1":            `'1.1'`,
		"":               `''`,
		"1.1'; DROP x;-": `'1.1''; DROP x;-'`,
		`a\b`:            `E'a\\b'`,
		`it's\`:          `E'it''s\\'`,
		"$libdir/x":      `'$libdir/x'`,
		"a\x00b":         `'ab'`,
	} {
		if got := quoteLiteral(in); got != want {
			t.Errorf("quoteLiteral(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParsePreload(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                  nil,
		"   ":                               nil,
		"pg_stat_statements":                {"pg_stat_statements"},
		"pg_stat_statements,auto_explain":   {"pg_stat_statements", "auto_explain"},
		" pg_stat_statements , pg_cron ":    {"pg_stat_statements", "pg_cron"},
		`"pg_stat_statements", "$libdir/x"`: {"pg_stat_statements", "$libdir/x"},
		`"a,b", c`:                          {"a,b", "c"},
		`"say ""hi""",x`:                    {`say "hi"`, "x"},
		"My Lib, other":                     {"My Lib", "other"},
		`""`:                                {""},
		"\tpg_cron\n":                       {"pg_cron"},
	} {
		got, err := parsePreload(in)
		if err != nil {
			t.Errorf("parsePreload(%q): %v", in, err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("parsePreload(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{`"unterminated`, `a,`, `,a`, `a,,b`, `"a" b`, `"a"x,c`, `a, `} {
		if got, err := parsePreload(in); !errors.Is(err, errPreloadSyntax) {
			t.Errorf("parsePreload(%q) = %q, %v; want errPreloadSyntax", in, got, err)
		}
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"auto_explain":                    "auto_explain",
		"auto_explain.so":                 "auto_explain",
		"$libdir/auto_explain":            "auto_explain",
		"$libdir/plugins/auto_explain.so": "auto_explain",
		"/opt/pg/lib/pg_cron.so":          "pg_cron",
		"timescaledb-2.17.0":              "timescaledb-2.17.0",
		"lib.dylib":                       "lib",
		".so":                             ".so",
	} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPreloadStatement(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"pg_stat_statements"}, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';"},
		// One literal per entry: 'a, b' would be one library "a, b".
		{[]string{"pg_stat_statements", "pg_cron"}, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', 'pg_cron';"},
		{[]string{"$libdir/it's"}, "ALTER SYSTEM SET shared_preload_libraries = '$libdir/it''s';"},
		{nil, "ALTER SYSTEM RESET shared_preload_libraries;"},
	} {
		if got := preloadStatement(c.in); got != c.want {
			t.Errorf("preloadStatement(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func FuzzParsePreload(f *testing.F) {
	for _, s := range []string{"a,b", `"a,b", c`, `"x""y"`, " , ", `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := parsePreload(s)
		if err != nil {
			return
		}
		// What parses renders back as the same entries: the statement's
		// literals, read as the server reads a list setting, give them
		// again.
		var quoted []string
		for _, e := range entries {
			quoted = append(quoted, `"`+strings.ReplaceAll(e, `"`, `""`)+`"`)
		}
		again, err := parsePreload(strings.Join(quoted, ", "))
		if err != nil || !slices.Equal(again, entries) {
			t.Fatalf("parsePreload(%q) = %q; quoted again %q: %v", s, entries, again, err)
		}
	})
}
