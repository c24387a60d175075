package linkage_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"pgoci/linkage"
)

// Run the targets with, for example:
//
//	go test ./linkage -run '^$' -fuzz '^FuzzRead$' -fuzztime 3m -parallel 1
//	go test ./linkage -run '^$' -fuzz '^FuzzParseLDCache$' -fuzztime 1m -parallel 1

const fuzzHang = 5 * time.Second

func watchdog(what string) *time.Timer {
	return time.AfterFunc(fuzzHang, func() {
		buf := make([]byte, 1<<20)
		panic(fmt.Sprintf("%s took over %v:\n%s", what, fuzzHang, buf[:runtime.Stack(buf, true)]))
	})
}

// FuzzRead: whatever the bytes, Read returns an object or an error wrapping
// ErrNotELF or ErrMalformed, never panics, and stays bounded.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(fixture("*", "*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) > 4 && string(b[:4]) == elf.ELFMAG {
			f.Add(b)
			f.Add(b[:len(b)/3])
		}
	}
	f.Add([]byte("\x7fELF"))
	f.Add([]byte("/* GNU ld script */"))
	f.Fuzz(func(t *testing.T, data []byte) {
		wd := watchdog("Read")
		defer wd.Stop()
		o, err := linkage.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if o != nil {
				t.Fatal("object with error")
			}
			if !errors.Is(err, linkage.ErrNotELF) && !errors.Is(err, linkage.ErrMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		_ = o.Compiler()
		_ = o.Name()
		_ = linkage.BuildPaths(o)
		_ = linkage.CheckPlatform(o, "amd64")
		_ = linkage.ExternalNeeds([]*linkage.Object{o})
		for _, u := range o.Undefined {
			_ = o.Provides(u)
		}
		if len(o.Defined)+len(o.Undefined) > len(data) {
			t.Fatalf("%d symbols from %d bytes", len(o.Defined)+len(o.Undefined), len(data))
		}
	})
}

// FuzzParseLDCache: any bytes give a cache or an ErrBadLDCache error.
func FuzzParseLDCache(f *testing.F) {
	f.Add(buildLDCache([]cacheEntry{{0x0303, "libpq.so.5", "/lib/libpq.so.5", 0}}, false))
	f.Add(buildLDCache([]cacheEntry{{0x0303, "libpq.so.5", "/lib/libpq.so.5", 0}, {0x0a03, "libz.so.1", "/lib/libz.so.1", 1 << 62}}, true))
	f.Add([]byte("ld.so-1.7.0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		wd := watchdog("ParseLDCache")
		defer wd.Stop()
		c, err := linkage.ParseLDCache(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, linkage.ErrBadLDCache) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, e := range c.Entries {
			c.Lookup(e.Soname, elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64)
		}
	})
}
