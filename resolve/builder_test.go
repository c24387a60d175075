package resolve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
	"pgoci/labels"
)

// testImage describes one extension image for the in-test builder.
type testImage struct {
	platform ocispec.Platform
	meta     labels.Metadata
	// where labels go: by default the full set on the manifest and config
	// and the selection subset on the index descriptor.
	noDescLabels     bool // index descriptor carries neither platform nor labels
	noDescPlatform   bool // index descriptor carries no platform
	configLabelsOnly bool // labels only in the config, not the manifest
	extraManifest    map[string]string
}

// meta builds the labels of a package built for PostgreSQL pg with a libc.
func meta(version string, pg int, libcFamily, libcVersion string) labels.Metadata {
	m := labels.Metadata{SchemaVersion: 1, Package: labels.Package{Name: "vector", Version: version}, PG: labels.PG{Major: pg}}
	m.Libc = labels.Libc{Family: libcFamily, Version: libcVersion}
	switch libcFamily {
	case "glibc":
		m.Distro = labels.Distro{ID: "debian", Version: "13", Codename: "trixie"}
	case "musl":
		m.Distro = labels.Distro{ID: "alpine", Version: "3.22"}
	}
	return m
}

func plat(s string) ocispec.Platform {
	p, err := ParsePlatform(s)
	if err != nil {
		panic(err)
	}
	return p
}

var specsV2 = specs.Versioned{SchemaVersion: 2}

// pushBlob pushes b with media type mt.
func pushBlob(t *testing.T, dst content.Pusher, mt string, b []byte) ocispec.Descriptor {
	t.Helper()
	d := content.NewDescriptorFromBytes(mt, b)
	if err := dst.Push(context.Background(), d, bytes.NewReader(b)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		t.Fatalf("push %s: %v", mt, err)
	}
	return d
}

func pushJSON(t *testing.T, dst content.Pusher, mt string, v any) ocispec.Descriptor {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return pushBlob(t, dst, mt, b)
}

// pushImage pushes a config, one layer and a manifest, and returns the
// descriptor an index should carry for it.
func pushImage(t *testing.T, dst content.Pusher, img testImage) ocispec.Descriptor {
	t.Helper()
	all := img.meta.Annotations()
	cfg := ocispec.Image{Platform: img.platform, RootFS: ocispec.RootFS{Type: "layers"}}
	cfg.Config.Labels = all
	layer := pushBlob(t, dst, ocispec.MediaTypeImageLayer, []byte("not a real tar: resolve never reads layers "+img.meta.Package.Version))
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, layer.Digest)
	cd := pushJSON(t, dst, ocispec.MediaTypeImageConfig, cfg)
	ann := map[string]string{}
	if !img.configLabelsOnly {
		maps.Copy(ann, all)
	}
	maps.Copy(ann, img.extraManifest)
	m := ocispec.Manifest{Versioned: specsV2, MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: []ocispec.Descriptor{layer}, Annotations: ann}
	d := pushJSON(t, dst, ocispec.MediaTypeImageManifest, m)
	if !img.noDescLabels {
		d.Annotations = img.meta.SelectionAnnotations()
	}
	if !img.noDescLabels && !img.noDescPlatform {
		p := img.platform
		d.Platform = &p
	}
	return d
}

// pushIndex pushes an index of descs and tags it with each tag.
func pushIndex(t *testing.T, dst oras.Target, descs []ocispec.Descriptor, tags ...string) ocispec.Descriptor {
	t.Helper()
	idx := ocispec.Index{Versioned: specsV2, MediaType: ocispec.MediaTypeImageIndex, Manifests: descs}
	d := pushJSON(t, dst, ocispec.MediaTypeImageIndex, idx)
	for _, tag := range tags {
		if err := dst.Tag(context.Background(), d, tag); err != nil {
			t.Fatalf("tag %s: %v", tag, err)
		}
	}
	return d
}

// startRegistry serves a fresh registry for one test.
func startRegistry(t *testing.T, opts testregistry.Options) *testregistry.Server {
	t.Helper()
	srv, err := testregistry.Serve(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// pushRepo opens repo on srv for pushing, without retries or auth.
func pushRepo(t *testing.T, srv *testregistry.Server, repo string) *remote.Repository {
	t.Helper()
	r, err := remote.NewRepository(srv.Host() + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	return r
}

// countGETs counts the GET requests in the log, by kind.
func countRequests(srv *testregistry.Server) (manifests, blobs, tags, other int) {
	for _, r := range srv.Requests() {
		switch {
		case r.Method != "GET" && r.Method != "HEAD":
			other++
		case contains(r.Path, "/manifests/"):
			manifests++
		case contains(r.Path, "/blobs/"):
			blobs++
		case contains(r.Path, "/tags/list"):
			tags++
		default:
			other++
		}
	}
	return
}

func contains(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }

// newLayoutStore creates an OCI image layout in dir for pushing.
func newLayoutStore(t *testing.T, dir string) *oci.Store {
	t.Helper()
	st, err := oci.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
