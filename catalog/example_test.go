package catalog_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/catalog"
	"pgoci/extension"
	"pgoci/internal/imagefixture"
	"pgoci/internal/testregistry"
	"pgoci/labels"
	"pgoci/resolve"
)

// exampleRegistry starts a registry holding the demo package under
// ext/pgoci_demo (1.0.0 for PostgreSQL 17 and 18, 1.1.0 for 18, amd64
// and arm64) and, under ext/postgis, an image of PostGIS 3.5.2 for
// PostgreSQL 18 that carries the libraries it needs in system/.
func exampleRegistry(ctx context.Context) (*testregistry.Server, func()) {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	work, err := os.MkdirTemp("", "pgoci-example-")
	if err != nil {
		log.Fatal(err)
	}
	repo := func(name string) *remote.Repository {
		r, err := remote.NewRepository(srv.Host() + "/" + name)
		if err != nil {
			log.Fatal(err)
		}
		r.PlainHTTP = true
		return r
	}
	archs := []string{"amd64", "arm64"}
	if _, err := imagefixture.Demo(ctx, repo("ext/pgoci_demo"), work, "1.0.0", []int{17, 18}, archs, "1.0.0"); err != nil {
		log.Fatal(err)
	}
	if _, err := imagefixture.Demo(ctx, repo("ext/pgoci_demo"), work, "1.1.0", []int{18}, archs, "1.1.0", "latest"); err != nil {
		log.Fatal(err)
	}
	var images []imagefixture.Image
	for _, arch := range archs {
		m := labels.Metadata{
			Package:    labels.Package{Name: "postgis", Version: "3.5.2"},
			Extensions: []labels.Extension{{Name: "postgis", Version: "3.5.2"}},
			PG:         labels.PG{Major: 18},
			Libc:       labels.Libc{Family: "glibc", Version: "2.36"},
			Modules:    []string{"postgis-3"},
			Objects:    []labels.Object{{Path: "lib/postgis-3.so", Arch: arch}, {Path: "system/libgeos_c.so.1", Arch: arch}},
		}
		images = append(images, imagefixture.Image{Platform: ocispec.Platform{OS: "linux", Architecture: arch},
			Annotations: m.Annotations(), IndexAnnotations: m.SelectionAnnotations()})
	}
	if _, _, err := imagefixture.Handmade(ctx, repo("ext/postgis"), images, "3.5.2"); err != nil {
		log.Fatal(err)
	}
	return srv, func() { srv.Close(); os.RemoveAll(work) }
}

