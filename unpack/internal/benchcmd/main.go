// Command benchcmd generates benchmark layers and unpacks them with pgoci,
// for scripts/bench-unpack.sh. It is not part of the API.
//
//	benchcmd gen -files 1000 -size 60MiB -out layer.tar   # writes layer.tar, .tar.zst, .tar.gz
//	benchcmd gen -in tree.tar -out layer.tar              # a given tar instead of a generated one
//	benchcmd unpack -blob layer.tar.zst -dst dir [-durable] [-filedigest] # prints seconds and peak RSS
//	benchcmd bomb -dst dir                               # times refusing a 100 GB zstd bomb
//
// unpack checks the blob's digest and size and, unless -diffid=false, the
// diff_id of the uncompressed tar (both computed in an untimed pass first,
// as a registry's manifest and config would give them), as the pgoci CLI
// does.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/tartest"
	"pgoci/unpack"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchcmd gen|unpack|bomb [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "unpack":
		err = run(os.Args[2:])
	case "bomb":
		err = bomb(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcmd:", err)
		os.Exit(1)
	}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	files := fs.Int("files", 1000, "number of files")
	size := fs.Int64("size", 60<<20, "total file bytes")
	out := fs.String("out", "layer.tar", "output path; .zst and .gz are written next to it")
	in := fs.String("in", "", "use this tar (e.g. of a real install tree) instead of generating one")
	fs.Parse(args)

	if *in != "" {
		if err := copyFile(*in, *out); err != nil {
			return err
		}
	} else {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := tartest.PGTree(f, *files, *size, 1); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if err := compress(*out, *out+".zst", func(w io.Writer) (io.WriteCloser, error) {
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault))
	}); err != nil {
		return err
	}
	return compress(*out, *out+".gz", func(w io.Writer) (io.WriteCloser, error) {
		return gzip.NewWriterLevel(w, gzip.DefaultCompression)
	})
}

func copyFile(in, out string) error {
	if in == out {
		return nil
	}
	return compress(in, out, func(w io.Writer) (io.WriteCloser, error) { return nopCloser{w}, nil })
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func compress(in, out string, newW func(io.Writer) (io.WriteCloser, error)) error {
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		return err
	}
	zw, err := newW(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(zw, src); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return dst.Close()
}

func run(args []string) error {
	fs := flag.NewFlagSet("unpack", flag.ExitOnError)
	blob := fs.String("blob", "", "layer blob (.tar, .tar.zst or .tar.gz)")
	dst := fs.String("dst", "", "destination directory (must not exist)")
	durable := fs.Bool("durable", false, "fsync before the rename")
	diffID := fs.Bool("diffid", true, "check the diff_id of the uncompressed tar, as the CLI does")
	fileDigest := fs.Bool("filedigest", false, "hash each file as it is written (Options.FileDigest), as the installer does")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the unpack here")
	fs.Parse(args)

	mt := ocispec.MediaTypeImageLayer
	switch {
	case hasSuffix(*blob, ".zst"):
		mt = ocispec.MediaTypeImageLayerZstd
	case hasSuffix(*blob, ".gz"):
		mt = ocispec.MediaTypeImageLayerGzip
	}
	// The digest comes from a separate pass, as a registry manifest would
	// give it; only the unpack below is timed.
	d, size, err := digestFile(*blob)
	if err != nil {
		return err
	}
	desc := ocispec.Descriptor{MediaType: mt, Digest: d, Size: size}
	opts := unpack.Options{Durable: *durable}
	var diff digest.Digest
	if *diffID {
		if diff, err = diffIDOf(*blob, mt); err != nil {
			return err
		}
	}
	files := 0
	if *fileDigest {
		opts.FileDigest = func(string, int64, digest.Digest) { files++ }
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	resetPeak()
	_, user0, sys0 := usage()
	start := time.Now()
	st, err := unpack.Apply(context.Background(), *dst, []unpack.LayerSource{{
		Descriptor: desc,
		DiffID:     diff,
		Open:       func(context.Context) (io.ReadCloser, error) { return os.Open(*blob) },
	}}, opts)
	if err != nil {
		return err
	}
	if *fileDigest && int64(files) != st.Files {
		return fmt.Errorf("FileDigest called %d times for %d files", files, st.Files)
	}
	elapsed := time.Since(start)
	_, user, sys := usage()
	maxRSS := peakRSS()
	// CPU times and (on Linux) the peak RSS are the unpack's own: the
	// untimed digest passes before it are excluded.
	fmt.Printf("seconds=%.3f files=%d bytes_out=%d maxrss_mib=%.1f cpu_user=%.3f cpu_sys=%.3f\n",
		elapsed.Seconds(), st.Files, st.BytesOut, maxRSS, (user - user0).Seconds(), (sys - sys0).Seconds())
	return nil
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

func digestFile(p string) (digest.Digest, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	dg := digest.Canonical.Digester()
	n, err := io.Copy(dg.Hash(), f)
	return dg.Digest(), n, err
}

// diffIDOf is the digest of the blob's uncompressed tar.
func diffIDOf(p, mt string) (digest.Digest, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var r io.Reader = f
	switch mt {
	case ocispec.MediaTypeImageLayerZstd:
		zr, err := zstd.NewReader(f)
		if err != nil {
			return "", err
		}
		defer zr.Close()
		r = zr
	case ocispec.MediaTypeImageLayerGzip:
		zr, err := gzip.NewReader(f)
		if err != nil {
			return "", err
		}
		defer zr.Close()
		r = zr
	}
	dg := digest.Canonical.Digester()
	if _, err := io.Copy(dg.Hash(), r); err != nil {
		return "", err
	}
	return dg.Digest(), nil
}

// bomb unpacks a zstd layer of 100 files of 1 GiB of zeros (100 GB; about
// 3 MB compressed, built in memory first) with the default limits, and
// prints how long the refusal took and the peak RSS. Anything but the
// Ratio limit is an error.
func bomb(args []string) error {
	fs := flag.NewFlagSet("bomb", flag.ExitOnError)
	dst := fs.String("dst", "", "destination directory (must not exist; never created)")
	fs.Parse(args)
	blob, err := io.ReadAll(tartest.ZstdZeros(100, 1<<30))
	if err != nil {
		return err
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerZstd, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	resetPeak()
	start := time.Now()
	st, err := unpack.Apply(context.Background(), *dst, []unpack.LayerSource{{
		Descriptor: desc,
		Open:       func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil },
	}}, unpack.Options{})
	elapsed := time.Since(start)
	var le *unpack.LimitError
	if !errors.As(err, &le) || le.Limit != "Ratio" {
		return fmt.Errorf("the bomb got %v, want the Ratio limit", err)
	}
	maxRSS := peakRSS()
	fmt.Printf("seconds=%.3f bytes_in=%d bytes_out=%d maxrss_mib=%.1f refused=%q\n",
		elapsed.Seconds(), st.BytesIn, st.BytesOut, maxRSS, le.Limit)
	return nil
}
