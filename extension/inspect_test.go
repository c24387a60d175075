package extension

import (
	stdcmp "cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
	"pgoci/labels"
	"pgoci/resolve"
)

// inspectSummary is what the inspection tests compare: the index and its
// referrers, and per manifest its platform, package and referrers.
type inspectSummary struct {
	Index          digest.Digest
	IndexReferrers []digest.Digest
	Manifests      []string
}

func manifestLine(d digest.Digest, p ocispec.Platform, pkg string, refs []ocispec.Descriptor) string {
	line := d.Encoded()[:12] + " " + resolve.PlatformString(p) + " " + pkg
	for _, r := range refs {
		line += " " + r.ArtifactType + "=" + r.Digest.Encoded()[:12]
	}
	return line
}

func summarize(in Inspection) inspectSummary {
	var s inspectSummary
	if len(in.Indexes) > 0 {
		s.Index = in.Indexes[0].Descriptor.Digest
		for _, r := range in.Indexes[0].Referrers {
			s.IndexReferrers = append(s.IndexReferrers, r.Digest)
		}
	}
	for _, m := range in.Manifests {
		var p ocispec.Platform
		if m.Platform != nil {
			p = *m.Platform
		}
		s.Manifests = append(s.Manifests, manifestLine(m.Descriptor.Digest, p, m.Labels.Package.Name+"@"+m.Labels.Package.Version, m.Referrers))
	}
	slices.Sort(s.Manifests)
	return s
}

func (d demoRepo) wantSummary(withReferrers bool) inspectSummary {
	s := inspectSummary{Index: d.index.Digest}
	if withReferrers {
		s.IndexReferrers = []digest.Digest{d.sbom.Digest}
	}
	for i, img := range d.images {
		var refs []ocispec.Descriptor
		if withReferrers {
			// Pack attaches an SBOM to every manifest.
			refs = []ocispec.Descriptor{{ArtifactType: sbomType, Digest: img.SBOM.Digest}}
		}
		if i == 0 && withReferrers {
			refs = append(refs, ocispec.Descriptor{ArtifactType: sigType, Digest: d.sig.Digest})
		}
		slices.SortFunc(refs, func(a, b ocispec.Descriptor) int {
			return stdcmp.Or(strings.Compare(a.ArtifactType, b.ArtifactType), strings.Compare(a.Digest.String(), b.Digest.String()))
		})
		s.Manifests = append(s.Manifests, manifestLine(img.Manifest.Digest, *img.Manifest.Platform, "pgoci_demo@1.1.0", refs))
	}
	slices.Sort(s.Manifests)
	return s
}

func TestInspect(t *testing.T) {
	srv := startRegistry(t)
	d := pushDemoRepo(t, srv, "pgoci_demo")
	ctx := context.Background()
	layoutDir := t.TempDir() + "/mirror"
	if _, err := Copy(ctx, d.ref+":1.1.0", "oci:"+layoutDir+":1.1.0", CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ref  string
		opts InspectOptions
		want inspectSummary
	}{
		{"registry tag", d.ref + ":1.1.0", InspectOptions{}, d.wantSummary(true)},
		{"registry digest", d.ref + "@" + d.index.Digest.String(), InspectOptions{}, d.wantSummary(true)},
		{"registry latest by default", d.ref, InspectOptions{}, d.wantSummary(true)},
		{"no referrers", d.ref + ":1.1.0", InspectOptions{NoReferrers: true}, d.wantSummary(false)},
		{"layout tag", "oci:" + layoutDir + ":1.1.0", InspectOptions{}, d.wantSummary(true)},
		{"manifest by digest", d.ref + "@" + d.images[1].Manifest.Digest.String(), InspectOptions{}, inspectSummary{
			Manifests: []string{manifestLine(d.images[1].Manifest.Digest, *d.images[1].Manifest.Platform, "pgoci_demo@1.1.0",
				[]ocispec.Descriptor{{ArtifactType: sbomType, Digest: d.images[1].SBOM.Digest}})},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := Inspect(ctx, tt.ref, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, summarize(in)); diff != "" {
				t.Errorf("inspection (-want +got):\n%s", diff)
			}
			for _, m := range in.Manifests {
				if m.LabelsErr != nil {
					t.Errorf("%s: labels: %v", m.Descriptor.Digest, m.LabelsErr)
				}
				if len(m.Manifest.Layers) != 1 || m.Labels.PG.Major != 18 {
					t.Errorf("%s: %d layers, PG major %d", m.Descriptor.Digest, len(m.Manifest.Layers), m.Labels.PG.Major)
				}
			}
		})
	}
}

