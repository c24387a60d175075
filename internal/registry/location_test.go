package registry

import "testing"

func TestParseMirrorLocation(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		in, host, ns string
		plain        *bool
		wantErr      bool
	}{
		{in: "mirror.example:5000", host: "mirror.example:5000"},
		{in: "mirror.example/ghcr/", host: "mirror.example", ns: "ghcr"},
		{in: "http://cache:5000", host: "cache:5000", plain: &yes},
		{in: "https://localhost:5000", host: "localhost:5000", plain: &no},
		{in: "", wantErr: true},
		{in: "ftp://x", wantErr: true},
		{in: "host/ns@sha256:x", wantErr: true},
		{in: "Bad Host", wantErr: true},
	}
	for _, tt := range tests {
		host, ns, plain, err := ParseMirrorLocation(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseMirrorLocation(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if host != tt.host || ns != tt.ns || (plain == nil) != (tt.plain == nil) || (plain != nil && *plain != *tt.plain) {
			t.Errorf("ParseMirrorLocation(%q) = %q, %q, %v", tt.in, host, ns, plain)
		}
	}
}

func TestMirrorsFor(t *testing.T) {
	all := map[string][]string{"GHCR.io": {"a"}, "localhost:5000": {"b"}}
	if got := MirrorsFor(all, "ghcr.io"); len(got) != 1 || got[0] != "a" {
		t.Errorf("MirrorsFor(ghcr.io) = %v, want [a] (hosts compare case-insensitively)", got)
	}
	if got := MirrorsFor(all, "quay.io"); got != nil {
		t.Errorf("MirrorsFor(quay.io) = %v, want none", got)
	}
}
