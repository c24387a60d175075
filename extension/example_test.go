package extension_test

import (
	"context"
	"fmt"
	"log"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/extension"
	"pgoci/labels"
	"pgoci/ocilayout"
)

// Pack the demo extension tree for two architectures into an OCI image
// layout directory (package ocilayout: several build jobs may pack into
// one at once) and tag the index. The digests are the same on every
// machine: packing is reproducible.
func Example_pack() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pgoci-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := ocilayout.New(dir) // safe when several jobs pack into one layout
	if err != nil {
		log.Fatal(err)
	}
	var images []extension.Image
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := extension.Pack(ctx, store, "../layout/testdata/demo", extension.Build{
			Platform: ocispec.Platform{OS: "linux", Architecture: arch},
			Metadata: labels.Metadata{
				Package: labels.Package{Name: "pgoci_demo", Version: "1.1.0"},
				PG:      labels.PG{Major: 18, VersionNum: 180004},
				Libc:    labels.Libc{Family: "glibc", Version: "2.36"},
			},
		}, extension.PackOptions{})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(arch, img.Layers[0].MediaType, "extensions:", len(img.Metadata.Extensions))
		images = append(images, img)
	}
	idx, err := extension.PushIndex(ctx, store, images, "1.1.0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("index", idx.Digest)
	// Output:
	// amd64 application/vnd.oci.image.layer.v1.tar+zstd extensions: 2
	// arm64 application/vnd.oci.image.layer.v1.tar+zstd extensions: 2
	// index sha256:3559fa7cb171c9db5721b6d1677125f7c8564de70666cb1c3e66c50488fc1254
}
