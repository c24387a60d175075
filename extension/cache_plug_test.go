package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"

	"pgoci/blobcache"
	"pgoci/internal/testregistry"
)

// memCache is a BlobCache that trusts its callers: it hashes nothing and
// keeps whatever a Push read to io.EOF. spoil makes Fetch return other
// bytes of the same size for one digest.
type memCache struct {
	mu      sync.Mutex
	blobs   map[digest.Digest][]byte
	spoil   digest.Digest
	pushes  int
	deletes []digest.Digest
}

func newMemCache() *memCache { return &memCache{blobs: map[digest.Digest][]byte{}} }

func (m *memCache) Fetch(_ context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[d.Digest]
	if !ok || (d.Size >= 0 && int64(len(b)) != d.Size) {
		return nil, errdef.ErrNotFound
	}
	if d.Digest == m.spoil {
		b = bytes.Clone(b)
		b[len(b)/2] ^= 0xff
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memCache) Push(_ context.Context, d ocispec.Descriptor, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pushes++
	m.blobs[d.Digest] = b
	return nil
}

func (m *memCache) Delete(_ context.Context, d ocispec.Descriptor) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deletes = append(m.deletes, d.Digest)
	delete(m.blobs, d.Digest)
	if d.Digest == m.spoil {
		m.spoil = ""
	}
	return nil
}

// layerOf returns the digest of the first layer of the installed package.
func layerOf(t *testing.T, m *memCache, manifest digest.Digest) digest.Digest {
	t.Helper()
	rc, err := m.Fetch(context.Background(), ocispec.Descriptor{Digest: manifest, Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	var man ocispec.Manifest
	b, _ := io.ReadAll(rc)
	if err := json.Unmarshal(b, &man); err != nil || len(man.Layers) == 0 {
		t.Fatalf("cached manifest: %v", err)
	}
	return man.Layers[0].Digest
}

// TestInstallPluggedCache: InstallOptions.Cache takes any BlobCache. A
// warm install by digest makes no request; what the cache returns is
// verified whatever the cache does (a spoiled layer is deleted and the
// install fails saying so, a spoiled manifest is deleted and fetched
// again); and a cache that keeps whatever reaches io.EOF only ever gets
// verified bytes, even from a registry that corrupts them.
func TestInstallPluggedCache(t *testing.T) {
	srv := instRegistry(t)
	idx := instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	ctx := context.Background()
	ref := srv.Host() + "/ext/cube@" + idx.String()
	m := newMemCache()
	install := func() (Result, error) {
		return installAt(ctx, ref, instTarget(18), RootOptions{Root: t.TempDir(), Cache: m, CacheDir: filepath.Join(t.TempDir(), "ignored")})
	}
	res, err := install()
	if err != nil {
		t.Fatal(err)
	}
	if m.pushes != 4 || len(m.blobs) != 4 {
		t.Fatalf("cold install: %d pushes, %d blobs cached; want 4 (index, manifest, config, layer)", m.pushes, len(m.blobs))
	}
	for d, b := range m.blobs {
		if digest.FromBytes(b) != d {
			t.Errorf("cached %s does not hash to its name", d)
		}
	}
	srv.ResetRequests()
	if _, err := install(); err != nil {
		t.Fatal(err)
	}
	if got := instRequests(srv); len(got) != 0 {
		t.Errorf("warm install by digest through the plugged cache made requests: %v", got)
	}

	// A spoiled layer: the unpacker refuses it, the installer deletes it.
	layer := layerOf(t, m, res.Packages[0].Manifest)
	m.spoil = layer
	if _, err := install(); err == nil || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), layer.String()) {
		t.Fatalf("install from a spoiled layer: %v, want an error naming it corrupt", err)
	}
	if len(m.deletes) != 1 || m.deletes[0] != layer {
		t.Errorf("deleted %v, want [%s]", m.deletes, layer)
	}
	if _, err := install(); err != nil {
		t.Fatalf("install after the spoiled layer was deleted: %v", err)
	}

	// A spoiled index (read by digest reference): deleted, fetched again,
	// and the install succeeds.
	m.deletes = nil
	m.spoil = idx
	if _, err := install(); err != nil {
		t.Fatalf("install with a spoiled cached index: %v", err)
	}
	if len(m.deletes) != 1 || m.deletes[0] != idx {
		t.Errorf("deleted %v, want [%s]", m.deletes, idx)
	}

	// Faulty transfers: every blob that reaches the cache hashes right.
	for _, kind := range []testregistry.FaultKind{testregistry.FaultCorrupt, testregistry.FaultTruncate} {
		fresh := newMemCache()
		// Manifests and the index come through; config and layer do not.
		if err := srv.AddFault(testregistry.Fault{Kind: kind, Method: "GET", Path: "/blobs/", Times: -1}); err != nil {
			t.Fatal(err)
		}
		_, err := installAt(ctx, ref, instTarget(18), RootOptions{Root: t.TempDir(), Cache: fresh})
		srv.ClearFaults()
		if err == nil {
			t.Fatalf("fault %v: install succeeded", kind)
		}
		if len(fresh.blobs) != 2 {
			t.Errorf("fault %v: %d blobs cached, want 2 (the index and the manifest)", kind, len(fresh.blobs))
		}
		for d, b := range fresh.blobs {
			if digest.FromBytes(b) != d {
				t.Errorf("fault %v: the cache was given %s, which does not hash to it", kind, d)
			}
		}
	}
}

