package blobcache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/blobcache"
)

func descriptor(b []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(b), Size: int64(len(b))}
}

// Store a blob, read it back, and see that content which does not hash to
// its descriptor never enters the cache.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "blobcache-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := blobcache.Open(dir, blobcache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	body := []byte("a layer")
	d := descriptor(body)
	if err := c.Push(ctx, d, bytes.NewReader(body)); err != nil {
		log.Fatal(err)
	}
	rc, err := c.Fetch(ctx, d)
	if err != nil {
		log.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", got)

	lie := descriptor([]byte("another layer"))
	err = c.Push(ctx, lie, bytes.NewReader([]byte("not that layer")))
	fmt.Println(errors.Is(err, blobcache.ErrSize) || errors.Is(err, blobcache.ErrDigest))
	_, err = c.Fetch(ctx, lie)
	fmt.Println(errors.Is(err, blobcache.ErrNotFound))
	u, err := c.Usage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Blobs, "blob,", u.Size, "bytes")
	// Output:
	// a layer
	// true
	// true
	// 1 blob, 7 bytes
}

// A bounded cache: when a Push takes it over MaxSize, the least recently
// used blobs go.
func ExampleOptions_maxSize() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "blobcache-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := blobcache.Open(dir, blobcache.Options{MaxSize: 10})
	if err != nil {
		log.Fatal(err)
	}
	put := func(s string, lastUsed time.Duration) ocispec.Descriptor {
		d := descriptor([]byte(s))
		if err := c.Push(ctx, d, bytes.NewReader([]byte(s))); err != nil {
			log.Fatal(err)
		}
		// Pretend it was last used a while ago: the use time is the
		// blob file's modification time.
		at := time.Now().Add(-lastUsed)
		if err := os.Chtimes(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()), at, at); err != nil {
			log.Fatal(err)
		}
		return d
	}
	old := put("old!", 2*time.Hour)
	recent := put("new!", time.Hour)
	put("next", 0) // 12 bytes: over the bound of 10
	for _, d := range []ocispec.Descriptor{old, recent} {
		ok, err := c.Exists(ctx, d)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ok)
	}
	// Output:
	// false
	// true
}

// Prune a cache down to a size: least recently used blobs first.
func ExampleCache_Prune() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "blobcache-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := blobcache.Open(dir, blobcache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range []string{"first blob", "second blob", "third blob"} {
		if err := c.Push(ctx, descriptor([]byte(s)), bytes.NewReader([]byte(s))); err != nil {
			log.Fatal(err)
		}
	}
	res, err := c.Prune(ctx, 0) // 0: everything
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("removed %d blobs: %d bytes before, %d after\n", len(res.Removed), res.Before.Size, res.After.Size)
	// Output:
	// removed 3 blobs: 31 bytes before, 0 after
}

// $PGOCI_CACHE_DIR comes first in the default location chain.
func ExampleDefaultDir() {
	dir, err := os.MkdirTemp("", "blobcache-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	old, had := os.LookupEnv(blobcache.EnvDir)
	os.Setenv(blobcache.EnvDir, filepath.Join(dir, "cache"))
	defer func() {
		if had {
			os.Setenv(blobcache.EnvDir, old)
		} else {
			os.Unsetenv(blobcache.EnvDir)
		}
	}()
	d, err := blobcache.DefaultDir()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d == filepath.Join(dir, "cache"))
	// Output:
	// true
}
