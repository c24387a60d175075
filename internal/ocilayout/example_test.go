package ocilayout_test

import (
	"context"
	"fmt"
	"log"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"pgoci/internal/ocilayout"
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
