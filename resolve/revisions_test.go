package resolve

import (
	stdcmp "cmp"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseVersionPackaging: Debian, RPM and semver build suffixes are
// revisions of a release, not pre-releases.
func TestParseVersionPackaging(t *testing.T) {
	tests := []struct {
		name, in string
		want     Version
	}{
		{"debian revision", "2.4.2-3", Version{Nums: []int{2, 4, 2}, Revision: "-3"}},
		{"ubuntu revision", "2.4.2-1ubuntu2", Version{Nums: []int{2, 4, 2}, Revision: "-1ubuntu2"}},
		{"pgdg revision", "0.8.1-2.pgdg13+1", Version{Nums: []int{0, 8, 1}, Revision: "-2.pgdg13+1"}},
		{"pgdg revision in a tag", "0.8.1-2.pgdg13_1", Version{Nums: []int{0, 8, 1}, Revision: "-2.pgdg13+1"}},
		{"repack and binNMU", "3.3.2+dfsg-1+b1", Version{Nums: []int{3, 3, 2}, Revision: "+dfsg-1+b1"}},
		{"repack and binNMU in a tag", "3.3.2_dfsg-1_b1", Version{Nums: []int{3, 3, 2}, Revision: "+dfsg-1+b1"}},
		{"repack with dashes", "3.3.2-dfsg-1-b1", Version{Nums: []int{3, 3, 2}, Revision: "-dfsg-1-b1"}},
		{"repack ds1", "1.1-ds1-2", Version{Nums: []int{1, 1}, Revision: "-ds1-2"}},
		{"tilde repack", "1.0~dfsg-1", Version{Nums: []int{1, 0}, Revision: "~dfsg-1"}},
		{"rpm release", "1.2.3-1.el9", Version{Nums: []int{1, 2, 3}, Revision: "-1.el9"}},
		{"rpm release with underscore", "1.2.3-1.el9_2", Version{Nums: []int{1, 2, 3}, Revision: "-1.el9+2"}},
		{"epoch", "1:6.1.0-2", Version{Epoch: 1, Nums: []int{6, 1, 0}, Revision: "-2"}},
		{"semver build metadata", "1.0.0+build.5", Version{Nums: []int{1, 0, 0}, Revision: "+build.5"}},
		{"pre-release with build metadata", "1.0.0-rc.2+build.5", Version{Nums: []int{1, 0, 0}, Pre: "rc.2", Revision: "+build.5"}},
		{"debian pre-release revision", "1.0~rc1-2", Version{Nums: []int{1, 0}, Pre: "rc1", Revision: "-2"}},
		{"pre-release then revision", "1.0-beta1-2", Version{Nums: []int{1, 0}, Pre: "beta1", Revision: "-2"}},
		{"pre-release", "1.0-rc.2", Version{Nums: []int{1, 0}, Pre: "rc.2"}},
		{"word starting like a repack", "1.0-dsx", Version{Nums: []int{1, 0}, Pre: "dsx"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseVersion(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Raw = tc.in
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseVersion(%q) (-want +got):\n%s", tc.in, diff)
			}
			if got.IsPrerelease() != (tc.want.Pre != "") {
				t.Errorf("ParseVersion(%q).IsPrerelease() = %v", tc.in, got.IsPrerelease())
			}
		})
	}
}

func TestParseVersionPackagingErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, wantMsg string }{
		{"empty build metadata", "1.0+", `"1.0+"`},
		{"empty underscore suffix", "1.0_", "want a letter or digit"},
		{"separator after separator", "1.0+-1", "want a letter or digit"},
		{"colon in a revision", "1.0-1:2", `has ':'`},
		{"epoch without a version", "1:", "want a number"},
		{"bang in a revision", "1.0-dfsg!", `has '!'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ParseVersion(tc.in)
			if !errors.Is(err, ErrVersion) {
				t.Fatalf("ParseVersion(%q) = %+v, %v; want ErrVersion", tc.in, v, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("ParseVersion(%q) error %q does not say %q", tc.in, err, tc.wantMsg)
			}
		})
	}
}

// TestVersionOrder: each version sorts strictly before the next.
func TestVersionOrder(t *testing.T) {
	order := []string{
		"1.0-beta1", "1.0~rc1", "1.0~rc1-2", "1.0~dfsg-1", "1.0",
		"1.0-1", "1.0-3", "1.0-10", "1.0-10ubuntu1", "1.0+dfsg-1", "1.0+dfsg-1+b1", "1.0+dfsg-2",
		"1.0.1-1.el9", "1.0.1-2.el8", "2.0", "1:0.5", "1:0.5-1", "2:0.1",
	}
	for i := range order {
		for j := range order {
			a, errA := ParseVersion(order[i])
			b, errB := ParseVersion(order[j])
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if got, want := a.Compare(b), stdcmp.Compare(i, j); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	// A tag's "_" is a "+": both spellings are one version.
	a, _ := ParseVersion("3.3.2_dfsg-1_b1")
	b, _ := ParseVersion("3.3.2+dfsg-1+b1")
	if a.Compare(b) != 0 {
		t.Errorf("3.3.2_dfsg-1_b1 and 3.3.2+dfsg-1+b1 differ")
	}
}

// TestVersionCompareIsAnOrder: over versions of every shape, Compare is
// antisymmetric and transitive, so that sorting tags is well defined.
func TestVersionCompareIsAnOrder(t *testing.T) {
	pool := []string{"1.0", "1.0.0", "1.0-beta1", "1.0-0.3.7", "1.0~rc1", "1.0~rc1-2", "1.0~dfsg", "1.0~dfsg-1",
		"1.0-1", "1.0-01", "1.0-0", "1.0-1ubuntu1", "1.0-1.el9", "1.0-1.el9_2", "1.0+dfsg-1", "1.0_dfsg-1_b1",
		"1.0-dfsg-1-b1", "1.0+build.5", "1.0+b1", "1.0-rc.2+build", "1:1.0", "1:0.9-3", "0:1.0", "2.0", "0.9.9-10"}
	vs := make([]Version, len(pool))
	for i, s := range pool {
		v, err := ParseVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		vs[i] = v
	}
	for i, a := range vs {
		for j, b := range vs {
			if a.Compare(b) != -b.Compare(a) {
				t.Errorf("Compare(%s, %s) = %d, Compare(%s, %s) = %d", pool[i], pool[j], a.Compare(b), pool[j], pool[i], b.Compare(a))
			}
			for k, c := range vs {
				if a.Compare(b) <= 0 && b.Compare(c) <= 0 && a.Compare(c) > 0 {
					t.Errorf("%s <= %s <= %s but %s > %s", pool[i], pool[j], pool[k], pool[i], pool[k])
				}
			}
		}
	}
}

// TestVersionStringRoundTrip: a version built in code renders to text
// that parses back to it.
func TestVersionStringRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    Version
		want string
	}{
		{"release", Version{Nums: []int{1, 4}}, "1.4"},
		{"numeric pre-release takes a tilde", Version{Nums: []int{2}, Pre: "0"}, "2~0"},
		{"everything", Version{Epoch: 1, Nums: []int{6, 1, 0}, Pre: "rc1", Revision: "+dfsg-2"}, "1:6.1.0-rc1+dfsg-2"},
		{"debian revision", Version{Nums: []int{2, 4, 2}, Revision: "-3"}, "2.4.2-3"},
		{"pre-release spelled like a repack", Version{Nums: []int{0}, Pre: "dfsg"}, "0.dfsg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
			back, err := ParseVersion(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			back.Raw = ""
			if diff := cmp.Diff(tc.v, back); diff != "" {
				t.Errorf("ParseVersion(%q) (-want +got):\n%s", tc.want, diff)
			}
		})
	}
}

// TestConstraintPackaged: a clause compares only the parts it names.
func TestConstraintPackaged(t *testing.T) {
	tests := []struct {
		name, c     string
		match, miss []string
	}{
		{"latest takes packaged releases", "", []string{"2.4.2-3", "3.3.2_dfsg-1_b1", "1.2.3-1.el9", "1:6.1.0"}, []string{"1.0-beta1", "1.0~rc1-2"}},
		{"exact upstream takes its builds", "0.8.1", []string{"0.8.1", "0.8.1-3", "0.8.1_dfsg-1", "1:0.8.1", "0.8.1+build.5"}, []string{"0.8.2", "0.8.0-9", "0.8.1-rc1"}},
		{"exact with =", "=0.8.1", []string{"0.8.1-3"}, []string{"0.8.2-1"}},
		{"exact revision", "=0.8.1-3", []string{"0.8.1-3"}, []string{"0.8.1", "0.8.1-2", "0.8.1-10"}},
		{"exact epoch", "=1:6.1.0", []string{"1:6.1.0", "1:6.1.0-2"}, []string{"6.1.0", "2:6.1.0"}},
		{"range without epoch ignores it", "^6", []string{"1:6.1.0", "6.1.0-2"}, []string{"1:7.0", "5.9"}},
		{"above the upstream excludes its builds", ">0.8.1", []string{"0.8.2", "0.8.2-1"}, []string{"0.8.1-3", "0.8.1_dfsg-1_b1"}},
		{"up to the upstream includes its builds", "<=0.8.1", []string{"0.8.1-3", "0.8.0"}, []string{"0.8.2-1"}},
		{"above a revision", ">0.8.1-3", []string{"0.8.1-10", "0.8.2"}, []string{"0.8.1-3", "0.8.1-2", "0.8.1"}},
		{"tilde", "~0.8", []string{"0.8.1-18", "0.8.0_dfsg-1"}, []string{"0.9.0-1", "0.8.1-beta1"}},
		{"exact pre-release takes its builds", "1.0~rc1", []string{"1.0~rc1-2", "1.0-rc1"}, []string{"1.0", "1.0-rc2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConstraint(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.match {
				if v, err := ParseVersion(s); err != nil || !c.Match(v) {
					t.Errorf("%q does not match %s (%v)", tc.c, s, err)
				}
			}
			for _, s := range tc.miss {
				if v, err := ParseVersion(s); err != nil || c.Match(v) {
					t.Errorf("%q matches %s (%v)", tc.c, s, err)
				}
			}
		})
	}
}
