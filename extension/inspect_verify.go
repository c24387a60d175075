package extension

import (
	"context"
	"encoding/json"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/verify"
	"pgoci/resolve"
)

// fetchRoot reads what a tag or digest names in src, verified, and checks
// that it is the index or manifest its descriptor says
// (resolve.FetchObject, then resolve's shape check).
func fetchRoot(ctx context.Context, src resolve.Source, object string) (ocispec.Descriptor, []byte, error) {
	d, body, err := resolve.FetchObject(ctx, src, object)
	if err != nil {
		return d, nil, err
	}
	if resolve.IsIndexMediaType(d.MediaType) {
		_, err = resolve.DecodeIndex(d, body)
	} else {
		_, err = resolve.DecodeManifest(d, body)
	}
	return d, body, err
}

// decodeConfig fetches and decodes the image config of m, verified.
func decodeConfig(ctx context.Context, src resolve.Source, m ocispec.Manifest, of ocispec.Descriptor) (ocispec.Image, error) {
	var img ocispec.Image
	cfg, err := resolve.FetchVerified(ctx, src, m.Config)
	if err != nil {
		return img, err
	}
	if err := json.Unmarshal(cfg, &img); err != nil {
		return img, fmt.Errorf("%w: config %s of %s: %v", resolve.ErrInvalidManifest, m.Config.Digest, of.Digest, err)
	}
	return img, nil
}

func shorten(s string) string { return verify.Truncate(s) }
