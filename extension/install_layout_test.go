package extension

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"oras.land/oras-go/v2/content/oci"

	"pgoci/labels"
)

// instPushLayout packs files as package name into the OCI layout dir and
// tags the index with tag.
func instPushLayout(t *testing.T, dir, tag, name string, files map[string]string) {
	t.Helper()
	tree := t.TempDir()
	for p, s := range files {
		full := filepath.Join(tree, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	store, err := oci.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	img, err := Pack(ctx, store, tree, Build{Platform: instAmd64, Metadata: labels.Metadata{
		Package: labels.Package{Name: name}, PG: labels.PG{Major: 18}}}, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PushIndex(ctx, store, []Image{img}, tag); err != nil {
		t.Fatal(err)
	}
}

// TestInstallFromLayout installs air-gapped from OCI layout directories:
// the dependency comes from the sibling layout named after it, at its
// highest version.
func TestInstallFromLayout(t *testing.T) {
	mirror := t.TempDir()
	instPushLayout(t, filepath.Join(mirror, "cube"), "1.4", "cube", instFiles(instExt{name: "cube", version: "1.4"}))
	instPushLayout(t, filepath.Join(mirror, "cube"), "1.5", "cube", instFiles(instExt{name: "cube", version: "1.5"}))
	instPushLayout(t, filepath.Join(mirror, "earthdistance"), "1.2", "earthdistance",
		instFiles(instExt{name: "earthdistance", version: "1.2", requires: []string{"cube"}}))
	root := t.TempDir()
	cache := filepath.Join(t.TempDir(), "cache")
	res, err := installAt(context.Background(), "oci:"+filepath.Join(mirror, "earthdistance")+":1.2", instTarget(18), RootOptions{Root: root, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Packages {
		got = append(got, p.Name+" "+p.Version+" "+string(p.Action))
	}
	if diff := cmp.Diff([]string{"cube 1.5 installed", "earthdistance 1.2 installed"}, got); diff != "" {
		t.Errorf("installed (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(cache, "blobs")); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(cache, "blobs")); len(entries) != 0 {
		t.Errorf("layout content was cached: %v", entries)
	}
}

// TestInstallVersionConstraint picks the highest tag satisfying
// InstallOptions.Version for a reference without a tag.
func TestInstallVersionConstraint(t *testing.T) {
	srv := instRegistry(t)
	for _, v := range []string{"1.3", "1.4", "1.5", "2.0"} {
		instPush(t, srv, "ext/cube", v, "cube", 18, instFiles(instExt{name: "cube", version: v}))
	}
	for _, tc := range []struct{ constraint, want string }{
		{"", "2.0"},
		{"~1.4", "1.4"},
		{"<2", "1.5"},
	} {
		t.Run(tc.constraint, func(t *testing.T) {
			opts := instOptions(t, t.TempDir())
			res, err := installAt(context.Background(), srv.Host()+"/ext/cube", instTarget(18), opts, InstallOptions{Version: tc.constraint})
			if err != nil || res.Packages[0].Version != tc.want {
				t.Fatalf("installed %+v, %v; want %s", res.Packages, err, tc.want)
			}
		})
	}
}
