package unpack_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"pgoci/internal/tartest"
	"pgoci/unpack"
)

// fuzzHang is how long one fuzz input may take before it counts as a hang.
const fuzzHang = 10 * time.Second

// fuzzLimits keep each fuzz iteration small and fast.
var fuzzLimits = unpack.Limits{TotalBytes: 8 << 20, Entries: 2000, RatioAfter: 1 << 20}

// Run each target with a short minimisation time, or the fuzzer spends
// most of a short run minimising (each input sets up a whole tree):
//
//	go test ./unpack -run '^$' -fuzz '^FuzzLayerTar$' -fuzztime 45s -fuzzminimizetime 3s

// fuzzApply applies a fixed base layer (symlinks aimed at the outside tree,
// a read-only directory) and then data as a second layer: whatever data
// holds, it must not panic, must not touch anything outside the root, and
// an error must leave no destination and no staging directory.
func fuzzApply(t *testing.T, mt string, data []byte) {
	e := newEnv(t)
	base := []layerSpec{{mt: tartest.MediaTar, entries: []tartest.Entry{
		dir("d/"), file("d/f", "x"), sym("l", "$OUT"), sym("d/up", "/"),
		{Name: "ro/", Type: '5', Mode: 0o555}, file("ro/f", "y"),
	}}}
	srcs := e.sources(t, base)
	top := tartest.Descriptor(mt, data)
	srcs = append(srcs, unpack.LayerSource{Descriptor: top, Open: opener(data)})
	before := snapshot(t, e.tmp, e.dst)
	// A hang is a bug too: crash with every goroutine's stack, so the
	// fuzzer keeps the input.
	watchdog := time.AfterFunc(fuzzHang, func() {
		buf := make([]byte, 1<<20)
		panic(fmt.Sprintf("unpack took over %v:\n%s", fuzzHang, buf[:runtime.Stack(buf, true)]))
	})
	defer watchdog.Stop()
	_, err := unpack.Apply(context.Background(), e.dst, srcs, unpack.Options{Limits: fuzzLimits})
	e.checkConfined(t, before, err != nil)
	if err == nil {
		// Every symlink in the result must stay inside the root.
		checkLinksInside(t, e.dst)
	}
}

func checkLinksInside(t *testing.T, root string) {
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink == 0 {
			return nil
		}
		target, _ := os.Readlink(p)
		if filepath.IsAbs(target) {
			t.Errorf("%s -> %s: absolute target", p, target)
			return nil
		}
		if rel, err := filepath.Rel(root, filepath.Join(filepath.Dir(p), target)); err != nil || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
			t.Errorf("%s -> %s: leaves the root", p, target)
		}
		return nil
	})
}

// seedTars are the hostile table's tar streams plus a few plain ones.
func seedTars(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, tc := range hostileCases(tb) {
		for _, l := range tc.layers {
			switch {
			case l.entries != nil:
				seeds = append(seeds, tartest.Tar(tb, l.entries...))
			case l.tar != nil && len(l.tar) < 1<<16:
				seeds = append(seeds, l.tar)
			}
		}
	}
	return seeds
}

func FuzzLayerTar(f *testing.F) {
	for _, s := range seedTars(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzApply(t, tartest.MediaTar, data)
	})
}

// FuzzLayerCompressed feeds arbitrary bytes to the decompressors: the first
// byte picks gzip (even) or zstd (odd).
func FuzzLayerCompressed(f *testing.F) {
	for i, s := range seedTars(f) {
		if i%2 == 0 {
			f.Add(append([]byte{0}, tartest.Gzip(s)...))
		} else {
			f.Add(append([]byte{1}, tartest.Zstd(s)...))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		mt := tartest.MediaGzip
		if data[0]&1 == 1 {
			mt = tartest.MediaZstd
		}
		fuzzApply(t, mt, data[1:])
	})
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/*/hostile-* from the hostile table")

// TestFuzzSeeds checks that the checked-in corpus under testdata/fuzz holds
// the hostile table's streams (rewrite with -update-seeds), so `go test`
// replays every hostile input through the fuzz targets.
func TestFuzzSeeds(t *testing.T) {
	write := func(target string, i int, b []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		name := filepath.Join(dir, fmt.Sprintf("hostile-%03d", i))
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if *updateSeeds {
			must(t, os.MkdirAll(dir, 0o755))
			must(t, os.WriteFile(name, []byte(body), 0o644))
			return
		}
		if got, err := os.ReadFile(name); err != nil || string(got) != body {
			t.Errorf("%s is missing or stale (%v): run go test -run TestFuzzSeeds -update-seeds", name, err)
		}
	}
	for i, s := range seedTars(t) {
		if len(s) > 8<<10 {
			continue
		}
		write("FuzzLayerTar", i, s)
		if i%2 == 0 {
			write("FuzzLayerCompressed", i, append([]byte{0}, tartest.Gzip(s)...))
		} else {
			write("FuzzLayerCompressed", i, append([]byte{1}, tartest.Zstd(s)...))
		}
	}
}
