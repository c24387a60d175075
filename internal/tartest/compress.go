package tartest

import (
	"bytes"
	"encoding/binary"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Gzip compresses b (one gzip member).
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// Zstd compresses b (one zstd frame).
func Zstd(b []byte) []byte {
	zw, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

// Compress compresses b as media type mt says (tar is returned as is).
func Compress(mt string, b []byte) []byte {
	switch mt {
	case MediaGzip:
		return Gzip(b)
	case MediaZstd:
		return Zstd(b)
	}
	return b
}

// ZstdZeros returns a zstd stream, generated lazily in constant memory, of a
// tar holding files regular files of fileSize zero bytes each (fileSize a
// multiple of 512). The stream uses RLE blocks, so 100 GB of zeros takes
// about 3 MB: a decompression bomb that costs nothing to build.
func ZstdZeros(files int, fileSize int64) io.Reader {
	return &zeroBomb{files: files, size: fileSize}
}

type zeroBomb struct {
	files int
	size  int64
	buf   bytes.Buffer
	state int // 0 frame header, 1 file header, 2 zeros, 3 end, 4 done
	file  int
	left  int64
}

const rleMax = 128 << 10

func (z *zeroBomb) Read(p []byte) (int, error) {
	for z.buf.Len() < len(p) && z.state < 4 {
		z.step()
	}
	if z.buf.Len() == 0 {
		return 0, io.EOF
	}
	return z.buf.Read(p)
}

func (z *zeroBomb) step() {
	switch z.state {
	case 0:
		// Magic, no content size, no checksum; window 128 KiB.
		z.buf.Write([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3})
		z.state = 1
	case 1:
		if z.file == z.files {
			z.state = 3
			return
		}
		h := RawHeader("zero"+Itoa(z.file), '0', z.size, "")
		z.block(0, len(h), false)
		z.buf.Write(h)
		z.file++
		z.left = z.size
		z.state = 2
	case 2:
		if z.left == 0 {
			z.state = 1
			return
		}
		n := min(z.left, rleMax)
		z.block(1, int(n), false)
		z.buf.WriteByte(0)
		z.left -= n
	case 3:
		end := make([]byte, 1024)
		z.block(0, len(end), true)
		z.buf.Write(end)
		z.state = 4
	}
}

// block writes a zstd block header: last flag, type (0 raw, 1 RLE), size.
func (z *zeroBomb) block(typ, size int, last bool) {
	v := uint32(size)<<3 | uint32(typ)<<1
	if last {
		v |= 1
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	z.buf.Write(b[:3])
}
