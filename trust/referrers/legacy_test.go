package referrers

import (
	"context"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
)

// TestLegacyTagsSpareRequests: listing the tags once finds the legacy
// .sig tag of one subject, and ArtifactsIn then asks for no legacy tag
// of a subject that has none.
func TestLegacyTagsSpareRequests(t *testing.T) {
	ctx := context.Background()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	repo, err := remote.NewRepository(srv.Host() + "/legacy/img")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	signed := pushSubject(t, repo)
	sig, err := Push(ctx, repo, signed, "", "application/vnd.dev.cosign.simplesigning.v1+json", []byte("{}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The legacy layout: the signature manifest tagged after the subject,
	// without a subject field of its own.
	if err := repo.Tag(ctx, sig, FallbackTag(signed.Digest, ".sig")); err != nil {
		t.Fatal(err)
	}
	legacy, ok, err := LegacyTags(ctx, repo)
	if err != nil || !ok || len(legacy) != 1 || !legacy[FallbackTag(signed.Digest, ".sig")] {
		t.Fatalf("LegacyTags = %v, %v, %v; want the .sig tag", legacy, ok, err)
	}
	arts, err := ArtifactsIn(ctx, repo, signed, 0, legacy)
	if err != nil || !hasTag(arts, FallbackTag(signed.Digest, ".sig")) {
		t.Fatalf("ArtifactsIn(signed) = %v, %v; want the legacy signature", arts, err)
	}

	unsigned := ocispec.Descriptor{MediaType: signed.MediaType, Digest: digest.Digest("sha256:" + strings.Repeat("ab", 32)), Size: 2}
	srv.ResetRequests()
	if _, err := ArtifactsIn(ctx, repo, unsigned, 0, legacy); err != nil {
		t.Fatal(err)
	}
	for _, q := range srv.Requests() {
		if strings.Contains(q.Path, ".sig") || strings.Contains(q.Path, ".att") || strings.Contains(q.Path, ".sbom") {
			t.Errorf("ArtifactsIn asked for %s although the tag list lacks it", q.Path)
		}
	}
}

func hasTag(arts []Artifact, tag string) bool {
	for _, a := range arts {
		if a.Tag == tag {
			return true
		}
	}
	return false
}

func TestIsLegacyTag(t *testing.T) {
	hex := strings.Repeat("0f", 32)
	for tag, want := range map[string]bool{
		"sha256-" + hex + ".sig":      true,
		"sha256-" + hex + ".att":      true,
		"sha256-" + hex + ".sbom":     true,
		"sha256-" + hex:               false, // the referrers tag schema, not cosign's
		"sha256-" + hex + ".tar":      false,
		"sha256-" + hex[:62] + ".sig": false,
		"sha512-" + hex + ".sig":      false,
		"1.5":                         false,
	} {
		if got := isLegacyTag(tag); got != want {
			t.Errorf("isLegacyTag(%q) = %v, want %v", tag, got, want)
		}
	}
}
