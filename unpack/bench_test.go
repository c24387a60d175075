package unpack_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"pgoci/internal/tartest"
	"pgoci/unpack"
)

// benchLayer is one generated layer, compressed each way.
type benchLayer struct {
	tarSize int64
	diffID  digest.Digest
	blobs   map[string][]byte
}

var (
	pgOnce  sync.Once
	pgLayer benchLayer
)

// pgBench is the PostgreSQL-install-shaped layer: about 60 MB, 1,000 files.
func pgBench(b *testing.B) benchLayer {
	pgOnce.Do(func() { pgLayer = makeBenchLayer(b, 1000, 60<<20) })
	return pgLayer
}

func makeBenchLayer(b *testing.B, files int, size int64) benchLayer {
	var buf bytes.Buffer
	if err := tartest.PGTree(&buf, files, size, 1); err != nil {
		b.Fatal(err)
	}
	return newBenchLayer(buf.Bytes())
}

func newBenchLayer(raw []byte) benchLayer {
	return benchLayer{tarSize: int64(len(raw)), diffID: digest.FromBytes(raw), blobs: map[string][]byte{
		tartest.MediaTar:  raw,
		tartest.MediaGzip: tartest.Gzip(raw),
		tartest.MediaZstd: tartest.Zstd(raw),
	}}
}

var mediaNames = map[string]string{tartest.MediaTar: "tar", tartest.MediaGzip: "gzip", tartest.MediaZstd: "zstd"}

// BenchmarkApply unpacks the PostgreSQL-shaped layer (digest, size and
// diff_id verified, staged, renamed), as the CLI does. Set
// PGOCI_BENCH_BIG=1 to add the 1 GiB layer, PGOCI_BENCH_TAR=file.tar to
// add a layer of a real tree (e.g. the PostgreSQL 18 install tree), and
// PGOCI_BENCH_DIR to unpack somewhere else than the test's temp dir (e.g.
// /dev/shm, to measure without the disk). The filedigest variants add
// [unpack.Options.FileDigest], as the installer sets it.
func BenchmarkApply(b *testing.B) {
	layers := map[string]func(*testing.B) benchLayer{"pg60MB": pgBench}
	if p := os.Getenv("PGOCI_BENCH_TAR"); p != "" {
		var once sync.Once
		var tree benchLayer
		layers["tree"] = func(b *testing.B) benchLayer {
			once.Do(func() {
				raw, err := os.ReadFile(p)
				if err != nil {
					b.Fatal(err)
				}
				tree = newBenchLayer(raw)
			})
			return tree
		}
	}
	if os.Getenv("PGOCI_BENCH_BIG") == "1" && !testing.Short() {
		var once sync.Once
		var big benchLayer
		layers["1GiB"] = func(b *testing.B) benchLayer {
			once.Do(func() { big = makeBenchLayer(b, 8000, 1<<30) })
			return big
		}
	}
	for _, name := range []string{"pg60MB", "tree", "1GiB"} {
		get, ok := layers[name]
		if !ok {
			continue
		}
		for _, mt := range []string{tartest.MediaZstd, tartest.MediaGzip, tartest.MediaTar} {
			for _, variant := range []string{"plain", "durable", "filedigest"} {
				if variant != "plain" && name == "1GiB" {
					continue
				}
				b.Run(fmt.Sprintf("%s/%s/%s", name, mediaNames[mt], variant), func(b *testing.B) {
					l := get(b)
					opts := unpack.Options{Durable: variant == "durable"}
					if variant == "filedigest" {
						opts.FileDigest = func(string, int64, digest.Digest) {}
					}
					benchApply(b, l, mt, opts)
				})
			}
		}
	}
}

func benchApply(b *testing.B, l benchLayer, mt string, opts unpack.Options) {
	blob := l.blobs[mt]
	src := []unpack.LayerSource{{Descriptor: tartest.Descriptor(mt, blob), DiffID: l.diffID, Open: opener(blob)}}
	dir := b.TempDir()
	if d := os.Getenv("PGOCI_BENCH_DIR"); d != "" {
		// e.g. /dev/shm: takes the disk out, leaving decode+hash+syscalls.
		var err error
		if dir, err = os.MkdirTemp(d, "pgoci-bench-"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	b.SetBytes(l.tarSize)
	b.ResetTimer()
	// Destinations are removed only at the end: deleting 60 MB between
	// iterations makes the next one pay for the filesystem's discards.
	for i := 0; b.Loop(); i++ {
		dst := filepath.Join(dir, fmt.Sprint(i))
		if _, err := unpack.Apply(context.Background(), dst, src, opts); err != nil {
			b.Fatal(err)
		}
	}
}
