package extension_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"pgoci/blobcache"
	"pgoci/extension"
	"pgoci/internal/testregistry"
)

// Install through a bounded blob cache: RootOptions.Cache takes a
// blobcache.Cache opened with MaxSize (or any extension.BlobCache), which
// several roots (and processes) may share. A second install of the same
// digest into another root is served from the cache without a request.
func ExampleRootOptions_cache() {
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ref := installExamplePush(srv)
	work, err := os.MkdirTemp("", "pgoci-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	ctx := context.Background()
	cache, err := blobcache.Open(filepath.Join(work, "cache"), blobcache.Options{MaxSize: 64 << 20})
	if err != nil {
		log.Fatal(err)
	}
	var pinned string
	for _, root := range []string{"a", "b"} {
		if pinned != "" {
			ref = pinned // by digest: nothing to ask the registry
		}
		srv.ResetRequests()
		r, err := extension.Open(ctx, extension.RootOptions{
			Root: filepath.Join(work, root), Target: installExampleServer, Cache: cache, LockFile: "-",
		})
		if err != nil {
			log.Fatal(err)
		}
		res, err := r.Install(ctx, ref, extension.InstallOptions{})
		if err != nil {
			log.Fatal(err)
		}
		pinned = srv.Host() + "/ext/pgoci_demo@" + res.Packages[0].Index.String()
		fmt.Printf("root %s: %s, %d registry requests\n", root, res.Packages[0].Action, len(srv.Requests()))
	}
	u, err := cache.Usage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("cached blobs:", u.Blobs, "within the bound:", u.Size <= cache.MaxSize())
	// Output:
	// root a: installed, 4 registry requests
	// root b: installed, 0 registry requests
	// cached blobs: 4 within the bound: true
}