// TestInspectJSON: the JSON form round-trips the fields a CLI shows.
func TestInspectJSON(t *testing.T) {
	srv := startRegistry(t)
	d := pushDemoRepo(t, srv, "pgoci_demo")
	in, err := Inspect(context.Background(), d.ref+":1.1.0", InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Descriptor ocispec.Descriptor
		Indexes    []struct{ Referrers []ocispec.Descriptor }
		Manifests  []struct {
			Platform    *ocispec.Platform
			Labels      labels.Metadata
			LabelsError string
			Referrers   []ocispec.Descriptor
		}
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Descriptor.Digest != d.index.Digest || len(back.Indexes) != 1 || len(back.Manifests) != 2 ||
		back.Manifests[0].Platform == nil || back.Manifests[0].Labels.Package.Name != "pgoci_demo" {
		t.Errorf("JSON lost fields: %s", b)
	}
	if strings.Contains(string(b), "labelsError") {
		t.Errorf("labelsError written for valid labels: %s", b)
	}
}

// TestInspectBadLabels: labels that do not parse are reported on their
// manifest; the inspection goes on.
func TestInspectBadLabels(t *testing.T) {
	srv := startRegistry(t)
	ctx := context.Background()
	repo, err := remote.NewRepository(srv.Host() + "/ext/bad")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	m, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.example", oras.PackManifestOptions{
		ManifestAnnotations: map[string]string{
			labels.KeySchemaVersion:   "1",
			labels.KeyPGMajor:         "eighteen",
			ocispec.AnnotationCreated: "2025-01-01T00:00:00Z",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Tag(ctx, m, "v1"); err != nil {
		t.Fatal(err)
	}
	in, err := Inspect(ctx, srv.Host()+"/ext/bad:v1", InspectOptions{})
	if err != nil {
		t.Fatalf("Inspect failed on bad labels: %v", err)
	}
	if len(in.Manifests) != 1 || !errors.Is(in.Manifests[0].LabelsErr, labels.ErrInvalidValue) {
		t.Fatalf("LabelsErr = %v, want labels.ErrInvalidValue", in.Manifests[0].LabelsErr)
	}
	b, _ := json.Marshal(in)
	if !strings.Contains(string(b), `"labelsError":"`) || !strings.Contains(string(b), labels.KeyPGMajor) {
		t.Errorf("JSON does not carry the labels error naming the key: %s", b)
	}
}

func TestInspectFaults(t *testing.T) {
	srv := startRegistry(t)
	d := pushDemoRepo(t, srv, "pgoci_demo")
	tests := []struct {
		name  string
		fault *testregistry.Fault
		ref   string
		opts  InspectOptions
		want  error
	}{
		{"corrupt manifest", &testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: "GET", Path: "/manifests/sha256:"}, d.ref + ":1.1.0", InspectOptions{}, resolve.ErrDigest},
		{"corrupt index", &testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: "GET", Path: "/manifests/1.1.0"}, d.ref + ":1.1.0", InspectOptions{}, resolve.ErrDigest},
		{"corrupt config", &testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: "GET", Path: "/blobs/" + d.images[0].Config.Digest.String()}, d.ref + ":1.1.0", InspectOptions{}, resolve.ErrDigest},
		{"too many manifests", nil, d.ref + ":1.1.0", InspectOptions{MaxManifests: 1}, ErrTooManyManifests},
		{"wrong digest", nil, d.ref + "@" + digest.FromString("x").String(), InspectOptions{}, nil},
		{"bad reference", nil, "no-host", InspectOptions{}, resolve.ErrReference},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ClearFaults()
			if tt.fault != nil {
				if err := srv.AddFault(*tt.fault); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Inspect(context.Background(), tt.ref, tt.opts)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Inspect: %v, want %v", err, tt.want)
			}
		})
	}
}
