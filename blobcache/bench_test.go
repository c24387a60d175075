package blobcache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"
)

// BenchmarkFetch measures what the use bookkeeping adds to a cached read
// of a 4 KiB blob (a manifest or config) and a 1 MiB one: a plain
// open/stat/read/close of the file, Fetch when the last use is recent (no
// write), and Fetch when it is over a minute old (one utimensat).
func BenchmarkFetch(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{4 << 10, 1 << 20} {
		c := openTest(b, Options{})
		body := bytes.Repeat([]byte{'x'}, size)
		d := push(b, c, body)
		p := blobPath(c, d)
		buf := make([]byte, 64<<10)
		b.Run(fmt.Sprintf("%dKiB/os.Open", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				f, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.Stat(); err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, f, buf); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
		read := func(b *testing.B, stale bool) {
			b.SetBytes(int64(size))
			old := time.Now().Add(-time.Hour)
			for b.Loop() {
				if stale {
					b.StopTimer()
					if err := os.Chtimes(p, old, old); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				rc, err := c.Fetch(ctx, d)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.CopyBuffer(io.Discard, rc, buf); err != nil {
					b.Fatal(err)
				}
				rc.Close()
			}
		}
		b.Run(fmt.Sprintf("%dKiB/Fetch-recent", size>>10), func(b *testing.B) { read(b, false) })
		b.Run(fmt.Sprintf("%dKiB/Fetch-stale", size>>10), func(b *testing.B) { read(b, true) })
	}
}

// BenchmarkPush measures storing a 4 KiB blob into a cache of 1,000
// blobs, without a bound and with one (which lists the blobs after the
// write to learn whether the cache is over it).
func BenchmarkPush(b *testing.B) {
	ctx := context.Background()
	for _, bound := range []int64{0, 1 << 40} {
		b.Run(fmt.Sprintf("bound=%v", bound != 0), func(b *testing.B) {
			c := openTest(b, Options{MaxSize: bound})
			for k := range 1000 {
				push(b, c, []byte(fmt.Sprintf("blob %d", k)))
			}
			body := bytes.Repeat([]byte{'y'}, 4<<10)
			d := desc(body)
			p := blobPath(c, d)
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := c.Push(ctx, d, bytes.NewReader(body)); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.Remove(p)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkUsage measures one listing of a cache of 1,000 blobs: what a
// bounded Push pays when it lists the blobs, and what Prune pays twice.
func BenchmarkUsage(b *testing.B) {
	ctx := context.Background()
	c := openTest(b, Options{})
	for k := range 1000 {
		push(b, c, []byte(fmt.Sprintf("blob %d", k)))
	}
	for b.Loop() {
		if _, err := c.Usage(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTouch measures recording one use (what a Fetch adds at most
// once a minute per blob).
func BenchmarkTouch(b *testing.B) {
	c := openTest(b, Options{})
	d := push(b, c, []byte("touched"))
	p := blobPath(c, d)
	for b.Loop() {
		touch(p, time.Time{})
	}
}
