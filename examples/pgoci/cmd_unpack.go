package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"pgoci/resolve"
	"pgoci/unpack"
)

func unpackCommand() command {
	return command{
		name:  "unpack",
		usage: []string{"[flags] REF DIR"},
		summary: "unpack any OCI image's filesystem into DIR (which must not exist): verified, sanitised, atomic; " +
			"what curl, jq and tar do by hand",
		setup: setupUnpack,
	}
}

func setupUnpack(fs *flag.FlagSet) action {
	platform := fs.String("platform", "", "unpack the image for `os/arch[/variant]` (default: this machine's)")
	durable := fs.Bool("durable", false, "fsync the unpacked files and directories before DIR appears (default: off)")
	return func(ctx context.Context, e *env, args []string) error {
		if err := wantArgs(args, "REF", "DIR"); err != nil {
			return err
		}
		// Any image: only the platform is checked, and unknown PostgreSQL
		// properties are not a mismatch.
		target := resolve.Target{Platform: resolve.HostPlatform()}
		if *platform != "" {
			var err error
			if target.Platform, err = resolve.ParsePlatform(*platform); err != nil {
				return usagef("--platform: %v", err)
			}
		}
		return unpackImage(ctx, e, args[0], args[1], target, *durable)
	}
}

func unpackImage(ctx context.Context, e *env, ref, dir string, target resolve.Target, durable bool) error {
	src, parsed, err := resolve.Open(ctx, ref, e.remoteOptions())
	if err != nil {
		return err
	}
	r, err := resolve.Resolve(ctx, src, parsed, target, resolve.Options{FetchConfig: true})
	if err != nil {
		return err
	}
	layers := layerSources(src, r)
	dst, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	p := newProgress(e, "unpack")
	stats, err := unpack.Apply(ctx, dst, layers, unpack.Options{Durable: durable, Progress: p.update})
	p.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "unpacked %s (%s, %d layers) into %s: %d files, %d bytes in %s\n",
		r.Reference, resolve.PlatformString(r.Platform), len(layers), dir, stats.Files, stats.BytesOut, stats.Duration.Round(1e6))
	return nil
}

// layerSources lists the resolved image's layers with their diff_ids, each
// fetched from src when the unpacker asks for it.
func layerSources(src resolve.Source, r resolve.Resolved) []unpack.LayerSource {
	layers := make([]unpack.LayerSource, len(r.ManifestBody.Layers))
	for i, desc := range r.ManifestBody.Layers {
		layers[i] = unpack.LayerSource{Descriptor: desc, Open: func(ctx context.Context) (io.ReadCloser, error) {
			return src.Fetch(ctx, desc)
		}}
		if r.Image != nil && i < len(r.Image.RootFS.DiffIDs) {
			layers[i].DiffID = r.Image.RootFS.DiffIDs[i]
		}
	}
	return layers
}
