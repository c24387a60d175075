package extension

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
	"pgoci/ocilayout"
	"pgoci/resolve"
)

func layoutTags(t *testing.T, dir string) []string {
	t.Helper()
	st, err := ocilayout.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	if err := st.Tags(context.Background(), "", func(ts []string) error { tags = ts; return nil }); err != nil {
		t.Fatal(err)
	}
	return tags
}

// TestCopyRoundTrip: registry -> layout -> registry keeps the index
// digest, progress counts every blob once, and the copy is verified.
func TestCopyRoundTrip(t *testing.T) {
	srv := startRegistry(t)
	d := pushDemoRepo(t, srv, "pgoci_demo")
	ctx := context.Background()
	dir := t.TempDir() + "/pgoci_demo"
	var last Event
	calls := 0
	// The image alone: graphSize counts its blobs, not its referrers'.
	got, err := Copy(ctx, d.ref+":1.1.0", "oci:"+dir, CopyOptions{NoReferrers: true, Events: func(e Event) { last = e; calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != d.index.Digest {
		t.Errorf("layout index %s, want %s", got.Digest, d.index.Digest)
	}
	if last.Bytes != d.graphSize() || last.Kind != EventFetch || calls == 0 {
		t.Errorf("last event %+v after %d calls, want an EventFetch of %d bytes", last, calls, d.graphSize())
	}
	if diff := cmp.Diff([]string{"1.1.0"}, layoutTags(t, dir)); diff != "" {
		t.Errorf("layout tags (-want +got):\n%s", diff)
	}
	back, err := Copy(ctx, "oci:"+dir+":1.1.0", srv.Host()+"/mirror/pgoci_demo:again", CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Digest != d.index.Digest {
		t.Errorf("registry -> layout -> registry: %s, want %s", back.Digest, d.index.Digest)
	}
	// A second copy finds everything in place and reads no blob.
	calls = 0
	if _, err := Copy(ctx, d.ref+":1.1.0", "oci:"+dir+":again", CopyOptions{NoReferrers: true, Events: func(Event) { calls++ }}); err != nil {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Errorf("a copy to a destination holding everything read %d chunks of blobs", calls)
	}
	res, err := resolve.ResolveReference(ctx, srv.Host()+"/mirror/pgoci_demo:again", resolve.Target{PG: d.images[0].Metadata.PG, Platform: arm64}, resolve.Options{})
	if err != nil || res.Manifest.Digest != d.images[1].Manifest.Digest {
		t.Errorf("resolving the copy: %v, %v", res.Manifest.Digest, err)
	}
}

func TestCopyPlatforms(t *testing.T) {
	srv := startRegistry(t)
	d := pushDemoRepo(t, srv, "pgoci_demo")
	tests := []struct {
		name      string
		platforms []ocispec.Platform
		want      []ocispec.Platform // of the entries copied
		wantErr   error
	}{
		{"arm64 any variant", []ocispec.Platform{{OS: "linux", Architecture: "arm64"}}, []ocispec.Platform{arm64}, nil},
		{"aarch64 alias", []ocispec.Platform{{OS: "linux", Architecture: "aarch64"}}, []ocispec.Platform{arm64}, nil},
		{"amd64", []ocispec.Platform{amd64}, []ocispec.Platform{amd64}, nil},
		{"both", []ocispec.Platform{amd64, arm64}, []ocispec.Platform{amd64, arm64}, nil},
		{"none", []ocispec.Platform{{OS: "linux", Architecture: "s390x"}}, nil, ErrNoPlatform},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir() + "/m"
			got, err := Copy(context.Background(), d.ref+":1.1.0", "oci:"+dir, CopyOptions{Platforms: tt.platforms})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Copy: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if _, statErr := os.Stat(dir); statErr == nil && len(layoutTags(t, dir)) != 0 {
					t.Errorf("tags written after a failed copy: %v", layoutTags(t, dir))
				}
				return
			}
			in, err := Inspect(context.Background(), "oci:"+dir+":1.1.0", InspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var platforms []ocispec.Platform
			for _, m := range in.Manifests {
				platforms = append(platforms, *m.Platform)
			}
			if diff := cmp.Diff(tt.want, platforms); diff != "" {
				t.Errorf("platforms copied (-want +got):\n%s", diff)
			}
			if got.Digest != in.Descriptor.Digest {
				t.Errorf("Copy returned %s, layout holds %s", got.Digest, in.Descriptor.Digest)
			}
			if len(in.Indexes[0].Referrers) != 0 {
				t.Errorf("the source index's SBOM was attached to the filtered index")
			}
			if len(tt.want) < 2 && got.Digest == d.index.Digest {
				t.Errorf("a filtered index kept the source digest")
			}
		})
	}
}

// TestCopyFaults: a blob truncated or corrupted mid-copy fails the copy
// and the destination gets no tag.
func TestCopyFaults(t *testing.T) {
	srv := startRegistry(t)
	d := pushDemoRepo(t, srv, "pgoci_demo")
	layer := "/blobs/" + d.images[1].Layers[0].Digest.String()
	tests := []struct {
		name    string
		fault   testregistry.Fault
		wantErr error
	}{
		{"truncated layer", testregistry.Fault{Kind: testregistry.FaultTruncate, Method: "GET", Path: layer}, nil},
		{"corrupt layer", testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: "GET", Path: layer}, resolve.ErrDigest},
		{"corrupt manifest", testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: "GET", Path: "/manifests/sha256:"}, resolve.ErrDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ClearFaults()
			if err := srv.AddFault(tt.fault); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir() + "/m"
			_, err := Copy(context.Background(), d.ref+":1.1.0", "oci:"+dir+":1.1.0", CopyOptions{})
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("Copy: %v, want %v", err, tt.wantErr)
			}
			if tags := layoutTags(t, dir); len(tags) != 0 {
				t.Errorf("tags written by a failed copy: %v", tags)
			}
			if ok, _ := (&layoutProbe{dir}).has(d.images[1].Layers[0].Digest.Encoded()); ok {
				t.Errorf("the damaged layer was stored")
			}
		})
	}
	// The same copy to a registry fails too, verified on our side.
	srv.ClearFaults()
	_ = srv.AddFault(testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: "GET", Path: layer})
	if _, err := Copy(context.Background(), d.ref+":1.1.0", srv.Host()+"/other/x:1.1.0", CopyOptions{}); !errors.Is(err, resolve.ErrDigest) {
		t.Errorf("copy to a registry of a corrupt layer: %v, want ErrDigest", err)
	}
}

