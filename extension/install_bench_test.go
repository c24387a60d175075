package extension

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
)

// BenchmarkInstall installs a package with a 16 MiB file into a fresh
// root: through a warm blob cache by digest (no request: verify, unpack,
// hash, commit), through an empty cache (the transfer from the in-process
// registry, streamed into the cache as it is verified), and without a
// cache. The file is random bytes, not an ELF object: the link check is
// skipped.
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
	install := func(b *testing.B, cache string) {
		b.Helper()
		opts := RootOptions{Root: b.TempDir(), CacheDir: cache, LockFile: "-"}
		if _, err := installAt(ctx, ref, instTarget(18), opts, InstallOptions{SkipLinkCheck: true}); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name  string
		cache func(b *testing.B) string
	}{
		{"warm-cache", func(*testing.B) string { return cache }},
		{"cold-cache", func(b *testing.B) string { return filepath.Join(b.TempDir(), "cache") }},
		{"no-cache", func(*testing.B) string { return "-" }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			install(b, cache)
			b.SetBytes(int64(len(big)))
			for b.Loop() {
				install(b, bc.cache(b))
			}
		})
	}
}