// TestInstallBoundedCache: a blobcache.Cache opened with a bound, given
// as InstallOptions.Cache, stays within it; the least recently used blobs
// (the first package's) go first.
func TestInstallBoundedCache(t *testing.T) {
	srv := instRegistry(t)
	ctx := context.Background()
	first := instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	second := instPush(t, srv, "ext/seg", "1.0", "seg", 18, instFiles(instExt{name: "seg", version: "1.0"}))
	dir := filepath.Join(t.TempDir(), "cache")
	unbounded, err := blobcache.Open(dir, blobcache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := installAt(ctx, srv.Host()+"/ext/cube@"+first.String(), instTarget(18), RootOptions{Root: t.TempDir(), Cache: unbounded}); err != nil {
		t.Fatal(err)
	}
	one, err := unbounded.Usage(ctx)
	if err != nil || one.Blobs != 4 {
		t.Fatalf("after one install: %+v, %v", one, err)
	}
	// Room for about one package: the second install evicts the first.
	bound := one.Size + one.Size/2
	c, err := blobcache.Open(dir, blobcache.Options{MaxSize: bound})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := installAt(ctx, srv.Host()+"/ext/seg@"+second.String(), instTarget(18), RootOptions{Root: t.TempDir(), Cache: c}); err != nil {
		t.Fatal(err)
	}
	u, err := c.Usage(ctx)
	if err != nil || u.Size > bound {
		t.Fatalf("after the second install: %+v, %v; want at most %d bytes", u, err, bound)
	}
	if _, err := c.Fetch(ctx, ocispec.Descriptor{Digest: first, Size: -1}); !errors.Is(err, blobcache.ErrNotFound) {
		t.Errorf("the first package's index is still cached (%v): it was the least recently used", err)
	}
	srv.ResetRequests()
	if _, err := installAt(ctx, srv.Host()+"/ext/seg@"+second.String(), instTarget(18), RootOptions{Root: t.TempDir(), Cache: c}); err != nil {
		t.Fatal(err)
	}
	if got := instRequests(srv); len(got) != 0 {
		t.Errorf("the second package was evicted by its own install: requests %v", got)
	}
}

// verifiedCache is a memCache with PushVerified, as blobcache has: the
// installer must give it every blob that way, never hashed twice.
type verifiedCache struct {
	*memCache
	verified int
}

func (v *verifiedCache) PushVerified(ctx context.Context, d ocispec.Descriptor, r io.Reader) error {
	if err := v.memCache.Push(ctx, d, r); err != nil {
		return err
	}
	v.mu.Lock()
	v.verified++ // stored, as memCache's pushes counts
	v.mu.Unlock()
	return nil
}

// TestInstallPushesVerified: a cache with PushVerified gets every blob of
// a cold install through it (the installer hashed them already), and
// still only verified bytes: a registry that corrupts a layer leaves
// nothing of it in the cache.
func TestInstallPushesVerified(t *testing.T) {
	srv := instRegistry(t)
	idx := instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	ctx := context.Background()
	ref := srv.Host() + "/ext/cube@" + idx.String()
	v := &verifiedCache{memCache: newMemCache()}
	install := func() error {
		_, err := installAt(ctx, ref, instTarget(18), RootOptions{Root: t.TempDir(), Cache: v})
		return err
	}
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: "GET", Path: "/blobs/", Times: -1}); err != nil {
		t.Fatal(err)
	}
	if err := install(); err == nil {
		t.Fatal("install through a corrupting registry succeeded")
	}
	srv.ClearFaults()
	for d, b := range v.blobs {
		if digest.FromBytes(b) != d {
			t.Errorf("cached %s does not hash to its name", d)
		}
	}
	if err := install(); err != nil {
		t.Fatal(err)
	}
	if len(v.blobs) != 4 || v.verified != v.pushes || v.verified == 0 {
		t.Errorf("%d blobs cached, %d pushes of which %d through PushVerified; want 4, all through PushVerified", len(v.blobs), v.pushes, v.verified)
	}
	for d, b := range v.blobs {
		if digest.FromBytes(b) != d {
			t.Errorf("cached %s does not hash to its name", d)
		}
	}
}
