package extension_test

import (
	"context"
	"fmt"
	"log"
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

// installExampleServer is the PostgreSQL 18 server of the install
// examples: linux/amd64 with glibc 2.36.
var installExampleServer = resolve.Target{
	PG:       labels.PG{Major: 18},
	Platform: resolve.HostPlatform(),
	Libc:     labels.Libc{Family: "glibc", Version: "2.36"},
}

// installExamplePush packs the demo package for PostgreSQL 18 on the
// examples' platform and pushes it to srv as ext/pgoci_demo:1.1.0.
func installExamplePush(srv *testregistry.Server) string {
	ctx := context.Background()
	repo, err := remote.NewRepository(srv.Host() + "/ext/pgoci_demo")
	if err != nil {
		log.Fatal(err)
	}
	repo.PlainHTTP = true
	work, err := os.MkdirTemp("", "pgoci-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	tree, err := demo.Tree(work, demo.Major, installExampleServer.Platform.Architecture)
	if err != nil {
		log.Fatal(err)
	}
	platform, meta := demo.Build(demo.Major, installExampleServer.Platform.Architecture)
	img, err := extension.Pack(ctx, repo, tree, extension.Build{Platform: platform, Metadata: meta}, extension.PackOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := extension.PushIndex(ctx, repo, []extension.Image{img}, demo.Version); err != nil {
		log.Fatal(err)
	}
	return srv.Host() + "/ext/pgoci_demo:" + demo.Version
}

// Open an install root for a PostgreSQL 18 server, install an extension
// package from a registry into it, then print what the server needs: two
// settings that never change, whatever is installed later.
func ExampleRoot_Install() {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ref := installExamplePush(srv)
	root, err := os.MkdirTemp("", "pgoci-root-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)

	ctx := context.Background()
	r, err := extension.Open(ctx, extension.RootOptions{
		Root:     root,
		Target:   installExampleServer,
		CacheDir: "-", // no blob cache for this example
		Events: func(e extension.Event) {
			if e.Kind == extension.EventDone {
				fmt.Println("done:", e.Package, e.Version)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	res, err := r.Install(ctx, ref, extension.InstallOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range res.Packages {
		fmt.Println(p.Action, p.Name, p.Version, "extensions:", len(p.Extensions))
	}
	entries, _ := os.ReadDir(filepath.Join(root, "share", "extension"))
	for _, e := range entries {
		target, _ := os.Readlink(filepath.Join(root, "share", "extension", e.Name()))
		fmt.Println(e.Name(), "->", target)
	}
	fmt.Print(strings.ReplaceAll(res.Settings.PostgresqlConf(), root, "<root>"))
	// Output:
	// done: pgoci_demo 1.1.0
	// installed pgoci_demo 1.1.0 extensions: 2
	// demo--1.0--1.1.sql -> ../../packages/pgoci_demo/current/share/extension/demo--1.0--1.1.sql
	// demo--1.0.sql -> ../../packages/pgoci_demo/current/share/extension/demo--1.0.sql
	// demo--1.1.sql -> ../../packages/pgoci_demo/current/share/extension/demo--1.1.sql
	// demo.control -> ../../packages/pgoci_demo/current/share/extension/demo.control
	// demo_extra--1.0.sql -> ../../packages/pgoci_demo/current/share/extension/demo_extra--1.0.sql
	// demo_extra.control -> ../../packages/pgoci_demo/current/share/extension/demo_extra.control
	// extension_control_path = '$system:<root>/share'
	// dynamic_library_path = '$libdir:<root>/lib'
}

// List the packages installed in a root, then uninstall one: its files,
// view links and record go, and nothing else.
func ExampleRoot_Uninstall() {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ref := installExamplePush(srv)
	root, err := os.MkdirTemp("", "pgoci-root-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	ctx := context.Background()
	r, err := extension.Open(ctx, extension.RootOptions{Root: root, Target: installExampleServer, CacheDir: "-"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := r.Install(ctx, ref, extension.InstallOptions{}); err != nil {
		log.Fatal(err)
	}

	list, err := r.List(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range list {
		var exts []string
		for _, e := range p.Extensions {
			exts = append(exts, e.Name+" "+e.Version)
		}
		fmt.Printf("%s %s: %s; preload %v\n", p.Name, p.Version, strings.Join(exts, ", "), p.Preload)
	}
	drift, err := r.Verify(ctx)
	fmt.Println("drift:", len(drift), err)

	rec, err := r.Uninstall(ctx, "pgoci_demo", extension.UninstallOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("removed", rec.Name, rec.Version)
	left, _ := os.ReadDir(filepath.Join(root, "share", "extension"))
	fmt.Println("control files left:", len(left))
	// Output:
	// pgoci_demo 1.1.0: demo 1.1, demo_extra 1.0; preload []
	// drift: 0 <nil>
	// removed pgoci_demo 1.1.0
	// control files left: 0
}
