package host

import "testing"

func TestUnquoteShell(t *testing.T) {
	tests := map[string]string{
		`"Debian GNU/Linux"`: "Debian GNU/Linux",
		`'12'`:               "12",
		`bookworm`:           "bookworm",
		`"a \"b\" \$c"`:      `a "b" $c`,
		`"`:                  `"`,
	}
	for in, want := range tests {
		if got := unquoteShell(in); got != want {
			t.Errorf("unquoteShell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadOSReleaseMissing(t *testing.T) {
	if _, err := ReadOSRelease(t.TempDir() + "/nope"); err == nil {
		t.Error("ReadOSRelease of a missing file: no error")
	}
}
