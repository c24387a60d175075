package extension

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
)

// BenchmarkInstall installs a package with a 16 MiB module into a fresh
// root: through a warm blob cache by digest (no request: verify, unpack,
// hash, commit), and without a cache (the transfer from the in-process
// registry added).
func BenchmarkInstall(b *testing.B) {
	srv := instRegistry(b)
	big := make([]byte, 16<<20)
	rand.Read(big)
	files := instFiles(instExt{name: "big", version: "1.0"})
	files["lib/big.so"] = string(big)
	idx := instPush(b, srv, "ext/big", "1.0", "big", 18, files)
	ref := srv.Host() + "/ext/big@" + idx.String()
	cache := filepath.Join(b.TempDir(), "cache")
	ctx := context.Background()
	for _, bc := range []struct{ name, cache string }{{"warm-cache", cache}, {"no-cache", "-"}} {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := installAt(ctx, ref, instTarget(18), RootOptions{Root: b.TempDir(), CacheDir: bc.cache}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(big)))
			for b.Loop() {
				if _, err := installAt(ctx, ref, instTarget(18), RootOptions{Root: b.TempDir(), CacheDir: bc.cache, LockFile: "-"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
