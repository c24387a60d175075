package resolve

import (
	"testing"
)

// FuzzParseReference: never panics; a parsed reference renders to a
// string that parses back to the same reference.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"ghcr.io/pgoci/vector:0.8.1", "127.0.0.1:5000/ext/vector@" + string(testDigest),
		"oci:/srv/layout:1.0", "oci:./a:b@" + string(testDigest), "r.example/v:1@" + string(testDigest)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			return
		}
		again, err := ParseReference(r.String())
		if err != nil {
			t.Fatalf("ParseReference(%q) = %+v renders %q, which does not parse: %v", s, r, r.String(), err)
		}
		if again != r {
			t.Fatalf("round trip of %q: %+v then %+v", s, r, again)
		}
	})
}

// FuzzParseVersion: never panics; Compare is reflexive, antisymmetric
// and transitive over the pair and a third version, and agrees with a
// reparse of the version's canonical text.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.4", "3.5.2", "2.13.0", "1.0-beta1", "v0.8.1", "1.0.0-rc.2+build", "1.0~rc1",
		"2.4.2-3", "2.4.2-1ubuntu2", "3.3.2_dfsg-1_b1", "3.3.2+dfsg-1+b1", "3.3.2-dfsg-1-b1", "1.2.3-1.el9", "1:6.1.0-2", "1.0~dfsg-1"} {
		f.Add(s, "1.0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := ParseVersion(a)
		vb, errB := ParseVersion(b)
		if errA != nil || errB != nil {
			return
		}
		if va.Compare(va) != 0 {
			t.Fatalf("%q != itself", a)
		}
		if va.Compare(vb) != -vb.Compare(va) {
			t.Fatalf("Compare(%q, %q) = %d but Compare(%q, %q) = %d", a, b, va.Compare(vb), b, a, vb.Compare(va))
		}
		// A third version between or around them: a <= b <= c implies a <= c.
		vc, _ := ParseVersion("2.4.2-3")
		if va.Compare(vb) <= 0 && vb.Compare(vc) <= 0 && va.Compare(vc) > 0 {
			t.Fatalf("%q <= %q <= 2.4.2-3 but %q > 2.4.2-3", a, b, a)
		}
		built := Version{Epoch: va.Epoch, Nums: va.Nums, Pre: va.Pre, Revision: va.Revision}
		if re, err := ParseVersion(built.String()); err != nil || re.Compare(va) != 0 {
			t.Fatalf("canonical %q of %q reparses as %+v, %v", built.String(), a, re, err)
		}
	})
}

// FuzzParseConstraint: never panics; a constraint that parses matches
// without panicking, and an exact constraint matches its own version.
func FuzzParseConstraint(f *testing.F) {
	for _, s := range []string{"", "latest", "1.4", ">=1.2,<2", "~1.4", "^2", "^0.0.3", ">= 1.0-beta1 != 1.1", "=1.0-beta1"} {
		f.Add(s, "1.4.2")
	}
	f.Fuzz(func(t *testing.T, c, v string) {
		con, err := ParseConstraint(c)
		if err != nil {
			return
		}
		if ver, err := ParseVersion(v); err == nil {
			_ = con.Match(ver)
		}
		if con.IsExact() && !con.Match(con.clauses[0].v) {
			t.Fatalf("exact constraint %q does not match %s", c, con.clauses[0].v)
		}
	})
}

// FuzzParseTag: never panics; a tag that parses names a version whose Raw
// text parses on its own to the same version, a PostgreSQL major in range
// and a build that is "" or a timestamp.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"1.4", "3.5.2-pg17", "0.8.1-18-trixie", "18-0.8.1-trixie", "1.0-beta1-pg17", "latest",
		"2.4.2-3", "3.3.2_dfsg-1_b1", "0.8.1-202509101200-18-trixie", "1-6.1.0-18-trixie", "1-6.1.0-20250910120000-18-bookworm", "0.8.1-2-18-trixie"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tag, ok := ParseTag(s)
		if !ok {
			return
		}
		again, err := ParseVersion(tag.Version.Raw)
		if err != nil {
			t.Fatalf("ParseTag(%q) version %q does not parse: %v", s, tag.Version.Raw, err)
		}
		if again.Compare(tag.Version) != 0 || again.Epoch != tag.Version.Epoch {
			t.Fatalf("ParseTag(%q) version %+v, but its Raw %q parses as %+v", s, tag.Version, tag.Version.Raw, again)
		}
		if tag.PGMajor != 0 && (tag.PGMajor < 10 || tag.PGMajor > 999) {
			t.Fatalf("ParseTag(%q) PG major %d", s, tag.PGMajor)
		}
		if tag.Build != "" && !isTimestamp(tag.Build) {
			t.Fatalf("ParseTag(%q) build %q is no timestamp", s, tag.Build)
		}
	})
}
