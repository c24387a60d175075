package resolve

import (
	stdcmp "cmp"
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/testregistry"
)

// messyTags maps each tag to the PostgreSQL major of the one image its
// index holds (all linux/amd64, glibc 2.41).
var messyTags = map[string]int{
	"1.4": 18, "3.5.2": 18, "2.13.0": 18, "1.0-beta1": 18,
	"2.13.1-pg17": 17, "2.13.1-pg18": 18,
	"0.8.1-18-trixie": 18, "18-0.9.0-trixie": 18, "0.9.0-18-bookworm": 18,
	"4.0":    17, // the newest release exists only for PostgreSQL 17
	"latest": 18, "main": 18,
}

func TestResolveVersion(t *testing.T) {
	srv := startRegistry(t, testregistry.Options{})
	repo := pushRepo(t, srv, "ext/messy")
	for tag, pg := range messyTags {
		v := tag
		if tg, ok := ParseTag(tag); ok {
			v = tg.Version.String()
		}
		d := pushImage(t, repo, testImage{platform: plat("linux/amd64"), meta: meta(v, pg, "glibc", "2.41")})
		pushIndex(t, repo, []ocispec.Descriptor{d}, tag)
	}
	tests := []struct {
		name, constraint string
		pg               int
		want             string // the tag resolved
		err              error
		manifests        int // manifest GETs; the tags list takes 4 more GETs of 3 tags each
	}{
		{"latest skips 4.0 built for 17 only", "", 18, "3.5.2", nil, 3},
		{"latest for 17", "latest", 17, "4.0", nil, 2},
		{"tilde", "~1.4", 18, "1.4", nil, 2},
		{"caret picks the pg tag", "^2", 18, "2.13.1-pg18", nil, 2},
		{"caret for 17", "^2", 17, "2.13.1-pg17", nil, 2},
		{"range", ">=1.2,<2", 18, "1.4", nil, 2},
		{"range with spaces", ">= 1.2 < 2", 18, "1.4", nil, 2},
		{"exact pre-release", "1.0-beta1", 18, "1.0-beta1", nil, 2},
		{"range excludes pre-releases", "<1.2", 18, "18-0.9.0-trixie", nil, 2},
		{"cloudnativepg scheme", "<0.9", 18, "0.8.1-18-trixie", nil, 2},
		{"exact 2.13 is 2.13.0", "2.13", 18, "2.13.0", nil, 2},
		{"no such version", "9", 18, "", ErrNoVersion, 0},
		{"only incompatible versions", "4.0", 18, "", ErrIncompatible, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := server18()
			target.PG.Major = tc.pg
			srv.ResetRequests()
			res, err := ResolveReference(context.Background(), srv.Host()+"/ext/messy", target,
				Options{Version: tc.constraint, Remote: RemoteOptions{TagPageSize: 3}})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if res.Tag != tc.want {
				t.Errorf("resolved tag %q, want %q", res.Tag, tc.want)
			}
			m, b, tags, other := countRequests(srv)
			if diff := cmp.Diff([4]int{tc.manifests, 0, 4, 0}, [4]int{m, b, tags, other}); diff != "" {
				t.Errorf("requests [manifests blobs tags other] (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveVersionAndTagConflict(t *testing.T) {
	_, err := Resolve(context.Background(), nil, Reference{Registry: "r.example", Repository: "x", Tag: "1.0"}, server18(), Options{Version: "^1"})
	if !errors.Is(err, ErrReference) {
		t.Fatalf("err = %v, want ErrReference", err)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		nums []int
		pre  string
		err  bool
	}{
		{"1.4", []int{1, 4}, "", false},
		{"3.5.2", []int{3, 5, 2}, "", false},
		{"2.13.0", []int{2, 13, 0}, "", false},
		{"1.0-beta1", []int{1, 0}, "beta1", false},
		{"1.0beta1", []int{1, 0}, "beta1", false},
		{"v0.8.1", []int{0, 8, 1}, "", false},
		{"1.0~rc1", []int{1, 0}, "rc1", false},
		{"17", []int{17}, "", false},
		{"", nil, "", true},
		{"latest", nil, "", true},
		{"1.0-", nil, "", true},
		{"1.0-be ta", nil, "", true},
		{"1.2.3.4.5.6.7.8.9", nil, "", true},
		{"99999999999", nil, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			v, err := ParseVersion(tc.in)
			if tc.err {
				if !errors.Is(err, ErrVersion) {
					t.Fatalf("ParseVersion(%q) = %+v, %v; want ErrVersion", tc.in, v, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Version{Nums: tc.nums, Pre: tc.pre, Raw: tc.in}, v); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersionCompare(t *testing.T) {
	// Each version sorts strictly before the next.
	order := []string{"0.9", "1.0-alpha", "1.0-beta1", "1.0-beta2", "1.0-beta10", "1.0-rc1", "1.0", "1.0.1", "1.4", "1.10", "2.13.0", "3.5.2"}
	for i := range order {
		for j := range order {
			a, _ := ParseVersion(order[i])
			b, _ := ParseVersion(order[j])
			if got, want := a.Compare(b), stdcmp.Compare(i, j); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	a, _ := ParseVersion("1.4")
	b, _ := ParseVersion("1.4.0")
	if a.Compare(b) != 0 {
		t.Errorf("1.4 and 1.4.0 differ")
	}
}

func TestConstraint(t *testing.T) {
	tests := []struct {
		c     string
		match []string
		miss  []string
	}{
		{"", []string{"0.1", "99.0"}, []string{"1.0-beta1"}},
		{"latest", []string{"1.0"}, []string{"2.0-rc1"}},
		{"1.4", []string{"1.4", "1.4.0", "v1.4"}, []string{"1.4.1", "1.3"}},
		{"=1.0-beta1", []string{"1.0-beta1"}, []string{"1.0", "1.0-beta2"}},
		{">=1.2,<2", []string{"1.2", "1.9.9"}, []string{"1.1", "2.0", "2.0-beta1", "1.5-rc1"}},
		{"~1.4", []string{"1.4", "1.4.9"}, []string{"1.5", "1.3.9"}},
		{"~1", []string{"1.0", "1.99"}, []string{"2.0"}},
		{"^2", []string{"2.0", "2.13.0"}, []string{"3.0", "1.9", "3.0-beta1"}},
		{"^0.8", []string{"0.8.1"}, []string{"0.9.0"}},
		{"^0.0.3", []string{"0.0.3"}, []string{"0.0.4"}},
		{">=1.0-beta1", []string{"1.0-beta2", "1.0", "3.0"}, []string{"1.0-alpha"}},
		{"!=1.4, >1", []string{"1.3", "1.5"}, []string{"1.4", "1.0"}},
	}
	for _, tc := range tests {
		t.Run(tc.c, func(t *testing.T) {
			c, err := ParseConstraint(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.match {
				if v, _ := ParseVersion(s); !c.Match(v) {
					t.Errorf("%q does not match %s", tc.c, s)
				}
			}
			for _, s := range tc.miss {
				if v, _ := ParseVersion(s); c.Match(v) {
					t.Errorf("%q matches %s", tc.c, s)
				}
			}
		})
	}
	for _, bad := range []string{">=", "~x", "1.0,,^", "<<1", ">=1.0 &&"} {
		if _, err := ParseConstraint(bad); !errors.Is(err, ErrConstraint) {
			t.Errorf("ParseConstraint(%q) err = %v, want ErrConstraint", bad, err)
		}
	}
}

func TestParseTag(t *testing.T) {
	tests := []struct {
		tag      string
		version  string
		pg       int
		distro   string
		notATag  bool
		wantNums []int
	}{
		{tag: "1.4", version: "1.4"},
		{tag: "1.0-beta1", version: "1.0-beta1"},
		{tag: "3.5.2-pg17", version: "3.5.2", pg: 17},
		{tag: "1.0-beta1-pg17", version: "1.0-beta1", pg: 17},
		{tag: "0.8.1-18-trixie", version: "0.8.1", pg: 18, distro: "trixie"},
		{tag: "18-0.8.1-trixie", version: "0.8.1", pg: 18, distro: "trixie"},
		{tag: "2-18-bookworm", version: "2", pg: 18, distro: "bookworm"},
		{tag: "1.0-beta", version: "1.0-beta"},
		{tag: "latest", notATag: true},
		{tag: "sha256-abc.sig", notATag: true},
		{tag: "main", notATag: true},
	}
	for _, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			got, ok := ParseTag(tc.tag)
			if ok == tc.notATag {
				t.Fatalf("ParseTag(%q) ok = %v", tc.tag, ok)
			}
			if !ok {
				return
			}
			if got.Version.String() != tc.version || got.PGMajor != tc.pg || got.Distro != tc.distro {
				t.Errorf("ParseTag(%q) = version %q pg %d distro %q, want %q %d %q", tc.tag, got.Version, got.PGMajor, got.Distro, tc.version, tc.pg, tc.distro)
			}
		})
	}
}
