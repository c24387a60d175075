package extension

import (
	"context"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
)

// Artifact types of the referrers the fixture attaches.
const (
	sigType  = "application/vnd.example.signature"
	sbomType = "application/spdx+json"
)

// demoRepo is the demo package pushed to a test registry: an index of two
// platforms tagged 1.1.0 and latest, a signature of the amd64 manifest and
// an SBOM of the index.
type demoRepo struct {
	srv    *testregistry.Server
	ref    string // host/repo, no tag
	index  ocispec.Descriptor
	images []Image
	sig    ocispec.Descriptor // subject: the amd64 manifest
	sbom   ocispec.Descriptor // subject: the index
}

func startRegistry(t *testing.T) *testregistry.Server {
	t.Helper()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func pushDemoRepo(t *testing.T, srv *testregistry.Server, name string) demoRepo {
	t.Helper()
	ctx := context.Background()
	d := demoRepo{srv: srv, ref: srv.Host() + "/ext/" + name}
	repo, err := remote.NewRepository(d.ref)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	for _, p := range []ocispec.Platform{amd64, arm64} {
		img, err := Pack(ctx, repo, demoTree, demoBuild(p), PackOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d.images = append(d.images, img)
	}
	if d.index, err = PushIndex(ctx, repo, d.images, "1.1.0", "latest"); err != nil {
		t.Fatal(err)
	}
	d.sig = pushReferrer(t, repo, sigType, d.images[0].Manifest)
	d.sbom = pushReferrer(t, repo, sbomType, d.index)
	return d
}

func pushReferrer(t *testing.T, dst oras.Target, artifactType string, subject ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	blob, err := oras.PushBytes(ctx, dst, "application/octet-stream", []byte(artifactType+" of "+subject.Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	plain := ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	d, err := oras.PackManifest(ctx, dst, oras.PackManifestVersion1_1, artifactType, oras.PackManifestOptions{
		Subject: &plain,
		Layers:  []ocispec.Descriptor{blob},
		// A fixed timestamp: the same fixture gives the same digests.
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2025-01-01T00:00:00Z"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// graphSize is the bytes of every blob under the index: what a copy to an
// empty destination reads.
// A blob shared by several manifests (the same layer for both
// architectures) counts once.
func (d demoRepo) graphSize() int64 {
	sizes := map[digest.Digest]int64{d.index.Digest: d.index.Size}
	for _, img := range d.images {
		sizes[img.Manifest.Digest] = img.Manifest.Size
		sizes[img.Config.Digest] = img.Config.Size
		for _, l := range img.Layers {
			sizes[l.Digest] = l.Size
		}
	}
	var n int64
	for _, s := range sizes {
		n += s
	}
	return n
}
