package blobcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testBlobs returns n blobs of 1 to 64 KiB, the same for a given seed.
func testBlobs(seed uint64, n int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]byte, n)
	for k := range out {
		b := make([]byte, 1+r.IntN(64<<10))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		out[k] = b
	}
	return out
}

// fill pushes every blob in a random order, rounds times, and reads
// random ones back: a read must give the exact bytes or ErrNotFound,
// never other bytes. It returns the number of reads that hit.
func fill(ctx context.Context, dir string, maxSize int64, blobs [][]byte, seed uint64, rounds int) (int, error) {
	c, err := Open(dir, Options{MaxSize: maxSize})
	if err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(seed, 2))
	hits := 0
	for range rounds {
		for _, k := range r.Perm(len(blobs)) {
			b := blobs[k]
			if err := c.Push(ctx, desc(b), bytes.NewReader(b)); err != nil {
				return hits, err
			}
			want := blobs[r.IntN(len(blobs))]
			rc, err := c.Fetch(ctx, desc(want))
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return hits, err
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return hits, err
			}
			if !bytes.Equal(got, want) {
				return hits, fmt.Errorf("Fetch(%s) read %d bytes that are not the blob", desc(want).Digest, len(got))
			}
			hits++
		}
	}
	return hits, nil
}

// prune runs Prune down to maxSize until stop is closed.
func pruneLoop(ctx context.Context, c *Cache, maxSize int64, stop <-chan struct{}) (int, error) {
	removed := 0
	for {
		select {
		case <-stop:
			return removed, nil
		default:
		}
		res, err := c.Prune(ctx, maxSize)
		if err != nil {
			return removed, err
		}
		removed += len(res.Removed)
		time.Sleep(time.Millisecond)
	}
}

// checkCache: every blob in the cache hashes to its name, nothing is left
// in tmp/, and after one more write the blobs fit the bound. (Each Cache
// adds its own writes to the total it last listed, so until one lists
// again the cache may be over by what the others wrote meanwhile.)
func checkCache(t *testing.T, dir string, bound int64) {
	t.Helper()
	c, err := Open(dir, Options{MaxSize: bound})
	if err != nil {
		t.Fatal(err)
	}
	push(t, c, []byte("one more write"))
	s, err := c.scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range s.entries {
		b, err := os.ReadFile(e.path)
		if err != nil {
			t.Fatal(err)
		}
		if d := desc(b); d.Digest != e.Digest {
			t.Errorf("cached blob %s hashes to %s", e.Digest, d.Digest)
		}
	}
	if s.u.TempFiles != 0 {
		t.Errorf("%d temporary files left", s.u.TempFiles)
	}
	if s.u.Size > bound {
		t.Errorf("the cache holds %d bytes, over its bound of %d", s.u.Size, bound)
	}
	t.Logf("%d blobs, %d bytes (bound %d)", s.u.Blobs, s.u.Size, bound)
}

func total(blobs [][]byte) int64 {
	var n int64
	for _, b := range blobs {
		n += int64(len(b))
	}
	return n
}

// TestConcurrentFillersAndPruner: goroutines, each with its own Cache on
// one directory as separate programs would have, push the same blobs in
// different orders under a bound and read them back, with or without
// another goroutine pruning in a loop. No write fails, no read sees wrong
// bytes, and the cache ends verified, without temporary files, within its
// bound (which the fillers alone keep).
func TestConcurrentFillersAndPruner(t *testing.T) {
	for _, withPruner := range []bool{false, true} {
		t.Run(fmt.Sprintf("pruner=%v", withPruner), func(t *testing.T) {
			ctx := context.Background()
			blobs := testBlobs(1, 40)
			bound := total(blobs) / 3
			dir := t.TempDir()
			pruner, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var pruned int
			var perr error
			var pwg sync.WaitGroup
			if withPruner {
				pwg.Go(func() { pruned, perr = pruneLoop(ctx, pruner, bound/2, stop) })
			}
			var wg sync.WaitGroup
			var hits atomic.Int64
			errs := make(chan error, 8)
			for w := range 8 {
				wg.Go(func() {
					n, err := fill(ctx, dir, bound, blobs, uint64(w), 3)
					hits.Add(int64(n))
					errs <- err
				})
			}
			wg.Wait()
			close(stop)
			pwg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if perr != nil {
				t.Error(perr)
			}
			t.Logf("%d reads hit, %d blobs pruned", hits.Load(), pruned)
			if hits.Load() == 0 {
				t.Error("no read hit: the test did not exercise reads")
			}
			checkCache(t, dir, bound)
		})
	}
}

const childEnv = "BLOBCACHE_TEST_FILLER"

// TestMain lets TestConcurrentProcesses run the test binary as fillers.
func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		os.Exit(childFiller(v))
	}
	os.Exit(m.Run())
}

// childFiller runs in a child process: "DIR BOUND SEED".
func childFiller(arg string) int {
	var dir string
	var bound int64
	var seed uint64
	if _, err := fmt.Sscan(arg, &dir, &bound, &seed); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if _, err := fill(context.Background(), dir, bound, testBlobs(1, 40), seed, 3); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestConcurrentProcesses is TestConcurrentFillersAndPruner with the
// fillers in separate processes.
func TestConcurrentProcesses(t *testing.T) {
	ctx := context.Background()
	blobs := testBlobs(1, 40)
	bound := total(blobs) / 3
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for w := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+dir+" "+strconv.FormatInt(bound, 10)+" "+strconv.Itoa(w))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			if stderr.Len() > 0 {
				t.Logf("filler %d: %s", w, stderr.String())
			}
		})
	}
	pruner, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var pruned int
	var perr error
	var pwg sync.WaitGroup
	pwg.Go(func() { pruned, perr = pruneLoop(ctx, pruner, bound/2, stop) })
	for w, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("filler %d: %v", w, err)
		}
	}
	close(stop)
	pwg.Wait()
	if perr != nil {
		t.Error(perr)
	}
	t.Logf("%d blobs pruned while 4 processes filled", pruned)
	checkCache(t, dir, bound)
}
