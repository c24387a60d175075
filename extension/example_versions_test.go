package extension_test

import (
	"context"
	"fmt"
	"log"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/internal/imagefixture"
	"pgoci/internal/testregistry"
	"pgoci/labels"
	"pgoci/resolve"
)

// List the versions of a repository that fit a PostgreSQL 18 server, with
// those that do not and why: 1.2.0 was built for PostgreSQL 17 only,
// which its index says (one request), and the tag 1.3.0-pg17 names
// another major (no request).
func ExampleListVersions() {
	ctx := context.Background()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	work, err := os.MkdirTemp("", "pgoci-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	repo, err := remote.NewRepository(srv.Host() + "/ext/pgoci_demo")
	if err != nil {
		log.Fatal(err)
	}
	repo.PlainHTTP = true
	for _, v := range []struct {
		version string
		majors  []int
		tag     string
	}{{"1.0.0", []int{17, 18}, "1.0.0"}, {"1.1.0", []int{18}, "1.1.0"}, {"1.2.0", []int{17}, "1.2.0"}, {"1.3.0", []int{17}, "1.3.0-pg17"}} {
		if _, err := imagefixture.Demo(ctx, repo, work, v.version, v.majors, []string{"amd64"}, v.tag, "latest"); err != nil {
			log.Fatal(err)
		}
	}

	server := resolve.Target{PG: labels.PG{Major: 18}, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}}
	srv.ResetRequests()
	versions, err := extension.ListVersions(ctx, srv.Host()+"/ext/pgoci_demo", server, extension.ListVersionsOptions{Rejected: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range versions {
		if v.Fits {
			fmt.Println(v.Version, "fits:", v.Tag, v.Manifest, v.Dirs)
		} else {
			fmt.Println(v.Version, "does not fit:", v.Why)
		}
	}
	fmt.Println("requests", len(srv.Requests()))
	// Output:
	// 1.3.0 does not fit: its tags are for PostgreSQL 17, not 18
	// 1.2.0 does not fit: none of 1 images fits: linux/amd64: pg.major: want 18, found 17 (mismatch)
	// 1.1.0 fits: 1.1.0 sha256:77ea71a324324c236fb72e2b43404d85559ba929003538d0f821f020bdd9463e [share lib]
	// 1.0.0 fits: 1.0.0 sha256:a7680316aff13e4e02da2f3f93cbecdcfb7dd2327d0c00672a4c40643a8f7e9e [share lib]
	// requests 6
}
