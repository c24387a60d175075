package layout

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPathSettings(t *testing.T) {
	tests := []struct {
		name  string
		roots []string
		want  Settings
	}{
		{"no roots", nil, Settings{ExtensionControlPath: "$system", DynamicLibraryPath: "$libdir"}},
		{"one root", []string{"/extensions/pgvector"}, Settings{
			ExtensionControlPath: "$system:/extensions/pgvector/share",
			DynamicLibraryPath:   "$libdir:/extensions/pgvector/lib",
			LDLibraryPath:        "/extensions/pgvector/system"}},
		{"order kept, duplicates and slashes folded", []string{"/b/", "/a", "/b", "/a/./"}, Settings{
			ExtensionControlPath: "$system:/b/share:/a/share",
			DynamicLibraryPath:   "$libdir:/b/lib:/a/lib",
			LDLibraryPath:        "/b/system:/a/system"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PathSettings(tt.roots)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PathSettings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPathSettingsErrors(t *testing.T) {
	for _, root := range []string{"relative/dir", "", "/a:b", "/a\nb", "/a\x00b", "$libdir/x"} {
		t.Run(root, func(t *testing.T) {
			if _, err := PathSettings([]string{"/ok", root}); !errors.Is(err, ErrPath) {
				t.Errorf("PathSettings(%q) error %v, want ErrPath", root, err)
			}
		})
	}
}

func TestPostgresqlConfQuoting(t *testing.T) {
	s, err := PathSettings([]string{`/it's/a\dir`})
	if err != nil {
		t.Fatal(err)
	}
	conf := s.PostgresqlConf()
	want := `extension_control_path = '$system:/it''s/a\\dir/share'` + "\n" +
		`dynamic_library_path = '$libdir:/it''s/a\\dir/lib'` + "\n"
	if conf != want {
		t.Fatalf("got\n%s\nwant\n%s", conf, want)
	}
	// The rendered lines read back, through the control-file lexer (the same
	// syntax), as the original values.
	for _, line := range strings.Split(strings.TrimSuffix(conf, "\n"), "\n") {
		toks := lexLine([]byte(line))
		if len(toks) != 3 || toks[2].kind != tokString {
			t.Fatalf("line %q lexes as %v", line, toks)
		}
		v := deescape(toks[2].text)
		if v != s.ExtensionControlPath && v != s.DynamicLibraryPath {
			t.Errorf("line %q reads back as %q", line, v)
		}
	}
}
