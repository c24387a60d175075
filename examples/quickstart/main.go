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
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/internal/testregistry"
	"pgoci/labels"
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

	trees, err := demoTrees(work)
	if err != nil {
		return err
	}
	var images []extension.Image
	for _, major := range []int{17, 18} {
		for _, arch := range []string{"amd64", "arm64"} {
			img, err := extension.Pack(ctx, repo, trees[major], demoBuild(major, arch), extension.PackOptions{})
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

func demoBuild(major int, arch string) extension.Build {
	return extension.Build{
		Platform: ocispec.Platform{OS: "linux", Architecture: arch},
		Metadata: labels.Metadata{
			Package: labels.Package{Name: "pgoci_demo", Version: "1.1.0"},
			PG:      labels.PG{Major: major, VersionNum: major*10000 + 4},
			Libc:    labels.Libc{Family: "glibc", Version: "2.36"},
			Distro:  labels.Distro{ID: "debian", Version: "12"},
		},
	}
}

// demoTrees returns the demo DESTDIR tree (built for PostgreSQL 18) and a
// copy laid out for PostgreSQL 17, standing in for a second build of the
// same sources.
func demoTrees(work string) (map[int]string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return nil, fmt.Errorf("cannot locate the demo tree")
	}
	demo := filepath.Join(filepath.Dir(self), "..", "..", "layout", "testdata", "demo")
	if _, err := os.Stat(demo); err != nil {
		return nil, fmt.Errorf("demo tree: %w (run from a checkout of the repository)", err)
	}
	pg17 := filepath.Join(work, "demo-pg17")
	err := filepath.WalkDir(demo, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(demo, path)
		rel = strings.ReplaceAll(rel, "18", "17")
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(pg17, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	return map[int]string{17: pg17, 18: demo}, err
}

func short(d string) string { return d[:len("sha256:")+12] }
