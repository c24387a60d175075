package extension_test

import (
	"context"
	"fmt"
	"log"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/extension"
	"pgoci/internal/testregistry"
)

// Copy an extension from a registry into an OCI image layout directory,
// the way an air-gapped site is fed, and from there into another
// registry: the index digest survives both trips.
func ExampleCopy() {
	ctx := context.Background()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	idx := pushDemo(ctx, srv, "ext/pgoci_demo")
	dir, err := os.MkdirTemp("", "pgoci-copy-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	var total int64
	got, err := extension.Copy(ctx, srv.Host()+"/ext/pgoci_demo:1.1.0", "oci:"+dir+"/pgoci_demo", extension.CopyOptions{
		Events: func(e extension.Event) { total = e.Bytes },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("to the layout:", got.Digest == idx.Digest, total > 0)
	back, err := extension.Copy(ctx, "oci:"+dir+"/pgoci_demo:1.1.0", srv.Host()+"/mirror/pgoci_demo:1.1.0", extension.CopyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("back to a registry:", back.Digest == idx.Digest)

	// Only arm64: a new, filtered index with its own digest.
	arm, err := extension.Copy(ctx, srv.Host()+"/ext/pgoci_demo:1.1.0", "oci:"+dir+"/arm64:1.1.0", extension.CopyOptions{
		Platforms: []ocispec.Platform{{OS: "linux", Architecture: "arm64"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("arm64 only:", arm.Digest != idx.Digest)
	// Output:
	// to the layout: true true
	// back to a registry: true
	// arm64 only: true
}

// Mirror several extension repositories into one directory for an
// air-gapped site: each becomes an OCI layout named after its repository,
// so dependencies resolve from siblings as they do in the registry.
func ExampleCopyAll() {
	ctx := context.Background()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	pushDemo(ctx, srv, "ext/pgoci_demo")
	pushDemo(ctx, srv, "ext/cube")
	dir, err := os.MkdirTemp("", "pgoci-mirror-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	done, err := extension.CopyAll(ctx, []string{srv.Host() + "/ext/pgoci_demo", srv.Host() + "/ext/cube:1.1.0"}, "oci:"+dir, extension.CopyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range done {
		rel := c.Destination[len("oci:"+dir):]
		fmt.Println(rel)
	}
	// Output:
	// /pgoci_demo:1.1.0
	// /cube:1.1.0
}
