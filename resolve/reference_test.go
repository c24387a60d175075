package resolve

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
)

const testDigest = digest.Digest("sha256:5f77ca78037ed73be8f8e70a189ecc7d1fca28f01e47efb390f4edbb4b7e26d0")

func TestParseReference(t *testing.T) {
	tests := []struct {
		in   string
		want Reference
		err  bool
	}{
		{"ghcr.io/pgoci/vector", Reference{Registry: "ghcr.io", Repository: "pgoci/vector"}, false},
		{"ghcr.io/pgoci/vector:0.8.1", Reference{Registry: "ghcr.io", Repository: "pgoci/vector", Tag: "0.8.1"}, false},
		{"127.0.0.1:5000/ext/vector:1.0-pg17", Reference{Registry: "127.0.0.1:5000", Repository: "ext/vector", Tag: "1.0-pg17"}, false},
		{"localhost:5000/vector@" + string(testDigest), Reference{Registry: "localhost:5000", Repository: "vector", Digest: testDigest}, false},
		{"r.example/vector:1.0@" + string(testDigest), Reference{Registry: "r.example", Repository: "vector", Tag: "1.0", Digest: testDigest}, false},
		{"oci:/srv/layout", Reference{Layout: "/srv/layout"}, false},
		{"oci:layout:1.0", Reference{Layout: "layout", Tag: "1.0"}, false},
		{"oci:./a:b/layout@" + string(testDigest), Reference{Layout: "./a:b/layout", Digest: testDigest}, false},
		{"oci:layout:1.0@" + string(testDigest), Reference{Layout: "layout", Tag: "1.0", Digest: testDigest}, false},
		{"vector:1.0", Reference{}, true},
		{"r.example/Vector", Reference{}, true},
		{"r.example/vector:-bad", Reference{}, true},
		{"r.example/vector@sha256:short", Reference{}, true},
		{"oci:", Reference{}, true},
		{"oci::1.0", Reference{}, true},
		{"", Reference{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseReference(tc.in)
			if tc.err {
				if !errors.Is(err, ErrReference) {
					t.Fatalf("ParseReference(%q) = %+v, %v; want ErrReference", tc.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}
