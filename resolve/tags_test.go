package resolve

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/testregistry"
)

// TestParseTagForms: every tag form publishers write.
func TestParseTagForms(t *testing.T) {
	ver := func(raw string) Version {
		v, err := ParseVersion(raw)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name, tag string
		want      Tag // Name is the tag
	}{
		{"bare version", "1.4", Tag{Version: ver("1.4")}},
		{"debian revision", "2.4.2-3", Tag{Version: ver("2.4.2-3")}},
		{"ubuntu revision", "2.4.2-1ubuntu2", Tag{Version: ver("2.4.2-1ubuntu2")}},
		{"sanitised debian version", "3.3.2_dfsg-1_b1", Tag{Version: ver("3.3.2_dfsg-1_b1")}},
		{"rpm release", "1.2.3-1.el9", Tag{Version: ver("1.2.3-1.el9")}},
		{"pre-release", "1.0-beta1", Tag{Version: ver("1.0-beta1")}},
		{"pg suffix", "3.5.2-pg17", Tag{Version: ver("3.5.2"), PGMajor: 17}},
		{"revision and pg suffix", "3.5.2-2-pg17", Tag{Version: ver("3.5.2-2"), PGMajor: 17}},
		{"cloudnativepg rolling", "0.8.1-18-trixie", Tag{Version: ver("0.8.1"), PGMajor: 18, Distro: "trixie"}},
		{"cloudnativepg timestamped", "0.8.1-202509101200-18-trixie",
			Tag{Version: ver("0.8.1"), PGMajor: 18, Distro: "trixie", Build: "202509101200"}},
		{"cloudnativepg timestamp with seconds", "0.8.1-20250910120059-18-trixie",
			Tag{Version: ver("0.8.1"), PGMajor: 18, Distro: "trixie", Build: "20250910120059"}},
		{"cloudnativepg epoch", "1-6.1.0-18-trixie", Tag{Version: ver("1:6.1.0"), PGMajor: 18, Distro: "trixie"}},
		{"cloudnativepg epoch timestamped", "1-6.1.0-202509101200-18-bookworm",
			Tag{Version: ver("1:6.1.0"), PGMajor: 18, Distro: "bookworm", Build: "202509101200"}},
		{"cloudnativepg single-number version", "0.3-18-trixie", Tag{Version: ver("0.3"), PGMajor: 18, Distro: "trixie"}},
		{"cloudnativepg version like a major", "18.0-18-trixie", Tag{Version: ver("18.0"), PGMajor: 18, Distro: "trixie"}},
		{"debian revision before the major", "0.8.1-2-18-trixie", Tag{Version: ver("0.8.1-2"), PGMajor: 18, Distro: "trixie"}},
		{"bare numbers: epoch, as cloudnativepg writes", "2-1-18-trixie", Tag{Version: ver("2:1"), PGMajor: 18, Distro: "trixie"}},
		{"number before the distro is the major", "2-18-bookworm", Tag{Version: ver("2"), PGMajor: 18, Distro: "bookworm"}},
		{"invalid date is a revision", "0.8.1-202513101200-18-trixie",
			Tag{Version: ver("0.8.1-202513101200"), PGMajor: 18, Distro: "trixie"}},
		{"major first", "18-0.8.1-trixie", Tag{Version: ver("0.8.1"), PGMajor: 18, Distro: "trixie"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseTag(tc.tag)
			if !ok {
				t.Fatalf("ParseTag(%q) = false", tc.tag)
			}
			tc.want.Name = tc.tag
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseTag(%q) (-want +got):\n%s", tc.tag, diff)
			}
		})
	}
	for _, bad := range []string{"latest", "main", "sha256-abc.sig", "trixie", strings.Repeat("1", 129)} {
		if got, ok := ParseTag(bad); ok {
			t.Errorf("ParseTag(%q) = %+v, want false", bad, got)
		}
	}
}

// TestSelectTagsOrder: tags come out best first, whatever order they are
// listed in: the epoch, then the version and its revision, then the tag
// naming the target's major and distribution, then the newest build.
func TestSelectTagsOrder(t *testing.T) {
	best := []string{
		"1-0.5.0-18-trixie",
		"0.8.2-1",
		"0.8.1-3",
		"0.8.1-2-18-trixie",
		"0.8.1-202510011200-18-trixie",
		"0.8.1-202509101200-18-trixie",
		"0.8.1-18-trixie",
		"0.8.1-pg18",
		"0.8.1",
		"0.8.1-202510011200-18-bookworm", // loads on trixie, ranked after its own builds
		"0.8.0_dfsg-1_b1",
		"0.8.0_dfsg-1",
		"0.8.0-10",
		"0.8.0-3",
		"0.8.0",
	}
	left := []string{"0.9.0-beta1", "0.9.0-beta1-18-trixie", "0.8.1-17-trixie", "0.8.1-202510011200-17-trixie", "0.8.1-18-alpine", "latest"}
	c, _ := ParseConstraint("")
	for seed := range uint64(5) {
		tags := append(append([]string(nil), best...), left...)
		r := rand.New(rand.NewPCG(seed, seed))
		r.Shuffle(len(tags), func(i, j int) { tags[i], tags[j] = tags[j], tags[i] })
		var got []string
		for _, tag := range SelectTags(tags, c, server18()) {
			got = append(got, tag.Name)
		}
		if diff := cmp.Diff(best, got); diff != "" {
			t.Fatalf("SelectTags(%q) (-want +got):\n%s", tags, diff)
		}
	}
}

