package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote"

	"pgoci/catalog"
	"pgoci/internal/imagefixture"
	"pgoci/internal/testregistry"
)

// catalogRegistry holds the demo package under ext/pgoci_demo: 1.0.0 for
// PostgreSQL 17 and 18, 1.1.0 for 18, both amd64.
func catalogRegistry(t *testing.T) *testregistry.Server {
	t.Helper()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	repo, err := remote.NewRepository(srv.Host() + "/ext/pgoci_demo")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	work := t.TempDir()
	ctx := context.Background()
	if _, err := imagefixture.Demo(ctx, repo, work, "1.0.0", []int{17, 18}, []string{"amd64"}, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := imagefixture.Demo(ctx, repo, work, "1.1.0", []int{18}, []string{"amd64"}, "1.1.0"); err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestCatalog(t *testing.T) {
	srv := catalogRegistry(t)
	prefix := srv.Host() + "/ext"
	target := []string{"--platform", "linux/amd64", "--libc", "glibc-2.36"}

	code, out, errOut := pgoci(t, append([]string{"catalog", prefix, "--pg-major", "18"}, target...)...)
	fields := strings.Split(strings.TrimSpace(out), "\t")
	if code != 0 || errOut != "" || len(fields) != 4 || fields[0] != prefix+"/pgoci_demo" || fields[1] != "1.1.0" || fields[2] != "1.1.0" ||
		!strings.HasPrefix(fields[3], "sha256:") {
		t.Errorf("catalog for 18: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, errOut = pgoci(t, append([]string{"catalog", prefix, "--pg-major", "16"}, target...)...)
	if code != 0 || out != prefix+"/pgoci_demo\t-\t-\t-\n" || !strings.Contains(errOut, "no version fits pg 16") || !strings.Contains(errOut, "newest 1.1.0 (tag 1.1.0): none of 1 images fits: linux/amd64: pg.major: want 16, found 18") {
		t.Errorf("catalog for 16: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	out = mustRun(t, append([]string{"catalog", prefix, "--pg-major", "17", "--json"}, target...)...)
	var l catalog.Listing
	if err := json.Unmarshal([]byte(out), &struct {
		Repositories *[]catalog.Repository `json:"repositories"`
	}{&l.Repositories}); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if len(l.Repositories) != 1 || len(l.Repositories[0].Versions) != 2 || l.Repositories[0].Versions[0].Fits || !l.Repositories[0].Versions[1].Fits {
		t.Errorf("--json for 17: 1.1.0 rejected then 1.0.0:\n%s", out)
	}

	out = mustRun(t, append([]string{"catalog", prefix, "--cnpg", "--postgres-image", "18=ghcr.io/cloudnative-pg/postgresql:18.4-minimal-trixie",
		"--postgres-image", "17=ghcr.io/cloudnative-pg/postgresql:17.6-minimal-trixie", "--cnpg-namespace", "db", "--cluster-wide"}, target...)...)
	for _, want := range []string{`kind: "ClusterImageCatalog"`, `namespace: "db"`, "- major: 17", "- major: 18",
		`reference: "` + prefix + `/pgoci_demo:1.1.0@sha256:`, `reference: "` + prefix + `/pgoci_demo:1.0.0@sha256:`, `- "share"`} {
		if !strings.Contains(out, want) {
			t.Errorf("--cnpg lacks %q:\n%s", want, out)
		}
	}

	// Without /v2/_catalog: publish, then list from the artifact.
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Status: 404, Path: "^/v2/_catalog$", Times: -1}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = pgoci(t, "catalog", prefix, "--pg-major", "18")
	if code != 1 || !strings.Contains(errOut, "pgoci catalog publish") {
		t.Errorf("no catalog: exit %d, stderr %s", code, errOut)
	}
	out = mustRun(t, "catalog", "publish", prefix, "pgoci_demo")
	if !strings.HasPrefix(out, "published "+prefix+"/catalog:latest@sha256:") || !strings.Contains(out, "(1 repository, 2 tags, 3 manifests)") {
		t.Errorf("publish: %s", out)
	}
	code, out, errOut = pgoci(t, append([]string{"catalog", prefix, "--pg-major", "18"}, target...)...)
	if code != 0 || !strings.HasPrefix(out, prefix+"/pgoci_demo\t1.1.0\t1.1.0\tsha256:") || !strings.Contains(errOut, "listed from the catalog artifact") {
		t.Errorf("from the artifact: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestCatalogUsage(t *testing.T) {
	for _, args := range [][]string{
		{"catalog"},
		{"catalog", "a/b", "c/d"},
		{"catalog", "publish"},
		{"catalog", "publish", "127.0.0.1:1/ext", "--json"},
		{"catalog", "publish", "127.0.0.1:1/ext", "--pg-major", "18"},
		{"catalog", "127.0.0.1:1/ext", "--max-tags", "3"},
		{"catalog", "127.0.0.1:1/ext", "--json", "--cnpg", "--postgres-image", "18=x"},
		{"catalog", "127.0.0.1:1/ext", "--cnpg"},
		{"catalog", "127.0.0.1:1/ext", "--cnpg", "--postgres-image", "x", "--platform", "linux/amd64"},
		{"catalog", "127.0.0.1:1/ext", "--cnpg", "--postgres-image", "18=a", "--postgres-image", "18=b", "--platform", "linux/amd64"},
		{"catalog", "127.0.0.1:1/ext", "--cnpg", "--postgres-image", "18=a", "--pg-major", "18"},
		{"catalog", "127.0.0.1:1/ext", "--postgres-image", "18=a"},
		{"catalog", "127.0.0.1:1/ext", "--cnpg", "--postgres-image", "18=a"},
		{"catalog", "127.0.0.1:1/ext", "--from", "elsewhere"},
		{"catalog", "127.0.0.1:1/ext:1.0"},
		{"catalog", "oci:/tmp/x"},
	} {
		code, out, errOut := pgoci(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "usage: pgoci catalog") {
			t.Errorf("pgoci %s: exit %d, want 2\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
		}
	}
}
