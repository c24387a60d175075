// Command quickstart is the README's first command: it runs pgoci's main
// job end to end with no outside service. It starts an in-process OCI
// registry, packs the demo extension package (layout/testdata/demo) for two
// PostgreSQL majors and two architectures, pushes the images and their
// index, resolves the image that fits this machine, installs it into a
// temporary root, prints the server settings and the installed files,
// verifies and uninstalls it, and mirrors the index into an OCI image
// layout for air-gapped sites.
//
// Every step prints one line. Run it from anywhere inside the repository:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
	"pgoci/labels"
	"pgoci/resolve"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	work, err := os.MkdirTemp("", "pgoci-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		return err
	}
	defer srv.Close()
	step("registry", "started an in-process OCI registry at %s", srv.Host())

	ref := srv.Host() + "/extensions/" + demo.Package + ":" + demo.Version
	if err := packAndPush(ctx, work, ref); err != nil {
		return err
	}

	// The server: PostgreSQL 18 on this machine's platform. Its libc and
	// distro are left unknown: the default policy reports them rather than
	// refusing.
	target := resolve.Target{PG: labels.PG{Major: 18}, Platform: resolve.HostPlatform()}
	r, err := resolve.ResolveReference(ctx, ref, target, resolve.Options{})
	if err != nil {
		return err
	}
	step("resolve", "%s -> %s for %s (%d other candidates rejected, %d properties unknown)",
		ref, short(r.Manifest.Digest.String()), resolve.PlatformString(r.Platform), len(r.Rejected), len(r.Report))

	root := filepath.Join(work, "root")
	rt, err := extension.Open(ctx, extension.RootOptions{Root: root, Target: target, CacheDir: filepath.Join(work, "cache")})
	if err != nil {
		return err
	}
	res, err := rt.Install(ctx, ref, extension.InstallOptions{})
	if err != nil {
		return err
	}
	for _, p := range res.Packages {
		step("install", "%s %s %s into %s (%d files)", p.Action, p.Name, p.Version, filepath.Base(root), len(p.Files))
	}
	for _, line := range strings.Split(strings.TrimSpace(res.Settings.PostgresqlConf()), "\n") {
		step("settings", "%s", strings.ReplaceAll(line, work, "$WORK"))
	}
	if err := listView(root); err != nil {
		return err
	}
	drift, err := rt.Verify(ctx)
	if err != nil {
		return err
	}
	step("verify", "%d installed files differ from their records", len(drift))
	removed, err := rt.Uninstall(ctx, demo.Package, extension.UninstallOptions{})
	if err != nil {
		return err
	}
	left, err := rt.List(ctx)
	if err != nil {
		return err
	}
	step("uninstall", "removed %s %s; %d packages left", removed.Name, removed.Version, len(left))

	mirror := "oci:" + filepath.Join(work, "mirror")
	copied, err := extension.Copy(ctx, ref, mirror+":"+demo.Version, extension.CopyOptions{})
	if err != nil {
		return err
	}
	step("copy", "registry -> OCI layout: index %s (same digest as pushed: %v)", short(copied.Digest.String()), copied.Digest == r.Index.Digest)
	step("requests", "%d HTTP requests served by the registry", len(srv.Requests()))
	return nil
}

// packAndPush packs the demo for PostgreSQL 17 and 18 on amd64 and arm64
// and pushes the four images under one index tagged ref's tag.
func packAndPush(ctx context.Context, work, ref string) error {
	repo, err := remote.NewRepository(strings.TrimSuffix(ref, ":"+demo.Version))
	if err != nil {
		return err
	}
	repo.PlainHTTP = true // loopback registry
	var images []extension.Image
	for _, major := range []int{17, 18} {
		for _, arch := range []string{"amd64", "arm64"} {
			tree, err := demo.Tree(work, major, arch)
			if err != nil {
				return err
			}
			platform, meta := demo.Build(major, arch)
			img, err := extension.Pack(ctx, repo, tree, extension.Build{Platform: platform, Metadata: meta}, extension.PackOptions{})
			if err != nil {
				return fmt.Errorf("pack for PostgreSQL %d %s: %w", major, arch, err)
			}
			step("pack", "%s %s for PostgreSQL %d %s: manifest %s, layer %d bytes", demo.Package, demo.Version,
				major, resolve.PlatformString(platform), short(img.Manifest.Digest.String()), img.Layers[0].Size)
			images = append(images, img)
		}
	}
	idx, err := extension.PushIndex(ctx, repo, images, demo.Version)
	if err != nil {
		return err
	}
	step("push", "index %s tagged %s (%d manifests)", short(idx.Digest.String()), ref, len(images))
	return nil
}

// listView prints the merged view the server reads through its settings.
func listView(root string) error {
	for _, dir := range []string{"share/extension", "lib"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			return err
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		step("files", "%s/: %s", dir, strings.Join(names, " "))
	}
	return nil
}

func step(what, format string, a ...any) {
	fmt.Printf("%-10s %s\n", what, fmt.Sprintf(format, a...))
}

func short(d string) string { return d[:len("sha256:")+12] }
