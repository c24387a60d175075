package labels_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/labels"
)

func base() map[string]string {
	return map[string]string{
		labels.KeySchemaVersion:  "1",
		labels.KeyPackageName:    "vector",
		labels.KeyPackageVersion: "0.8.1",
		labels.KeyPGMajor:        "18",
	}
}

func with(kv ...string) map[string]string {
	m := base()
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		value string
		ok    bool
	}{
		{"licenses simple", labels.KeyLicenses, "PostgreSQL", true},
		{"licenses or-later plus", labels.KeyLicenses, "GPL-2.0+", true},
		{"licenses lower-case operators", labels.KeyLicenses, "mit or apache-2.0", true},
		{"licenses document ref", labels.KeyLicenses, "DocumentRef-spdx:LicenseRef-x", true},
		{"licenses nested", labels.KeyLicenses, "((MIT))", true},
		{"licenses mixed-case operator", labels.KeyLicenses, "MIT And BSD", false},
		{"licenses dangling", labels.KeyLicenses, "MIT AND", false},
		{"licenses empty parens", labels.KeyLicenses, "()", false},
		{"licenses unbalanced", labels.KeyLicenses, "(MIT", false},
		{"licenses with plus exception", labels.KeyLicenses, "GPL-2.0 WITH foo+", false},
		{"licenses too deep", labels.KeyLicenses, strings.Repeat("(", 20) + "MIT" + strings.Repeat(")", 20), false},
		{"licenses tab", labels.KeyLicenses, "MIT\tOR BSD", false},
		{"licenses two ids", labels.KeyLicenses, "MIT BSD", false},
		{"name 63 bytes", labels.KeyPackageName, strings.Repeat("a", 63), true},
		{"name 64 bytes", labels.KeyPackageName, strings.Repeat("a", 64), false},
		{"name leading digit", labels.KeyPackageName, "1abc", false},
		{"name trailing hyphen", labels.KeyPackageName, "abc-", false},
		{"name dot", labels.KeyPackageName, "a.b", false},
		{"version unicode", labels.KeyPackageVersion, "1.0\u00e9", false},
		{"version comma", labels.KeyPackageVersion, "1,0", false},
		{"pg major 9", labels.KeyPGMajor, "9", false},
		{"pg major huge", labels.KeyPGMajor, "99999999999999999999", false},
		{"pg major signed", labels.KeyPGMajor, "+18", false},
		{"layout version", labels.KeyLayoutVersion, "1", true},
		{"libc version 4 parts", labels.KeyLibcVersion, "2.36.1.1", true},
		{"libc version 5 parts", labels.KeyLibcVersion, "2.36.1.1.1", false},
		{"digest sha512", labels.KeyBaseDigest, "sha512:" + strings.Repeat("0", 128), true},
		{"digest unknown algorithm", labels.KeyBaseDigest, "md5:" + strings.Repeat("0", 32), false},
		{"compiler spaces", labels.KeyCompiler, "clang 19.1.7", true},
		{"compiler trailing space", labels.KeyCompiler, "gcc ", false},
		{"preload path", labels.KeyPreload, "$libdir/pg_cron,auto_explain", true},
		{"preload space", labels.KeyPreload, "pg cron", false},
		{"os requires many", labels.KeyOSRequires, strings.Repeat("a,", 256) + "b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := labels.Parse(with(tt.key, tt.value))
			if tt.ok && err != nil {
				t.Fatalf("Parse(%s=%q) = %v, want no error", tt.key, tt.value, err)
			}
			if !tt.ok {
				var lerr *labels.Error
				if !errors.As(err, &lerr) || !errors.Is(err, labels.ErrInvalidValue) {
					t.Fatalf("Parse(%s=%q) = %v, want ErrInvalidValue", tt.key, tt.value, err)
				}
				if diff := cmp.Diff([]string{tt.key}, lerr.Keys()); diff != "" {
					t.Errorf("keys (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := labels.Parse(with(labels.KeyPGMajor, "x", labels.KeyRestart, "1"))
	want := `labels: 2 problems: invalid value: key "org.pgoci.pg.major" = "x": an integer from 10 to 999; ` +
		`invalid value: key "org.pgoci.restart" = "1": "true" or "false"`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	_, err = labels.Parse(map[string]string{labels.KeyCompiler: "gcc"})
	if !errors.Is(err, labels.ErrMissingKey) || errors.Is(err, labels.ErrConflict) {
		t.Fatalf("error = %v, want ErrMissingKey only", err)
	}
}

func TestCompatAnnotationsParse(t *testing.T) {
	m, err := labels.Parse(with(
		labels.KeyExtensions, "vector",
		labels.ExtensionKey("vector", labels.ExtVersion), "0.8.1",
		labels.KeyDistroCodename, "bookworm",
		labels.KeyDistroID, "debian",
		labels.KeyDistroVersion, "12",
		labels.KeyLibcFamily, "glibc",
		labels.KeyLibcVersion, "2.36",
		labels.KeyBaseName, "ghcr.io/cloudnative-pg/postgresql:18-minimal-bookworm",
	))
	if err != nil {
		t.Fatal(err)
	}
	all := m.Annotations()
	compat := m.CompatAnnotations()
	if len(compat) != 5 {
		t.Errorf("CompatAnnotations = %v, want 5 keys", compat)
	}
	maps.Copy(all, compat)
	again, err := labels.Parse(all)
	if err != nil {
		t.Fatalf("Parse(Annotations+CompatAnnotations) = %v", err)
	}
	if again.Source(labels.KeyPGMajor) != labels.SourcePgoci || again.Anchors[labels.KeyCNPGBaseOS] != "bookworm" {
		t.Errorf("pgoci must win and anchors be kept: %+v", again)
	}
	// Read without the pgoci keys, the compat keys alone give the same target.
	cnpg, err := labels.Parse(compat)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.Target()
	got, err := cnpg.Target()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("target from compat keys (-want +got):\n%s", diff)
	}
}

func TestTargetMissingMajor(t *testing.T) {
	m, err := labels.Parse(map[string]string{labels.KeyCNPGBaseOS: "trixie"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Target(); !errors.Is(err, labels.ErrMissingKey) {
		t.Fatalf("Target() = %v, want ErrMissingKey", err)
	}
}

func TestNewerSchemaRoundTrip(t *testing.T) {
	in := with(labels.KeySchemaVersion, "2", "org.pgoci.new.thing", "x")
	m, err := labels.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, m.Annotations()); diff != "" {
		t.Errorf("annotations (-in +out):\n%s", diff)
	}
}

func TestChangedAnchorValueIsWritten(t *testing.T) {
	if _, err := labels.Parse(with(labels.KeyPackageVersion, "", labels.KeyOCIVersion, "1.0")); err == nil {
		t.Fatal("an empty package.version must be invalid even when OCI's version is set")
	}
	in := base()
	delete(in, labels.KeyPackageVersion)
	in[labels.KeyOCIVersion] = "1.0"
	m, err := labels.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Annotations()[labels.KeyPackageVersion]; ok {
		t.Error("a value read from an anchor must not be written under its pgoci key")
	}
}

func TestSourceText(t *testing.T) {
	for _, s := range []labels.Source{labels.SourceNone, labels.SourcePgoci, labels.SourceCloudNativePG, labels.SourcePGXN, labels.SourceOCI} {
		b, _ := s.MarshalText()
		var got labels.Source
		if err := got.UnmarshalText(b); err != nil || got != s {
			t.Errorf("%v: round trip gave %v, %v", s, got, err)
		}
	}
	var s labels.Source
	if err := s.UnmarshalText([]byte("docker")); !errors.Is(err, labels.ErrInvalidValue) {
		t.Errorf("UnmarshalText(docker) = %v", err)
	}
}

func TestSelectionAnnotationsParse(t *testing.T) {
	m, err := labels.Parse(with(labels.KeyLibcFamily, "musl", labels.KeyCompiler, "gcc 14", labels.KeyPGVersionNum, "180004"))
	if err != nil {
		t.Fatal(err)
	}
	sel, err := labels.Parse(m.SelectionAnnotations())
	if err != nil {
		t.Fatal(err)
	}
	if sel.Libc.Family != "musl" || sel.PG.VersionNum != 180004 || sel.Compiler != "" {
		t.Errorf("selection subset = %+v, want libc and version_num but no compiler", sel)
	}
}

func BenchmarkParse(b *testing.B) {
	in := with(labels.KeyExtensions, "postgis,postgis_raster", labels.KeyLibcFamily, "glibc",
		labels.KeyLibcVersion, "2.41", labels.KeyCNPGBaseOS, "trixie", labels.KeyLicenses, "GPL-2.0-or-later")
	for b.Loop() {
		if _, err := labels.Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
