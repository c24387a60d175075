package layout

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseControl(t *testing.T) {
	tests := []struct {
		name string
		file string
		src  string
		want Control
	}{
		{
			name: "hstore",
			file: "hstore.control",
			src: "# hstore extension\ncomment = 'data type for storing sets of (key, value) pairs'\n" +
				"default_version = '1.8'\nmodule_pathname = '$libdir/hstore'\nrelocatable = true\ntrusted = true\n",
			want: Control{Name: "hstore", Comment: "data type for storing sets of (key, value) pairs",
				DefaultVersion: "1.8", ModulePathname: "$libdir/hstore", Relocatable: true, Trusted: true, Superuser: true,
				Set: []string{"comment", "default_version", "module_pathname", "relocatable", "trusted"}},
		},
		{
			name: "earthdistance requires cube",
			file: "/x/share/extension/earthdistance.control",
			src:  "comment = 'calculate great-circle distances on the surface of the Earth'\ndefault_version = '1.2'\nmodule_pathname = '$libdir/earthdistance'\nrelocatable = true\nrequires = 'cube'\n",
			want: Control{Name: "earthdistance", Comment: "calculate great-circle distances on the surface of the Earth",
				DefaultVersion: "1.2", ModulePathname: "$libdir/earthdistance", Relocatable: true, Superuser: true,
				Requires: []string{"cube"}, Set: []string{"comment", "default_version", "module_pathname", "relocatable", "requires"}},
		},
		{
			name: "equals sign optional, unquoted values, comments after values",
			file: "x.control",
			src:  "default_version 1.0   # trailing comment\nschema public\nsuperuser off\r\n",
			want: Control{Name: "x", DefaultVersion: "1.0", Schema: "public",
				Set: []string{"default_version", "schema", "superuser"}},
		},
		{
			name: "last setting wins",
			file: "x.control",
			src:  "comment = 'one'\ntrusted = yes\ncomment = 'two'\n",
			want: Control{Name: "x", Comment: "two", Trusted: true, Superuser: true, Set: []string{"trusted", "comment"}},
		},
		{
			name: "quoting and escapes",
			file: "x.control",
			src:  `comment = 'it''s a \'test\' \t\101\x'` + "\n",
			want: Control{Name: "x", Comment: "it's a 'test' \tAx", Superuser: true, Set: []string{"comment"}},
		},
		{
			name: "requires list with quoted names and case",
			file: "x.control",
			src:  `requires = ' Cube , "PostGIS", "a""b",  earthdistance '`,
			want: Control{Name: "x", Requires: []string{"cube", "PostGIS", `a"b`, "earthdistance"}, Superuser: true, Set: []string{"requires"}},
		},
		{
			name: "empty requires, no_relocate, encoding alias",
			file: "x.control",
			src:  "requires = ''\nno_relocate = 'cube'\nencoding = 'utf-8'\n",
			want: Control{Name: "x", NoRelocate: []string{"cube"}, Encoding: "UTF8", Superuser: true,
				Set: []string{"requires", "no_relocate", "encoding"}},
		},
		{
			name: "secondary control file",
			file: "foo--1.2.control",
			src:  "module_pathname = '$libdir/foo-2'\nrelocatable = false\n",
			want: Control{Name: "foo", Version: "1.2", ModulePathname: "$libdir/foo-2", Superuser: true,
				Set: []string{"module_pathname", "relocatable"}},
		},
		{
			name: "integer and real values, no trailing newline",
			file: "x.control",
			src:  "default_version = 2\ncomment = 1.5e3",
			want: Control{Name: "x", DefaultVersion: "2", Comment: "1.5e3", Superuser: true, Set: []string{"default_version", "comment"}},
		},
		{
			name: "empty file",
			file: "x.control",
			src:  "\n\n# nothing\n",
			want: Control{Name: "x", Superuser: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseControl(strings.NewReader(tt.src), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseControl (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseControlErrors(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		src      string
		sentinel error
		line     int
		contains string
	}{
		{"unknown parameter", "x.control", "comment = 'a'\nfoo = bar\n", ErrUnknownParameter, 2, `unrecognized parameter "foo"`},
		{"case matters", "x.control", "Comment = 'a'\n", ErrUnknownParameter, 1, `"Comment"`},
		{"qualified name", "x.control", "pg.comment = 'a'\n", ErrUnknownParameter, 1, `"pg.comment"`},
		{"include refused", "x.control", "include 'other.conf'\n", ErrUnknownParameter, 1, "include directive"},
		{"bad boolean", "x.control", "relocatable = maybe\n", ErrInvalidValue, 1, `requires a Boolean value, found "maybe"`},
		{"o is not a boolean", "x.control", "trusted = o\n", ErrInvalidValue, 1, "Boolean"},
		{"bad encoding", "x.control", "encoding = klingon\n", ErrInvalidValue, 1, `"klingon" is not a valid server encoding`},
		{"client-only encoding", "x.control", "encoding = SJIS\n", ErrInvalidValue, 1, "encoding"},
		{"bad requires", "x.control", "requires = 'a,,b'\n", ErrInvalidValue, 1, "list of extension names"},
		{"trailing comma", "x.control", "requires = 'a,'\n", ErrInvalidValue, 1, "list of extension names"},
		{"unterminated quoted name", "x.control", `requires = '"a'` + "\n", ErrInvalidValue, 1, "list of extension names"},
		{"directory in secondary", "x--1.0.control", "directory = 'x'\n", ErrInvalidValue, 1, "secondary"},
		{"default_version in secondary", "x--1.0.control", "default_version = '1.0'\n", ErrInvalidValue, 1, "secondary"},
		{"schema with relocatable", "x.control", "schema = s\nrelocatable = true\n", ErrInvalidValue, 0, `"schema" cannot be specified`},
		{"dotted version unquoted", "x.control", "default_version = 1.2.3\n", ErrSyntax, 1, "found \".3\""},
		{"two words", "x.control", "comment = hello world\n", ErrSyntax, 1, `found "world"`},
		{"unterminated string", "x.control", "\ncomment = 'oops\n", ErrSyntax, 2, "unterminated quoted string"},
		{"missing value", "x.control", "comment =\n", ErrSyntax, 1, "found end of line"},
		{"value is equals", "x.control", "comment = =\n", ErrSyntax, 1, `found "="`},
		{"line starts with value", "x.control", "'comment' = 'x'\n", ErrSyntax, 1, "expected a parameter name"},
		{"bad character", "x.control", "comment = $libdir/x\n", ErrSyntax, 1, `found "$"`},
		{"bad file name", "x.txt", "", ErrSyntax, 0, "file name"},
		{"secondary without version", "x--.control", "", ErrSyntax, 0, "file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseControl(strings.NewReader(tt.src), tt.file)
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("error %v, want %v", err, tt.sentinel)
			}
			var ce *ControlError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *ControlError", err)
			}
			if ce.Line != tt.line || ce.File != tt.file {
				t.Errorf("at %s:%d, want %s:%d", ce.File, ce.Line, tt.file, tt.line)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
		})
	}
}

func TestParseControlTooLarge(t *testing.T) {
	src := strings.Repeat("# padding padding padding\n", MaxControlSize/20)
	if _, err := ParseControl(strings.NewReader(src), "x.control"); !errors.Is(err, ErrSyntax) {
		t.Fatalf("error %v, want ErrSyntax", err)
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		in     string
		want   bool
		wantOK bool
	}{
		{"true", true, true}, {"T", true, true}, {"tru", true, true}, {"yes", true, true}, {"y", true, true},
		{"on", true, true}, {"ON", true, true}, {"1", true, true},
		{"false", false, true}, {"f", false, true}, {"no", false, true}, {"n", false, true},
		{"off", false, true}, {"of", false, true}, {"0", false, true},
		{"", false, false}, {"o", false, false}, {"truex", false, false}, {"10", false, false}, {"2", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseBool(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseBool(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestLexLine(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []token
	}{
		{"id equals string", "a = 'b'", []token{{tokID, "a"}, {tokEquals, "="}, {tokString, "'b'"}}},
		{"qualified id", "a.b c", []token{{tokQualifiedID, "a.b"}, {tokID, "c"}}},
		{"unquoted path", "x /a", []token{{tokID, "x"}, {tokError, "/"}, {tokID, "a"}}},
		{"unquoted string", "x a/b:c-d", []token{{tokID, "x"}, {tokUnquoted, "a/b:c-d"}}},
		{"integer with unit", "x 10kB", []token{{tokID, "x"}, {tokInteger, "10kB"}}},
		{"hex", "x 0x1F", []token{{tokID, "x"}, {tokInteger, "0x1F"}}},
		{"real", "x -1.5e-3", []token{{tokID, "x"}, {tokReal, "-1.5e-3"}}},
		{"lone dot is real", "x .", []token{{tokID, "x"}, {tokReal, "."}}},
		{"string longest match", "x 'a''' y", []token{{tokID, "x"}, {tokString, "'a'''"}, {tokID, "y"}}},
		{"string then stray quote", "x 'a''", []token{{tokID, "x"}, {tokString, "'a'"}, {tokError, "'"}}},
		{"escaped quote", `x 'a\'b'`, []token{{tokID, "x"}, {tokString, `'a\'b'`}}},
		{"comment", "# all of it", nil},
		{"high bytes are letters", "x \xc3\xa9t\xc3\xa9", []token{{tokID, "x"}, {tokID, "\xc3\xa9t\xc3\xa9"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lexLine([]byte(tt.in))
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(token{})); diff != "" {
				t.Errorf("lexLine(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestControlMerge(t *testing.T) {
	p, err := ParseControl(strings.NewReader("default_version = '2.0'\nmodule_pathname = '$libdir/foo'\ncomment = 'c'\n"), "foo.control")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseControl(strings.NewReader("module_pathname = '$libdir/foo-1'\nsuperuser = false\n"), "foo--1.0.control")
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Merge(s)
	if err != nil {
		t.Fatal(err)
	}
	want := Control{Name: "foo", Version: "1.0", DefaultVersion: "2.0", ModulePathname: "$libdir/foo-1", Comment: "c",
		Set: []string{"default_version", "comment", "module_pathname", "superuser"}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
	if p.ModulePathname != "$libdir/foo" || !p.Superuser {
		t.Errorf("Merge changed the primary: %+v", p)
	}
	bad, _ := ParseControl(strings.NewReader("relocatable = true\n"), "foo--3.0.control")
	p.Schema = "s"
	if _, err := p.Merge(bad); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Merge of relocatable onto a schema: %v, want ErrInvalidValue", err)
	}
}

func TestParseControlFileName(t *testing.T) {
	tests := []struct {
		in, name, version string
		ok                bool
	}{
		{"hstore.control", "hstore", "", true},
		{"/a/b/hstore--1.2.control", "hstore", "1.2", true},
		{"x--1.0--2.0.control", "", "", false},
		{".control", "", "", false},
		{"--1.0.control", "", "", false},
		{"hstore.sql", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, v, ok := ParseControlFileName(tt.in)
			if n != tt.name || v != tt.version || ok != tt.ok {
				t.Errorf("got %q %q %v, want %q %q %v", n, v, ok, tt.name, tt.version, tt.ok)
			}
		})
	}
}

func TestSplitIdentifiersTruncates(t *testing.T) {
	long := strings.Repeat("a", 62) + "é" // 64 bytes: the é would be cut in half
	got, ok := splitIdentifiers(long)
	if !ok || len(got) != 1 || got[0] != strings.Repeat("a", 62) {
		t.Errorf("splitIdentifiers(long) = %q, %v", got, ok)
	}
}
