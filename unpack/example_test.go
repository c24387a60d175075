package unpack_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/unpack"
)

// layerBlob builds a small zstd layer the way an image builder would.
func layerBlob(files map[string]string, links map[string]string) []byte {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, name := range []string{"share/extension/hstore.control", "lib/hstore.so"} {
		if body, ok := files[name]; ok {
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
			tw.Write([]byte(body))
		}
	}
	for name, target := range links {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target})
	}
	tw.Close()
	zw, _ := zstd.NewWriter(nil)
	return zw.EncodeAll(tb.Bytes(), nil)
}

func Example() {
	blob := layerBlob(map[string]string{
		"share/extension/hstore.control": "default_version = '1.8'\n",
		"lib/hstore.so":                  "\x7fELF",
	}, nil)
	desc := ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageLayerZstd,
		Digest:    digest.FromBytes(blob),
		Size:      int64(len(blob)),
	}
	dst := filepath.Join(os.TempDir(), "pgoci-example-hstore")
	defer os.RemoveAll(dst)

	stats, err := unpack.Apply(context.Background(), dst, []unpack.LayerSource{{
		Descriptor: desc,
		Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(blob)), nil
		},
	}}, unpack.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	control, _ := os.ReadFile(filepath.Join(dst, "share/extension/hstore.control"))
	fmt.Printf("%d files, %d directories\n%s", stats.Files, stats.Dirs, control)
	// Output:
	// 2 files, 3 directories
	// default_version = '1.8'
}

// A hostile layer is refused and leaves no destination behind.
func Example_hostile() {
	blob := layerBlob(nil, map[string]string{"lib/evil": "../../etc/passwd"})
	desc := ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageLayerZstd,
		Digest:    digest.FromBytes(blob),
		Size:      int64(len(blob)),
	}
	dst := filepath.Join(os.TempDir(), "pgoci-example-hostile")
	_, err := unpack.Apply(context.Background(), dst, []unpack.LayerSource{{
		Descriptor: desc,
		Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(blob)), nil
		},
	}}, unpack.Options{})
	var ee *unpack.EntryError
	fmt.Println(errors.Is(err, unpack.ErrLinkEscapes), errors.As(err, &ee) && ee.Name == "lib/evil")
	_, statErr := os.Stat(dst)
	fmt.Println("destination exists:", !errors.Is(statErr, os.ErrNotExist))
	// Output:
	// true true
	// destination exists: false
}

// Layer applies into an open root; with a digest that does not match, the
// error arrives at EOF, which is why Apply stages first.
func ExampleLayer() {
	blob := layerBlob(map[string]string{"lib/hstore.so": "\x7fELF"}, nil)
	desc := ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageLayerZstd,
		Digest:    digest.FromString("something else"),
		Size:      int64(len(blob)),
	}
	dir, _ := os.MkdirTemp("", "pgoci-example-")
	defer os.RemoveAll(dir)
	root, _ := os.OpenRoot(dir)
	defer root.Close()
	_, err := unpack.Layer(context.Background(), root, bytes.NewReader(blob), desc, unpack.Options{})
	fmt.Println(errors.Is(err, unpack.ErrDigestMismatch))
	// Output: true
}

// A usrmerge base layer links lib to usr/lib; a later layer that writes
// lib/hstore.so lands in usr/lib, inside the root. With NoSymlinkParents
// the same layers are refused.
func ExampleOptions_symlinkParents() {
	base := layerBlob(nil, map[string]string{"lib": "/usr/lib"}) // absolute: taken as inside the root
	top := layerBlob(map[string]string{"lib/hstore.so": "\x7fELF"}, nil)
	layers := []unpack.LayerSource{}
	for _, blob := range [][]byte{base, top} {
		layers = append(layers, unpack.LayerSource{
			Descriptor: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerZstd, Digest: digest.FromBytes(blob), Size: int64(len(blob))},
			Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(blob)), nil
			},
		})
	}
	dst := filepath.Join(os.TempDir(), "pgoci-example-usrmerge")
	defer os.RemoveAll(dst)

	_, err := unpack.Apply(context.Background(), dst, layers, unpack.Options{})
	link, _ := os.Readlink(filepath.Join(dst, "lib"))
	_, statErr := os.Lstat(filepath.Join(dst, "usr/lib/hstore.so"))
	fmt.Println(err, link, statErr == nil)

	_, err = unpack.Apply(context.Background(), dst+"-strict", layers, unpack.Options{NoSymlinkParents: true})
	fmt.Println(errors.Is(err, unpack.ErrSymlinkParent))
	// Output:
	// <nil> usr/lib true
	// true
}
