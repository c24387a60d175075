// Package tartest builds tar layers in code for pgoci's tests: well-formed
// entries through archive/tar, hostile ones byte by byte, compressed with
// gzip or zstd, with the matching OCI descriptor. No opaque fixtures.
package tartest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Entry is one tar entry. Zero fields get sensible values: Type TypeReg,
// Mode 0644 (0755 for directories), ModTime 2020-01-01.
type Entry struct {
	Name     string
	Type     byte
	Mode     int64
	Linkname string
	Content  string
	PAX      map[string]string
	ModTime  time.Time
	Uid, Gid int
	// Raw, when set, is written as-is instead of this entry (a hand-made
	// header the archive/tar writer would refuse).
	Raw []byte
}

// Epoch is the default ModTime.
var Epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// File is a regular file.
func File(name, content string) Entry { return Entry{Name: name, Content: content} }

// Dir is a directory.
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir} }

// Symlink is a symbolic link name -> target.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Linkname: target}
}

// Hardlink is a hard link name => target.
func Hardlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeLink, Linkname: target}
}

// Header converts e to an archive/tar header.
func (e Entry) Header() *tar.Header {
	h := &tar.Header{
		Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Linkname: e.Linkname,
		Size: int64(len(e.Content)), ModTime: e.ModTime, Uid: e.Uid, Gid: e.Gid,
		PAXRecords: e.PAX,
	}
	if h.Typeflag == 0 {
		h.Typeflag = tar.TypeReg
	}
	if h.Typeflag != tar.TypeReg {
		h.Size = 0
	}
	if h.Mode == 0 {
		h.Mode = 0o644
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o755
		}
	}
	if h.ModTime.IsZero() {
		h.ModTime = Epoch
	}
	if len(e.PAX) > 0 {
		h.Format = tar.FormatPAX
	}
	return h
}

// Build writes entries as a tar stream with its end-of-archive marker.
func Build(entries ...Entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if e.Raw != nil {
			if err := tw.Flush(); err != nil {
				return nil, err
			}
			buf.Write(e.Raw)
			continue
		}
		if err := tw.WriteHeader(e.Header()); err != nil {
			return nil, fmt.Errorf("tartest: %q: %w", e.Name, err)
		}
		if _, err := tw.Write([]byte(e.Content)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Tar is Build for tests: it fails tb on error.
func Tar(tb testing.TB, entries ...Entry) []byte {
	tb.Helper()
	b, err := Build(entries...)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// RawHeader is a hand-made ustar header block (512 bytes) with a correct
// checksum, for names and types archive/tar refuses to write. name and
// linkname are truncated to 100 bytes.
func RawHeader(name string, typeflag byte, size int64, linkname string) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	if size < 1<<33 {
		copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	} else { // base-256, as GNU tar writes big sizes
		b[124] = 0x80
		for i := 135; i > 124; i-- {
			b[i] = byte(size)
			size >>= 8
		}
	}
	copy(b[136:148], fmt.Sprintf("%011o\x00", Epoch.Unix()))
	b[156] = typeflag
	copy(b[157:257], linkname)
	copy(b[257:263], "ustar\x00")
	copy(b[263:265], "00")
	if typeflag == 'S' {
		copy(b[257:265], "ustar  \x00") // old GNU sparse needs the GNU magic
	}
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// Raw is an entry written as a RawHeader followed by content padded to a
// block.
func Raw(name string, typeflag byte, linkname, content string) Entry {
	b := RawHeader(name, typeflag, int64(len(content)), linkname)
	b = append(b, content...)
	b = append(b, make([]byte, pad(len(content)))...)
	return Entry{Name: name, Raw: b}
}

func pad(n int) int { return (512 - n%512) % 512 }

// Descriptor describes blob as a layer of the given media type.
func Descriptor(mediaType string, blob []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
}

// Media types, for brevity in tables.
const (
	MediaTar  = ocispec.MediaTypeImageLayer
	MediaGzip = ocispec.MediaTypeImageLayerGzip
	MediaZstd = ocispec.MediaTypeImageLayerZstd
)

// Itoa is strconv.Itoa, for building names in loops.
func Itoa(i int) string { return strconv.Itoa(i) }

// PAXHeader is a hand-made PAX extended header ('x') carrying records in
// the given order, with no validation: for records archive/tar would refuse
// (NUL bytes, a path over 1 MiB). Follow it with the entry it applies to.
func PAXHeader(records ...[2]string) []byte {
	var body []byte
	for _, kv := range records {
		rec := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rec) + len(strconv.Itoa(len(rec)))
		for len(rec)+len(strconv.Itoa(n)) != n {
			n = len(rec) + len(strconv.Itoa(n))
		}
		body = append(body, strconv.Itoa(n)+rec...)
	}
	b := RawHeader("PaxHeaders/x", 'x', int64(len(body)), "")
	b = append(b, body...)
	return append(b, make([]byte, pad(len(body)))...)
}

// GNULongName is a hand-made GNU long name ('L') header carrying name, for
// names over archive/tar's 1 MiB cap. Follow it with the entry.
func GNULongName(name string) []byte {
	b := RawHeader("././@LongLink", 'L', int64(len(name)+1), "")
	b = append(b, name+"\x00"...)
	return append(b, make([]byte, pad(len(name)+1))...)
}
