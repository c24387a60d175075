package extension

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/trust/sbom"
)

// layerFile is one entry of a layer, in image coordinates.
type layerFile struct {
	// Name is slash-separated and relative to the image root ("lib/x.so").
	Name string
	// Mode carries the type bits and the permissions found at the source;
	// the layer writer normalises the permissions.
	Mode     fs.FileMode
	Size     int64
	Linkname string
	// Open returns the content of a regular file. It must yield exactly
	// Size bytes.
	Open func() (io.ReadCloser, error)
}

// layerBlob is a compressed layer written to a temporary file, ready to
// push. Remove deletes the file.
type layerBlob struct {
	Desc   ocispec.Descriptor
	DiffID digest.Digest
	// Files are the regular files written, with their SHA-256 and SHA-1
	// (hashed as they were written), for the SBOM.
	Files []sbom.File
	path  string
}

func (b layerBlob) open() (*os.File, error) { return os.Open(b.path) }

func (b layerBlob) remove() { _ = os.Remove(b.path) }

// buildLayer writes files as a reproducible tar, compressed with c, into a
// temporary file under tmpDir. Everything streams: tar -> diff ID hash ->
// compressor -> blob hash -> file; no layer is held in memory. The digest of
// the result depends only on the files' names, kinds, permissions and
// content, and on mtime.
func buildLayer(ctx context.Context, files []layerFile, c Compression, mtime time.Time, tmpDir string) (layerBlob, error) {
	mediaType, err := c.mediaType()
	if err != nil {
		return layerBlob{}, err
	}
	f, err := os.CreateTemp(tmpDir, "pgoci-layer-*")
	if err != nil {
		return layerBlob{}, fmt.Errorf("extension: create layer file: %w", err)
	}
	blob := layerBlob{path: f.Name()}
	ok := false
	defer func() {
		_ = f.Close()
		if !ok {
			blob.remove()
		}
	}()

	buf := bufio.NewWriterSize(f, 256<<10)
	blobDigester := digest.Canonical.Digester()
	counted := &countingWriter{w: io.MultiWriter(buf, blobDigester.Hash())}
	comp, err := c.newCompressor(counted)
	if err != nil {
		return layerBlob{}, err
	}
	diffDigester := digest.Canonical.Digester()
	tw := tar.NewWriter(io.MultiWriter(comp, diffDigester.Hash()))
	if blob.Files, err = writeTar(ctx, tw, withParents(files), mtime); err != nil {
		return layerBlob{}, err
	}
	for _, step := range []func() error{tw.Close, comp.Close, buf.Flush, f.Sync} {
		if err := step(); err != nil {
			return layerBlob{}, fmt.Errorf("extension: write layer: %w", err)
		}
	}
	blob.Desc = ocispec.Descriptor{MediaType: mediaType, Digest: blobDigester.Digest(), Size: counted.n}
	blob.DiffID = diffDigester.Digest()
	ok = true
	return blob, nil
}

// withParents returns files sorted by name with every missing parent
// directory added, so that the tar lists a directory before its content.
func withParents(files []layerFile) []layerFile {
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f.Name] = true
	}
	out := slices.Clone(files)
	for _, f := range files {
		for dir := path.Dir(f.Name); dir != "." && !seen[dir]; dir = path.Dir(dir) {
			seen[dir] = true
			out = append(out, layerFile{Name: dir, Mode: fs.ModeDir | 0o755})
		}
	}
	slices.SortFunc(out, func(a, b layerFile) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func writeTar(ctx context.Context, tw *tar.Writer, files []layerFile, mtime time.Time) ([]sbom.File, error) {
	var sums []sbom.File
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tarHeader(f, mtime)
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("extension: write tar header for %s: %w", f.Name, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			h256, h1 := sha256.New(), sha1.New()
			if err := copyContent(io.MultiWriter(tw, h256, h1), f); err != nil {
				return nil, err
			}
			sums = append(sums, sbom.File{Path: f.Name, SHA256: hex.EncodeToString(h256.Sum(nil)), SHA1: hex.EncodeToString(h1.Sum(nil))})
		}
	}
	return sums, nil
}

// tarHeader builds a header with no host-specific field: uid and gid 0, no
// user or group names, one mtime, permissions normalised to 0755 or 0644.
func tarHeader(f layerFile, mtime time.Time) (*tar.Header, error) {
	hdr := &tar.Header{Name: f.Name, ModTime: mtime, Mode: 0o644}
	switch {
	case f.Mode.IsDir():
		hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, f.Name+"/", 0o755
	case f.Mode&fs.ModeSymlink != 0:
		hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, f.Linkname, 0o777
	case f.Mode.IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, f.Size
		if f.Mode&0o111 != 0 {
			hdr.Mode = 0o755
		}
	default:
		return nil, fmt.Errorf("%w: %s has mode %s (want a regular file, directory or symlink)", ErrUnsupportedFile, f.Name, f.Mode.Type())
	}
	return hdr, nil
}

// copyContent copies exactly f.Size bytes; a file that changed size since
// it was listed is an error rather than a silently corrupt layer.
func copyContent(w io.Writer, f layerFile) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("extension: open %s: %w", f.Name, err)
	}
	defer rc.Close()
	n, err := io.Copy(w, io.LimitReader(rc, f.Size))
	if err != nil {
		return fmt.Errorf("extension: read %s: %w", f.Name, err)
	}
	var extra [1]byte
	if m, _ := rc.Read(extra[:]); n != f.Size || m > 0 {
		return fmt.Errorf("%w: %s changed size while packing (listed %d bytes)", ErrSourceChanged, f.Name, f.Size)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