type layoutProbe struct{ dir string }

func (p *layoutProbe) has(hex string) (bool, error) {
	_, err := os.Stat(filepath.Join(p.dir, "blobs", "sha256", hex))
	return err == nil, nil
}

func TestCopyAll(t *testing.T) {
	srv := startRegistry(t)
	a := pushDemoRepo(t, srv, "pgoci_demo")
	b := pushDemoRepo(t, srv, "other")
	ctx := context.Background()
	mirror := t.TempDir()
	done, err := CopyAll(ctx, []string{a.ref, b.ref + ":1.1.0"}, "oci:"+mirror, CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var dsts []string
	for _, c := range done {
		dsts = append(dsts, c.Destination)
	}
	want := []string{
		"oci:" + mirror + "/pgoci_demo:1.1.0", "oci:" + mirror + "/pgoci_demo:latest",
		"oci:" + mirror + "/other:1.1.0",
	}
	if diff := cmp.Diff(want, dsts); diff != "" {
		t.Errorf("destinations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1.1.0", "latest"}, layoutTags(t, mirror+"/pgoci_demo")); diff != "" {
		t.Errorf("mirror tags (-want +got):\n%s", diff)
	}
	// The installer's dependency rule finds siblings: resolve reads the
	// mirror with a version constraint.
	res, err := resolve.ResolveReference(ctx, "oci:"+mirror+"/other", resolve.Target{PG: a.images[0].Metadata.PG, Platform: amd64}, resolve.Options{Version: "^1"})
	if err != nil || res.Manifest.Digest != a.images[0].Manifest.Digest {
		t.Errorf("resolve from the mirror: %v, %v", res.Manifest.Digest, err)
	}
	// Into a registry namespace.
	done, err = CopyAll(ctx, []string{a.ref + ":1.1.0"}, srv.Host()+"/mirror", CopyOptions{})
	if err != nil || len(done) != 1 || done[0].Destination != srv.Host()+"/mirror/pgoci_demo:1.1.0" || done[0].Descriptor.Digest != a.index.Digest {
		t.Errorf("CopyAll to a registry: %+v, %v", done, err)
	}
}

func TestCopyReferenceErrors(t *testing.T) {
	srv := startRegistry(t)
	d := pushDemoRepo(t, srv, "pgoci_demo")
	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"source without tag", func() error { _, err := Copy(ctx, d.ref, "oci:"+dir+"/x", CopyOptions{}); return err }, ErrCopyReference},
		{"destination digest", func() error {
			_, err := Copy(ctx, d.ref+":1.1.0", "oci:"+dir+"/x@"+d.index.Digest.String(), CopyOptions{})
			return err
		}, ErrCopyReference},
		{"bad source", func() error { _, err := Copy(ctx, "nohost", "oci:"+dir+"/x", CopyOptions{}); return err }, resolve.ErrReference},
		{"name clash", func() error {
			_, err := CopyAll(ctx, []string{d.ref + ":1.1.0", srv.Host() + "/elsewhere/pgoci_demo:1.1.0"}, "oci:"+dir, CopyOptions{})
			return err
		}, ErrCopyReference},
		{"mirror with tag", func() error {
			_, err := CopyAll(ctx, []string{d.ref + ":1.1.0"}, srv.Host()+"/m:tag", CopyOptions{})
			return err
		}, ErrCopyReference},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.want) {
				t.Fatalf("%v, want %v", err, tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused copies created %v", entries)
	}
}

// TestCopyCarriesLegacySignatures: cosign's older layout, a manifest
// tagged sha256-<hex>.sig next to the image, is copied along and tagged
// the same at the destination, as referrers are, so that the copy
// verifies as the original does.
func TestCopyCarriesLegacySignatures(t *testing.T) {
	srv := startRegistry(t)
	d := pushDemoRepo(t, srv, "pgoci_demo")
	repo, err := remote.NewRepository(d.ref)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	ctx := context.Background()
	sig := pushReferrer(t, repo, "application/vnd.dev.cosign.artifact.sig.v1+json", d.index)
	legacy := "sha256-" + d.index.Digest.Encoded() + ".sig"
	if err := repo.Tag(ctx, sig, legacy); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/pgoci_demo"
	if _, err := Copy(ctx, d.ref+":1.1.0", "oci:"+dir+":1.1.0", CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if tags := layoutTags(t, dir); !slices.Contains(tags, legacy) {
		t.Errorf("layout tags %v lack %s", tags, legacy)
	}
	if _, err := Copy(ctx, d.ref+":1.1.0", "oci:"+t.TempDir()+"/alone:1.1.0", CopyOptions{NoReferrers: true}); err != nil {
		t.Fatal(err)
	}
}
