package ocilayout_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"pgoci/ocilayout"
)

// Push a blob and a manifest, tag it, and resolve the tag: the layout is a
// plain OCI image layout that any OCI tool reads.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ocilayout-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := ocilayout.New(dir)
	if err != nil {
		log.Fatal(err)
	}
	layer, err := oras.PushBytes(ctx, st, ocispec.MediaTypeImageLayer, []byte("hello"))
	if err != nil {
		log.Fatal(err)
	}
	m, err := oras.PackManifest(ctx, st, oras.PackManifestVersion1_1, "application/example",
		oras.PackManifestOptions{Layers: []ocispec.Descriptor{layer}})
	if err != nil {
		log.Fatal(err)
	}
	if err := st.Tag(ctx, m, "v1"); err != nil {
		log.Fatal(err)
	}
	d, err := st.Resolve(ctx, "v1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.MediaType, d.Digest == m.Digest)
	// Output:
	// application/vnd.oci.image.manifest.v1+json true
}

// Two handles on one layout, as two processes copying into one mirror
// would hold: each tags its own image and neither tag is lost, because
// index.json is read again and replaced under a lock on every change.
func Example_twoWriters() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ocilayout-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, tag := range []string{"amd64", "arm64"} {
		st, err := ocilayout.New(dir) // a new handle each time
		if err != nil {
			log.Fatal(err)
		}
		m, err := oras.PackManifest(ctx, st, oras.PackManifestVersion1_1, "application/example",
			oras.PackManifestOptions{ManifestAnnotations: map[string]string{"arch": tag}})
		if err != nil {
			log.Fatal(err)
		}
		if err := st.Tag(ctx, m, tag); err != nil {
			log.Fatal(err)
		}
	}
	st, err := ocilayout.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	err = st.Tags(ctx, "", func(tags []string) error {
		fmt.Println(tags)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// [amd64 arm64]
}

// Open refuses a directory that is not a layout, where New would create
// one: read paths that must exist with Open.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "ocilayout-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	_, err = ocilayout.Open(dir)
	fmt.Println(errors.Is(err, ocilayout.ErrNotLayout))
	// Output:
	// true
}

// Fetch verifies what it reads: a blob changed on disk ends in an error,
// not in io.EOF.
func ExampleStore_Fetch() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ocilayout-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := ocilayout.New(dir)
	if err != nil {
		log.Fatal(err)
	}
	d, err := oras.PushBytes(ctx, st, "application/octet-stream", []byte("hello"))
	if err != nil {
		log.Fatal(err)
	}
	// Spoil the blob behind the store's back.
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()), []byte("HELLO"), 0o644); err != nil {
		log.Fatal(err)
	}
	rc, err := st.Fetch(ctx, d)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	_, err = io.ReadAll(rc)
	fmt.Println(errors.Is(err, ocilayout.ErrDigest))
	// Output:
	// true
}