// TestResolveCloudNativePGTags: the tags of a CloudNativePG extension
// repository, each build tagged twice, resolve for "latest" and for an
// exact upstream version, to the newest build of the newest version.
func TestResolveCloudNativePGTags(t *testing.T) {
	srv := startRegistry(t, testregistry.Options{})
	repo := pushRepo(t, srv, "ext/cnpg")
	builds := []struct {
		pg   int
		tags []string
	}{
		{18, []string{"0.8.0-18-trixie", "0.8.0-202508011200-18-trixie"}},
		{18, []string{"0.8.1-202509101200-18-trixie"}}, // an older build of 0.8.1
		{18, []string{"0.8.1-18-trixie", "0.8.1-202509201200-18-trixie"}},
		{17, []string{"0.8.1-17-trixie", "0.8.1-202509201200-17-trixie"}},
		{18, []string{"0.8.1-18-bookworm", "0.8.1-202509201200-18-bookworm"}},
	}
	for _, b := range builds {
		tg, _ := ParseTag(b.tags[0])
		d := pushImage(t, repo, testImage{platform: plat("linux/amd64"), meta: meta(tg.Version.String(), b.pg, "glibc", "2.41")})
		pushIndex(t, repo, []ocispec.Descriptor{d}, b.tags...)
	}
	for _, tc := range []struct{ name, constraint, want string }{
		{"latest", "", "0.8.1-202509201200-18-trixie"},
		{"exact", "0.8.1", "0.8.1-202509201200-18-trixie"},
		{"older", "<0.8.1", "0.8.0-202508011200-18-trixie"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ResolveReference(context.Background(), srv.Host()+"/ext/cnpg", server18(), Options{Version: tc.constraint})
			if err != nil {
				t.Fatal(err)
			}
			if res.Tag != tc.want {
				t.Errorf("resolved %q, want %q", res.Tag, tc.want)
			}
		})
	}
}

// TestResolveDebianRevisionTag: a repository whose one tag is a Debian
// revision resolves for "latest".
func TestResolveDebianRevisionTag(t *testing.T) {
	srv := startRegistry(t, testregistry.Options{})
	repo := pushRepo(t, srv, "ext/deb")
	for _, tag := range []string{"2.4.2-3", "3.3.2_dfsg-1_b1"} {
		t.Run(tag, func(t *testing.T) {
			d := pushImage(t, repo, testImage{platform: plat("linux/amd64"), meta: meta(tag, 18, "glibc", "2.41")})
			pushIndex(t, repo, []ocispec.Descriptor{d}, tag)
			res, err := ResolveReference(context.Background(), srv.Host()+"/ext/deb", server18(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Tag != tag {
				t.Errorf("resolved %q, want %q", res.Tag, tag)
			}
		})
	}
}

// TestNoVersionErrorExplains: when no tag satisfies the constraint, the
// error says why each was left out, naming a bounded number of tags.
func TestNoVersionErrorExplains(t *testing.T) {
	many := make([]string, 0, 40)
	for i := range 40 {
		many = append(many, "branch-"+strings.Repeat("x", i%3+1)+string(rune('a'+i%26)))
	}
	tests := []struct {
		name, constraint string
		tags             []string
		want             []string // substrings of the error
		maxLen           int
	}{
		{"each reason", "", []string{"latest-dev", "1.0-beta1", "0.8.1-17-trixie", "0.8.1-18-alpine"}, []string{
			`none of 4 tags satisfies "latest" for PostgreSQL 18`,
			"not a version: latest-dev", "pre-release: 1.0-beta1",
			"another PostgreSQL major: 0.8.1-17-trixie", "another distribution: 0.8.1-18-alpine",
		}, 400},
		{"outside the constraint", "^2", []string{"1.4", "3.0"}, []string{"outside the constraint: 1.4, 3.0"}, 200},
		{"bounded", "", many, []string{"not a version: branch-", "(and 35 more)"}, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := fakeTags(tc.tags)
			_, err := Resolve(context.Background(), src, Reference{Registry: "r.example", Repository: "ext"}, server18(), Options{Version: tc.constraint})
			if !errors.Is(err, ErrNoVersion) {
				t.Fatalf("err = %v, want ErrNoVersion", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if len(err.Error()) > tc.maxLen {
				t.Errorf("error is %d bytes, want at most %d: %s", len(err.Error()), tc.maxLen, err)
			}
		})
	}
}

// fakeTags is a Source that lists tags and holds no content: resolution
// must fail before fetching anything.
type fakeTags []string

func (f fakeTags) Resolve(context.Context, string) (ocispec.Descriptor, error) {
	return ocispec.Descriptor{}, errors.New("fakeTags: no content")
}

func (f fakeTags) Fetch(context.Context, ocispec.Descriptor) (io.ReadCloser, error) {
	return nil, errors.New("fakeTags: no content")
}

func (f fakeTags) Tags(_ context.Context, _ string, fn func([]string) error) error {
	return fn(f)
}
