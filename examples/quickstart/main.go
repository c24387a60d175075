// Command quickstart is the README's first command: it runs pgoci's main
// job end to end with no outside service. It starts an in-process OCI
// registry, packs the demo extension (layout/testdata/demo) for two
// PostgreSQL majors and two architectures, pushes the images and their
// index, and copies the tagged index into an OCI image layout directory.
//
// Every step prints one line. Run it from anywhere inside the repository:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	work, err := os.MkdirTemp("", "pgoci-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("registry     started an in-process OCI registry at %s\n", srv.Host())

	repo, err := remote.NewRepository(srv.Host() + "/extensions/pgoci_demo")
	if err != nil {
		return err
	}
	repo.PlainHTTP = true // loopback registry

	var images []extension.Image
	for _, major := range []int{17, 18} {
		tree, err := demo.Tree(work, major)
		if err != nil {
			return err
		}
		for _, arch := range []string{"amd64", "arm64"} {
			platform, meta := demo.Build(major, arch)
			build := extension.Build{Platform: platform, Metadata: meta}
			img, err := extension.Pack(ctx, repo, tree, build, extension.PackOptions{})
			if err != nil {
				return fmt.Errorf("pack for PostgreSQL %d %s: %w", major, arch, err)
			}
			fmt.Printf("pack         pgoci_demo 1.1.0 for PostgreSQL %d linux/%s: manifest %s, layer %d bytes\n",
				major, arch, short(img.Manifest.Digest.String()), img.Layers[0].Size)
			images = append(images, img)
		}
	}
	idx, err := extension.PushIndex(ctx, repo, images, "1.1.0")
	if err != nil {
		return err
	}
	fmt.Printf("push         index %s tagged %s/extensions/pgoci_demo:1.1.0 (%d manifests)\n",
		short(idx.Digest.String()), srv.Host(), len(images))

	layoutDir := filepath.Join(work, "oci")
	store, err := oci.New(layoutDir)
	if err != nil {
		return err
	}
	got, err := oras.Copy(ctx, repo, "1.1.0", store, "1.1.0", oras.DefaultCopyOptions)
	if err != nil {
		return err
	}
	fmt.Printf("copy         registry -> OCI layout %s: index %s, same digest: %v\n",
		filepath.Base(layoutDir), short(got.Digest.String()), got.Digest == idx.Digest)
	fmt.Printf("requests     %d HTTP requests served by the registry\n", len(srv.Requests()))
	return nil
}

func short(d string) string { return d[:len("sha256:")+12] }
