package layout

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestRewriteLibdir(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"hstore control", "comment = 'data type for storing sets of (key, value) pairs'\ndefault_version = '1.8'\nmodule_pathname = '$libdir/hstore'\nrelocatable = true\ntrusted = true\n",
			"comment = 'data type for storing sets of (key, value) pairs'\ndefault_version = '1.8'\nmodule_pathname = 'hstore'\nrelocatable = true\ntrusted = true\n"},
		{"cube script uses MODULE_PATHNAME, left for the server", "CREATE FUNCTION cube_in(cstring)\nRETURNS cube\nAS 'MODULE_PATHNAME'\nLANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;\n",
			"CREATE FUNCTION cube_in(cstring)\nRETURNS cube\nAS 'MODULE_PATHNAME'\nLANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;\n"},
		{"earthdistance control", "module_pathname = '$libdir/earthdistance'\nrequires = 'cube'\n",
			"module_pathname = 'earthdistance'\nrequires = 'cube'\n"},
		{"postgis-like script", "CREATE OR REPLACE FUNCTION postgis_lib_version() RETURNS text\n\tAS '$libdir/postgis-3','postgis_lib_version'\n\tLANGUAGE 'c' IMMUTABLE;\nLOAD '$libdir/postgis-3';\nCREATE FUNCTION postgis_raster_lib_version() RETURNS text AS '$libdir/postgis_raster-3', 'x' LANGUAGE c;\n",
			"CREATE OR REPLACE FUNCTION postgis_lib_version() RETURNS text\n\tAS 'postgis-3','postgis_lib_version'\n\tLANGUAGE 'c' IMMUTABLE;\nLOAD 'postgis-3';\nCREATE FUNCTION postgis_raster_lib_version() RETURNS text AS 'postgis_raster-3', 'x' LANGUAGE c;\n"},
		{"nested quoting in a DO block", "EXECUTE 'CREATE FUNCTION f() RETURNS int AS ''$libdir/foo'', ''f'' LANGUAGE C';",
			"EXECUTE 'CREATE FUNCTION f() RETURNS int AS ''foo'', ''f'' LANGUAGE C';"},
		{"subdirectory kept", "LOAD '$libdir/plugins/plugin_debugger';", "LOAD '$libdir/plugins/plugin_debugger';"},
		{"not after a quote", "-- see $libdir/foo for details\n", "-- see $libdir/foo for details\n"},
		{"empty name kept", "x = '$libdir/'", "x = '$libdir/'"},
		{"unterminated at EOF kept", "x = '$libdir/foo", "x = '$libdir/foo"},
		{"newline before quote kept", "'$libdir/foo\nbar'", "'$libdir/foo\nbar'"},
		{"partial prefix at EOF", "x '$lib", "x '$lib"},
		{"other macro kept", "'$sharedir/x'", "'$sharedir/x'"},
		{"empty", "", ""},
		{"adjacent", "'$libdir/a''$libdir/b'", "'a''b'"},
		{"overlong name kept", "'$libdir/" + strings.Repeat("a", 2000) + "'", "'$libdir/" + strings.Repeat("a", 2000) + "'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []struct {
				name string
				wrap func(io.Reader) io.Reader
			}{
				{"whole", func(r io.Reader) io.Reader { return r }},
				{"one byte", iotest.OneByteReader},
				{"half", iotest.HalfReader},
				{"data err", iotest.DataErrReader},
			} {
				got, err := io.ReadAll(RewriteLibdir(mode.wrap(strings.NewReader(tt.in))))
				if err != nil {
					t.Fatalf("%s: %v", mode.name, err)
				}
				if diff := cmp.Diff(tt.want, string(got)); diff != "" {
					t.Errorf("%s: (-want +got):\n%s", mode.name, diff)
				}
			}
		})
	}
}

func TestRewriteLibdirLarge(t *testing.T) {
	// Many references across buffer boundaries, compared with a plain
	// replacement that is correct for this input.
	var in bytes.Buffer
	for i := 0; in.Len() < 1<<20; i++ {
		in.WriteString("CREATE FUNCTION f() RETURNS int AS '$libdir/postgis-3', 'f' LANGUAGE C; -- padding\n")
	}
	want := strings.ReplaceAll(in.String(), "'$libdir/", "'")
	got, err := io.ReadAll(RewriteLibdir(bytes.NewReader(in.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("rewrite of %d bytes differs from the plain replacement", in.Len())
	}
}

func TestRewriteLibdirError(t *testing.T) {
	r := RewriteLibdir(iotest.ErrReader(io.ErrClosedPipe))
	if _, err := io.ReadAll(r); err != io.ErrClosedPipe {
		t.Fatalf("error %v, want the source's error", err)
	}
}

func BenchmarkRewriteLibdir(b *testing.B) {
	var in bytes.Buffer
	for in.Len() < 4<<20 {
		in.WriteString("CREATE FUNCTION f() RETURNS int AS '$libdir/postgis-3', 'f' LANGUAGE C; -- padding padding\n")
	}
	b.SetBytes(int64(in.Len()))
	for b.Loop() {
		if _, err := io.Copy(io.Discard, RewriteLibdir(bytes.NewReader(in.Bytes()))); err != nil {
			b.Fatal(err)
		}
	}
}
