package labels_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/labels"
)

// decodePairs turns "key=value" lines into annotations; the fuzzer edits
// that text.
func decodePairs(s string) map[string]string {
	in := make(map[string]string)
	for line := range strings.SplitSeq(s, "\n") {
		k, v, _ := strings.Cut(line, "=")
		in[k] = v
	}
	return in
}

// FuzzParse checks that Parse never panics and that whatever parses
// round-trips exactly through Annotations, and that Validate agrees.
// Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("org.pgoci.schema.version=1\norg.pgoci.package.name=vector\norg.pgoci.package.version=0.8.1\norg.pgoci.pg.major=18")
	f.Add("io.cloudnativepg.image.base.pgmajor=18\nio.cloudnativepg.image.base.os=trixie\norg.opencontainers.image.licenses=PostgreSQL")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := labels.Parse(decodePairs(s))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		out := m.Annotations()
		again, err := labels.Parse(out)
		if err != nil {
			t.Fatalf("Parse(Annotations()) = %v\nannotations: %v", err, out)
		}
		if diff := cmp.Diff(m, again); diff != "" {
			t.Fatalf("round trip differs (-first +second):\n%s", diff)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Validate = %v after a clean Parse", err)
		}
		_, _ = m.Target()
		if _, err := labels.Parse(m.SelectionAnnotations()); err != nil && m.SchemaVersion == labels.SchemaVersion {
			// The selection subset of a complete pgoci value parses on its own.
			if m.Source(labels.KeyPackageName) == labels.SourcePgoci && m.Source(labels.KeyPGMajor) == labels.SourcePgoci &&
				m.Source(labels.KeyPackageVersion) == labels.SourcePgoci {
				t.Fatalf("SelectionAnnotations do not parse: %v", err)
			}
		}
	})
}
