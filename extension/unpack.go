package extension

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/resolve"
	"pgoci/unpack"
)

// UnpackOptions tunes [Unpack]. The zero value unpacks the image for this
// machine's platform, from registries as configured by the Docker
// configuration file, without fsync.
type UnpackOptions struct {
	// Platform is the platform whose image an index is resolved to.
	// Default: this machine's ([resolve.HostPlatform]).
	Platform ocispec.Platform
	// Remote configures registry access (credentials, plain HTTP,
	// mirrors).
	Remote resolve.RemoteOptions
	// Durable fsyncs the files and directories before dir appears.
	Durable bool
	// Events receives an EventResolve once the image is chosen, an
	// EventFetch about every MiB of layer read (Bytes of Total,
	// compressed) and an EventDone (Files) when dir is in place.
	// Default: none.
	Events func(Event)
}

// Unpacked is what [Unpack] did.
type Unpacked struct {
	// Resolved is the image unpacked.
	Resolved resolve.Resolved
	// Stats counts what the layers held.
	Stats unpack.Stats
}

// Unpack writes the filesystem of any OCI image that ref names
// ("host[:port]/repo[:tag][@digest]" or "oci:DIR[:tag|@digest]") into dir,
// which must not exist: what a script of curl, jq and tar does, with every
// layer's digest, size and diff_id verified, paths sanitised (see package
// unpack) and dir published with one rename, so that on any error it does
// not exist. Only the platform is checked: unknown PostgreSQL properties
// of a non-extension image are not a mismatch.
func Unpack(ctx context.Context, ref, dir string, opts UnpackOptions) (Unpacked, error) {
	target := resolve.Target{Platform: opts.Platform}
	if target.Platform.Architecture == "" {
		target.Platform = resolve.HostPlatform()
	}
	dst, err := filepath.Abs(dir)
	if err != nil {
		return Unpacked{}, err
	}
	src, parsed, err := resolve.Open(ctx, ref, opts.Remote)
	if err != nil {
		return Unpacked{}, err
	}
	r, err := resolve.Resolve(ctx, src, parsed, target, resolve.Options{FetchConfig: true, Remote: opts.Remote})
	if err != nil {
		return Unpacked{}, err
	}
	emit(opts.Events, Event{Kind: EventResolve, Reference: ref, Digest: r.Manifest.Digest, Version: r.Metadata.Package.Version, Package: r.Metadata.Package.Name})
	layers, err := layerSources(src, r)
	if err != nil {
		return Unpacked{Resolved: r}, err
	}
	progress := func(done, total int64) {
		emit(opts.Events, Event{Kind: EventFetch, Reference: ref, Digest: r.Manifest.Digest, Bytes: done, Total: total})
	}
	stats, err := unpack.Apply(ctx, dst, layers, unpack.Options{Durable: opts.Durable, Progress: progress})
	if err != nil {
		return Unpacked{Resolved: r, Stats: stats}, err
	}
	emit(opts.Events, Event{Kind: EventDone, Reference: ref, Digest: r.Manifest.Digest, Files: stats.Files})
	return Unpacked{Resolved: r, Stats: stats}, nil
}

// layerSources lists the resolved image's layers with their diff_ids, each
// fetched from src when the unpacker asks for it. An artifact whose
// config is no image config has no diff_ids (its layers are still
// verified by digest); a config listing a wrong number is refused.
func layerSources(src resolve.Source, r resolve.Resolved) ([]unpack.LayerSource, error) {
	var diffIDs []digest.Digest
	if r.Image != nil && len(r.Image.RootFS.DiffIDs) > 0 {
		var err error
		if diffIDs, err = layerDiffIDs(r); err != nil {
			return nil, err
		}
	}
	layers := make([]unpack.LayerSource, len(r.ManifestBody.Layers))
	for i, desc := range r.ManifestBody.Layers {
		layers[i] = unpack.LayerSource{Descriptor: desc, Open: func(ctx context.Context) (io.ReadCloser, error) {
			rc, err := src.Fetch(ctx, desc)
			if err != nil {
				return nil, fmt.Errorf("extension: fetch layer %s: %w", desc.Digest, err)
			}
			return rc, nil
		}}
		if diffIDs != nil {
			layers[i].DiffID = diffIDs[i]
		}
	}
	return layers, nil
}
