package registry

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidTag holds ValidTag to the grammar it replaces.
func TestValidTag(t *testing.T) {
	grammar := regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	cases := []string{"", "1.0", "latest", "_x", "0.8.1-18-trixie", ".x", "-x", "a..b", "a/b", "a:b", "é",
		strings.Repeat("a", 128), strings.Repeat("a", 129), "a b", "A_B.c-D", "sha256-abc.sig", "x\n"}
	for _, s := range cases {
		if got, want := ValidTag(s), grammar.MatchString(s); got != want {
			t.Errorf("ValidTag(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzValidTag(f *testing.F) {
	grammar := regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	for _, s := range []string{"1.0", "", ".a", strings.Repeat("z", 128)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidTag(s), grammar.MatchString(s); got != want {
			t.Errorf("ValidTag(%q) = %v, grammar says %v", s, got, want)
		}
	})
}
