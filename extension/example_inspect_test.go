package extension_test

import (
	"context"
	"fmt"
	"log"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
	"pgoci/resolve"
)

// pushDemo packs the demo extension for amd64 and arm64 into repository
// name of srv and tags the index 1.1.0.
func pushDemo(ctx context.Context, srv *testregistry.Server, name string) ocispec.Descriptor {
	repo, err := remote.NewRepository(srv.Host() + "/" + name)
	if err != nil {
		log.Fatal(err)
	}
	repo.PlainHTTP = true
	var images []extension.Image
	for _, arch := range []string{"amd64", "arm64"} {
		platform, meta := demo.Build(demo.Major, arch)
		img, err := extension.Pack(ctx, repo, "../layout/testdata/demo", extension.Build{Platform: platform, Metadata: meta}, extension.PackOptions{})
		if err != nil {
			log.Fatal(err)
		}
		images = append(images, img)
	}
	idx, err := extension.PushIndex(ctx, repo, images, demo.Version)
	if err != nil {
		log.Fatal(err)
	}
	return idx
}

// Inspect an extension image in a registry: its index, each manifest's
// platform and parsed labels, and the referrers attached to each.
func ExampleInspect() {
	ctx := context.Background()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	idx := pushDemo(ctx, srv, "ext/pgoci_demo")
	// Attach an SBOM to the index, as a build pipeline would.
	repo, err := remote.NewRepository(srv.Host() + "/ext/pgoci_demo")
	if err != nil {
		log.Fatal(err)
	}
	repo.PlainHTTP = true
	if _, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/spdx+json", oras.PackManifestOptions{
		Subject: &idx,
		// A fixed creation time keeps the digest reproducible.
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2025-01-01T00:00:00Z"},
	}); err != nil {
		log.Fatal(err)
	}

	in, err := extension.Inspect(ctx, srv.Host()+"/ext/pgoci_demo:1.1.0", extension.InspectOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("index", in.Descriptor.Digest.Encoded()[:12], "manifests:", len(in.Manifests))
	for _, r := range in.Indexes[0].Referrers {
		fmt.Println("index referrer:", r.ArtifactType)
	}
	for _, m := range in.Manifests {
		fmt.Printf("%s %s@%s pg%d %s-%s referrers:%d labels ok:%v\n", resolve.PlatformString(*m.Platform),
			m.Labels.Package.Name, m.Labels.Package.Version, m.Labels.PG.Major,
			m.Labels.Libc.Family, m.Labels.Libc.Version, len(m.Referrers), m.LabelsErr == nil)
	}
	// Output:
	// index a5dc7b3e8ae9 manifests: 2
	// index referrer: application/spdx+json
	// linux/amd64 pgoci_demo@1.1.0 pg18 glibc-2.36 referrers:1 labels ok:true
	// linux/arm64/v8 pgoci_demo@1.1.0 pg18 glibc-2.36 referrers:1 labels ok:true
}
