package catalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"pgoci/catalog"
	"pgoci/internal/testregistry"
	"pgoci/resolve"
)

// pushArtifact tags latest in ext/catalog a manifest made by edit from a
// valid catalog artifact holding body, and returns its layer.
func pushArtifact(t *testing.T, srv *testregistry.Server, body []byte, edit func(m *ocispec.Manifest)) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	repo := repository(t, srv, "ext/catalog")
	layer := content.NewDescriptorFromBytes(catalog.DocumentMediaType, body)
	config := ocispec.DescriptorEmptyJSON
	config.Data = nil
	for _, b := range []struct {
		d    ocispec.Descriptor
		data []byte
	}{{config, []byte("{}")}, {layer, body}} {
		if ok, err := repo.Exists(ctx, b.d); err != nil || ok {
			continue
		}
		if err := repo.Push(ctx, b.d, bytes.NewReader(b.data)); err != nil {
			t.Fatal(err)
		}
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: catalog.ArtifactType, Config: config, Layers: []ocispec.Descriptor{layer}}
	edit(&m)
	mb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.PushReference(ctx, content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, mb), bytes.NewReader(mb), catalog.Tag); err != nil {
		t.Fatal(err)
	}
	return layer
}

// TestArtifactHostile: a catalog artifact that is not what it says is
// refused with the error that names what is wrong; a document over the
// limit is refused from its descriptor, before it is fetched.
func TestArtifactHostile(t *testing.T) {
	valid := []byte(`{"schemaVersion":1,"repositories":[]}`)
	tests := []struct {
		name   string
		body   []byte
		edit   func(m *ocispec.Manifest)
		opts   catalog.Options
		fault  *testregistry.Fault
		err    error
		where  string
		fetchd bool // whether the document is fetched
	}{
		{name: "valid", body: valid, edit: func(*ocispec.Manifest) {}, fetchd: true},
		{name: "other artifact type", body: valid, edit: func(m *ocispec.Manifest) { m.ArtifactType = "application/spdx+json" },
			err: catalog.ErrArtifact, where: `artifact type "application/spdx+json"`},
		{name: "two layers", body: valid, edit: func(m *ocispec.Manifest) { m.Layers = append(m.Layers, m.Layers[0]) },
			err: catalog.ErrArtifact, where: "found 2 layer(s)"},
		{name: "layer of another type", body: valid, edit: func(m *ocispec.Manifest) { m.Layers[0].MediaType = ocispec.MediaTypeImageLayerGzip },
			err: catalog.ErrArtifact, where: "want one layer of"},
		{name: "over the default limit", body: valid, edit: func(m *ocispec.Manifest) { m.Layers[0].Size = catalog.DefaultMaxDocumentSize + 1 },
			err: catalog.ErrArtifact, where: "over the 16777216-byte limit"},
		{name: "over the limit asked", body: valid, edit: func(*ocispec.Manifest) {}, opts: catalog.Options{MaxDocumentSize: 10},
			err: catalog.ErrArtifact, where: "over the 10-byte limit"},
		{name: "a size that cannot be", body: valid, edit: func(m *ocispec.Manifest) { m.Layers[0].Size = -1 },
			err: resolve.ErrSize, where: "negative size"},
		{name: "longer than it is", body: valid, edit: func(m *ocispec.Manifest) { m.Layers[0].Size++ },
			where: "mismatch Content-Length", fetchd: true},
		// oras-go compares the Content-Length with the descriptor first.
		{name: "shorter than it is", body: valid, edit: func(m *ocispec.Manifest) { m.Layers[0].Size = 10 },
			where: "mismatch Content-Length", fetchd: true},
		{name: "corrupted in transit", body: valid, edit: func(*ocispec.Manifest) {},
			fault: &testregistry.Fault{Kind: testregistry.FaultCorrupt, Path: "/ext/catalog/blobs/"}, err: resolve.ErrDigest, where: "does not hash", fetchd: true},
		{name: "cut in transit", body: valid, edit: func(*ocispec.Manifest) {},
			fault: &testregistry.Fault{Kind: testregistry.FaultTruncate, Path: "/ext/catalog/blobs/"}, where: "read the document", fetchd: true},
		{name: "not a document", body: []byte(`{"schemaVersion":1,"repositories":[],"x":[]}`), edit: func(*ocispec.Manifest) {},
			err: catalog.ErrDocument, where: `unknown member "x"`, fetchd: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := testregistry.Serve(testregistry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			pushArtifact(t, srv, tt.body, tt.edit)
			if tt.fault != nil {
				if err := srv.AddFault(*tt.fault); err != nil {
					t.Fatal(err)
				}
			}
			srv.ResetRequests()
			opts := tt.opts
			opts.From = catalog.FromArtifact
			opts.Remote.Client = http.DefaultClient
			_, err = catalog.Open(context.Background(), srv.Host()+"/ext", opts)
			if tt.where == "" && err != nil || tt.where != "" && (err == nil || tt.err != nil && !errors.Is(err, tt.err) ||
				!strings.Contains(err.Error(), tt.where) || !strings.Contains(err.Error(), "ext/catalog")) {
				t.Errorf("%v, want %v naming ext/catalog and %q", err, tt.err, tt.where)
			}
			_, _, m, b, _ := countRequests(srv.Requests())
			if want := map[bool]int{false: 0, true: 1}[tt.fetchd]; m != 1 || b != want {
				t.Errorf("%d manifest GETs and %d blob GETs, want 1 and %d", m, b, want)
			}
		})
	}
	t.Run("an index", func(t *testing.T) {
		srv := world(t)
		repo := repository(t, srv, "ext/catalog")
		idx := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)
		if err := repo.PushReference(context.Background(), content.NewDescriptorFromBytes(ocispec.MediaTypeImageIndex, idx), bytes.NewReader(idx), catalog.Tag); err != nil {
			t.Fatal(err)
		}
		if _, err := catalog.Open(context.Background(), srv.Host()+"/ext", catalog.Options{From: catalog.FromArtifact}); !errors.Is(err, catalog.ErrArtifact) {
			t.Errorf("%v, want ErrArtifact", err)
		}
	})
}
