package main

import (
	"context"
	"flag"
	"fmt"

	"pgoci/extension"
	"pgoci/resolve"
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
	p := newProgress(e, "unpack")
	u, err := extension.Unpack(ctx, ref, dir, extension.UnpackOptions{Platform: target.Platform, Remote: e.remoteOptions(), Durable: durable,
		Events: func(ev extension.Event) {
			if ev.Kind == extension.EventFetch {
				p.update(ev.Bytes, ev.Total)
			}
		}})
	p.done()
	if err != nil {
		return err
	}
	r, stats := u.Resolved, u.Stats
	fmt.Fprintf(e.stdout, "unpacked %s (%s, %d layers) into %s: %d files, %d bytes in %s\n",
		r.Reference, resolve.PlatformString(r.Platform), len(r.ManifestBody.Layers), dir, stats.Files, stats.BytesOut, stats.Duration.Round(1e6))
	return nil
}