// List the extension repositories under a prefix with the newest version
// that fits a PostgreSQL 18 server on arm64: the registry lists them in
// one request, and each costs its tags page and one resolve.
func ExampleList() {
	ctx := context.Background()
	srv, done := exampleRegistry(ctx)
	defer done()

	server := resolve.Target{PG: labels.PG{Major: 18}, Platform: ocispec.Platform{OS: "linux", Architecture: "arm64"}}
	srv.ResetRequests()
	l, err := catalog.List(ctx, srv.Host()+"/ext", server, catalog.Options{
		Versions: extension.ListVersionsOptions{MaxFitting: 1}, // the newest only
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("from", l.From)
	for _, r := range l.Repositories {
		v, ok := r.Newest()
		if !ok {
			fmt.Println(r.Path, "none fits")
			continue
		}
		fmt.Println(r.Path, v.Version, v.Tag, resolve.PlatformString(v.Platform), v.Manifest)
	}
	fmt.Println("requests", len(srv.Requests()))
	// Output:
	// from registry
	// pgoci_demo 1.1.0 1.1.0 linux/arm64/v8 sha256:cea83f9117179479c31b53d59c5a902bb45dcea10b5fbd1300351e69a9ba9a1a
	// postgis 3.5.2 3.5.2 linux/arm64 sha256:114355cff5b7effb06477fdcd596b792113d1aab0ddf6c38803a33fac1a90159
	// requests 7
}

// Publish the catalog artifact for a registry that does not answer
// /v2/_catalog (as most hosted ones do not), then list from it: two
// requests, whatever the number of repositories.
func ExamplePublish() {
	ctx := context.Background()
	srv, done := exampleRegistry(ctx)
	defer done()
	// This registry answers /v2/_catalog with 404, like GHCR.
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Status: 404, Path: "^/v2/_catalog$", Times: -1}); err != nil {
		log.Fatal(err)
	}

	pub, err := catalog.Publish(ctx, srv.Host()+"/ext", catalog.PublishOptions{Repositories: []string{"pgoci_demo", "postgis"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("published %d repositories, %d tags, %d manifests: %s\n", pub.Repositories, pub.Tags, pub.Manifests, pub.Manifest.Digest)

	srv.ResetRequests()
	c, err := catalog.Open(ctx, srv.Host()+"/ext", catalog.Options{Versions: extension.ListVersionsOptions{Rejected: true}})
	if err != nil {
		log.Fatal(err)
	}
	server := resolve.Target{PG: labels.PG{Major: 17}, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}}
	l, err := c.List(ctx, server)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range l.Repositories {
		if v, ok := r.Newest(); ok {
			fmt.Println(l.From, r.Path, v.Version, v.Manifest)
		} else {
			fmt.Println(l.From, r.Path, "none fits:", r.Versions[0].Why)
		}
	}
	fmt.Println("requests", len(srv.Requests()), "(/v2/_catalog, the artifact's manifest, its document)")
	// Output:
	// published 2 repositories, 3 tags, 8 manifests: sha256:75048407a7d96bd0df135fa586697cc12ec3aa8f32e097434e520539238d17cb
	// artifact pgoci_demo 1.0.0 sha256:3f9233527b64bdac7b2b217f9e162e12b56789520a47a10b582597a6ee314c3a
	// artifact postgis none fits: none of 2 images fits: linux/amd64: pg.major: want 17, found 18 (mismatch); linux/arm64: pg.major: want 17, found 18 (mismatch), platform: want linux/amd64, found linux/arm64 (mismatch)
	// requests 3 (/v2/_catalog, the artifact's manifest, its document)
}

// Render a CloudNativePG ImageCatalog for PostgreSQL 17 and 18 on amd64:
// one listing per major, the PostgreSQL image of each given.
func ExampleNewImageCatalog() {
	ctx := context.Background()
	srv, done := exampleRegistry(ctx)
	defer done()

	c, err := catalog.Open(ctx, srv.Host()+"/ext", catalog.Options{Versions: extension.ListVersionsOptions{MaxFitting: 1}})
	if err != nil {
		log.Fatal(err)
	}
	var listings []*catalog.Listing
	for _, major := range []int{17, 18} {
		l, err := c.List(ctx, resolve.Target{PG: labels.PG{Major: major}, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}})
		if err != nil {
			log.Fatal(err)
		}
		listings = append(listings, l)
	}
	ic, notes, err := catalog.NewImageCatalog(listings, catalog.ImageCatalogOptions{Name: "extensions", PostgresImages: map[int]string{
		17: "ghcr.io/cloudnative-pg/postgresql:17.6-minimal-trixie",
		18: "ghcr.io/cloudnative-pg/postgresql:18.4-minimal-trixie",
	}})
	if err != nil {
		log.Fatal(err)
	}
	y, err := ic.YAML()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(strings.ReplaceAll(string(y), srv.Host(), "registry.example"))
	fmt.Println(len(notes), "notes")
	// Output:
	// ---
	// apiVersion: "postgresql.cnpg.io/v1"
	// kind: "ImageCatalog"
	// metadata:
	//   name: "extensions"
	// spec:
	//   images:
	//     - major: 17
	//       image: "ghcr.io/cloudnative-pg/postgresql:17.6-minimal-trixie"
	//       extensions:
	//         - name: "pgoci_demo"
	//           image:
	//             reference: "registry.example/ext/pgoci_demo:1.0.0@sha256:3f9233527b64bdac7b2b217f9e162e12b56789520a47a10b582597a6ee314c3a"
	//           extension_control_path:
	//             - "share"
	//           dynamic_library_path:
	//             - "lib"
	//     - major: 18
	//       image: "ghcr.io/cloudnative-pg/postgresql:18.4-minimal-trixie"
	//       extensions:
	//         - name: "pgoci_demo"
	//           image:
	//             reference: "registry.example/ext/pgoci_demo:1.1.0@sha256:77ea71a324324c236fb72e2b43404d85559ba929003538d0f821f020bdd9463e"
	//           extension_control_path:
	//             - "share"
	//           dynamic_library_path:
	//             - "lib"
	//         - name: "postgis"
	//           image:
	//             reference: "registry.example/ext/postgis:3.5.2@sha256:320b8623fcb6626ce5ee108a986f95d2872e2768e49ae40d5afc0f939c07aa19"
	//           extension_control_path:
	//             - "share"
	//           dynamic_library_path:
	//             - "lib"
	//           ld_library_path:
	//             - "system"
	// 0 notes
}
