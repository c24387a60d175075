package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	"go.yaml.in/yaml/v3"

	"pgoci/catalog"
	"pgoci/extension"
	"pgoci/labels"
	"pgoci/resolve"
)

var update = flag.Bool("update", false, "rewrite testdata/imagecatalog.golden.yaml")

var postgresImages = map[int]string{
	17: "ghcr.io/cloudnative-pg/postgresql:17.6-minimal-trixie",
	18: "ghcr.io/cloudnative-pg/postgresql:18.4-minimal-trixie",
}

// TestImageCatalog renders the test world for PostgreSQL 17 and 18 and
// compares the YAML with testdata/imagecatalog.golden.yaml (the
// registry's address written registry.example).
func TestImageCatalog(t *testing.T) {
	srv := world(t)
	ctx := context.Background()
	c, err := catalog.Open(ctx, srv.Host()+"/ext", catalog.Options{Versions: extension.ListVersionsOptions{MaxFitting: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var listings []*catalog.Listing
	for _, major := range []int{18, 17} {
		l, err := c.List(ctx, target(major))
		if err != nil {
			t.Fatal(err)
		}
		listings = append(listings, l)
	}
	ic, notes, err := catalog.NewImageCatalog(listings, catalog.ImageCatalogOptions{PostgresImages: postgresImages})
	if err != nil {
		t.Fatal(err)
	}
	wantNotes := []string{`PostgreSQL 18: ` + srv.Host() + `/ext/cnpg/pgvector:0.8.1-18-trixie: its labels do not show whether the image has a system/ directory; if it does, add ld_library_path: [system] to "pgvector"`}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	y, err := ic.YAML()
	if err != nil {
		t.Fatal(err)
	}
	sameAsJSON(t, ic, y)
	y = []byte(strings.ReplaceAll(string(y), srv.Host(), "registry.example"))
	const golden = "testdata/imagecatalog.golden.yaml"
	if *update {
		if err := os.WriteFile(golden, y, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(y)); diff != "" {
		t.Errorf("YAML (-golden +got; go test -run TestImageCatalog -update rewrites it):\n%s", diff)
	}
	for _, im := range ic.Spec.Images {
		for _, e := range im.Extensions {
			ref := e.Image.Reference
			if _, err := digest.Parse(ref[strings.LastIndexByte(ref, '@')+1:]); err != nil {
				t.Errorf("%s: reference %s is not pinned: %v", e.Name, ref, err)
			}
		}
	}
}

// sameAsJSON checks that y parses, as YAML, to what ic is as JSON.
func sameAsJSON(t *testing.T, ic catalog.ImageCatalog, y []byte) {
	t.Helper()
	var fromYAML, fromJSON any
	if err := yaml.Unmarshal(y, &fromYAML); err != nil {
		t.Fatalf("the YAML does not parse: %v\n%s", err, y)
	}
	j, err := json.Marshal(ic)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &fromJSON); err != nil {
		t.Fatal(err)
	}
	// YAML integers decode as int, JSON numbers as float64: compare the
	// YAML's tree through JSON too.
	yj, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatalf("the YAML holds what JSON cannot: %v", err)
	}
	fromYAML = nil
	if err := json.Unmarshal(yj, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromJSON, fromYAML); diff != "" {
		t.Errorf("YAML and JSON differ (-json +yaml):\n%s", diff)
	}
}

// TestImageCatalogYAMLQuoting: no string can change the document's
// structure or type.
func TestImageCatalogYAMLQuoting(t *testing.T) {
	hostile := []string{"no", "yes", "~", "null", "1e3", "0x10", "- a", "a: b", "#x", "'q'", `"dq"`, `back\slash`, "line\nbreak", "tab\t",
		"é", "😀", "\u2028", "\x00", "\x7f", "\ufeff", "{a: 1}", "[1]", "&anchor", "*alias", "!tag", "%d", "@at", "`tick`", "| block", "> fold", ""}
	for _, s := range hostile {
		ic := catalog.ImageCatalog{APIVersion: catalog.CNPGAPIVersion, Kind: catalog.KindImageCatalog,
			Metadata: catalog.ObjectMeta{Name: s, Namespace: s},
			Spec: catalog.ImageCatalogSpec{Images: []catalog.CatalogImage{{Major: 18, Image: s,
				Extensions: []catalog.ExtensionConfiguration{{Name: s, Image: catalog.ImageVolumeSource{Reference: s}, LDLibraryPath: []string{s, s}}}}}}}
		y, err := ic.YAML()
		if err != nil {
			t.Fatal(err)
		}
		sameAsJSON(t, ic, y)
		for _, line := range strings.Split(strings.TrimSuffix(string(y), "\n"), "\n") {
			for _, r := range line {
				if r < 0x20 || r > 0x7e {
					t.Errorf("%q: line %q holds %U", s, line, r)
				}
			}
		}
	}
}

// TestImageCatalogNames: a repository's entry is named after its package
// when CloudNativePG accepts that name, else after its repository; one
// that can be neither, or repeats a name, is left out with a note.
func TestImageCatalogNames(t *testing.T) {
	version := func(pkg string, dirs ...string) []extension.Version {
		return []extension.Version{{Tag: "1.0", Version: "1.0", Fits: true, Manifest: digest.FromString(pkg),
			Metadata: labels.Metadata{Package: labels.Package{Name: pkg}}, Dirs: dirs, DirsComplete: true}}
	}
	l := &catalog.Listing{Target: resolve.Target{PG: labels.PG{Major: 18}}, Repositories: []catalog.Repository{
		{Name: "r/ext/a", Path: "a", Versions: version("pg_ivm", "share", "lib")},
		{Name: "r/ext/b", Path: "b", Versions: version("Bad_Name", "share")},
		{Name: "r/ext/c.d", Path: "c.d", Versions: version("_x")},
		{Name: "r/ext/e", Path: "e", Versions: version("pg_ivm")},
		{Name: "r/ext/tools", Path: "tools", Versions: version("pg_repack", "lib", "system", "bin")},
		{Name: "r/ext/none", Path: "none", Versions: []extension.Version{{Tag: "2.0", Why: "no"}}},
	}}
	ic, notes, err := catalog.NewImageCatalog([]*catalog.Listing{l}, catalog.ImageCatalogOptions{Name: "mine", Namespace: "db", Cluster: true,
		PostgresImages: map[int]string{18: "pg:18"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ic.Spec.Images[0].Extensions {
		names = append(names, e.Name+" "+strings.Join(e.ExtensionControlPath, ",")+"|"+strings.Join(e.DynamicLibraryPath, ",")+"|"+
			strings.Join(e.LDLibraryPath, ",")+"|"+strings.Join(e.BinPath, ","))
	}
	if diff := cmp.Diff([]string{"pg_ivm share|lib||", "b share|||", "pg_repack |lib|system|bin"}, names); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "r/ext/c.d left out") || !strings.Contains(notes[1], `the name "pg_ivm" is already taken`) {
		t.Errorf("notes %q", notes)
	}
	if ic.Kind != catalog.KindClusterImageCatalog || ic.Metadata != (catalog.ObjectMeta{Name: "mine", Namespace: "db"}) {
		t.Errorf("kind %s, metadata %+v", ic.Kind, ic.Metadata)
	}
	if ref := ic.Spec.Images[0].Extensions[0].Image.Reference; ref != "r/ext/a:1.0@"+digest.FromString("pg_ivm").String() {
		t.Errorf("reference %s", ref)
	}
}

func TestImageCatalogRefuses(t *testing.T) {
	listing := func(major int) *catalog.Listing {
		return &catalog.Listing{Target: resolve.Target{PG: labels.PG{Major: major}}}
	}
	many := make([]*catalog.Listing, 9)
	for i := range many {
		many[i] = listing(10 + i)
	}
	images := map[int]string{}
	for i := 10; i < 20; i++ {
		images[i] = "pg"
	}
	tests := []struct {
		name     string
		listings []*catalog.Listing
		where    string
	}{
		{"none", nil, "no listing"},
		{"nine majors", many, "over CloudNativePG's limit of 8"},
		{"unknown major", []*catalog.Listing{listing(0)}, "want a PostgreSQL major"},
		{"twice the same major", []*catalog.Listing{listing(18), listing(18)}, "two listings for PostgreSQL 18"},
		{"no image", []*catalog.Listing{listing(18)}, "no PostgreSQL image for major 18"},
	}
	for _, tt := range tests {
		opts := catalog.ImageCatalogOptions{PostgresImages: images}
		if tt.name == "no image" {
			opts.PostgresImages = nil
		}
		if _, _, err := catalog.NewImageCatalog(tt.listings, opts); !errors.Is(err, catalog.ErrImageCatalog) || !strings.Contains(err.Error(), tt.where) {
			t.Errorf("%s: %v, want ErrImageCatalog mentioning %q", tt.name, err, tt.where)
		}
	}
}
