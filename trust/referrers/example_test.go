package referrers_test

import (
	"context"
	"fmt"
	"log"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"

	"pgoci/trust/referrers"
)

// Attach an SBOM to an image manifest, then find it again: what pack and
// copy do, here on an in-memory store (a registry or an OCI layout works
// the same).
func ExampleList() {
	ctx := context.Background()
	store := memory.New()

	// The subject: an image manifest already in the store.
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	subject := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, manifest)
	if err := referrers.PushBlob(ctx, store, subject, manifest); err != nil {
		log.Fatal(err)
	}

	sbom := []byte(`{"spdxVersion":"SPDX-2.3"}`)
	if _, err := referrers.Push(ctx, store, subject, referrers.ArtifactTypeSPDX, referrers.ArtifactTypeSPDX, sbom, nil); err != nil {
		log.Fatal(err)
	}

	found, err := referrers.List(ctx, store, subject, referrers.ArtifactTypeSPDX, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range found {
		m, err := referrers.FetchManifest(ctx, store, d)
		if err != nil {
			log.Fatal(err)
		}
		body, err := referrers.FetchBlob(ctx, store, m.Layers[0], referrers.MaxBlobSize)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(referrers.ArtifactTypeOf(m), "subject", m.Subject.Digest == subject.Digest, string(body))
	}
	// Output:
	// application/spdx+json subject true {"spdxVersion":"SPDX-2.3"}
}
