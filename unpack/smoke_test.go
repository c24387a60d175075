package unpack_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"pgoci/internal/tartest"
	"pgoci/unpack"
)

func TestSmoke(t *testing.T) {
	for _, mt := range []string{tartest.MediaTar, tartest.MediaGzip, tartest.MediaZstd} {
		tb := tartest.Tar(t, tartest.Dir("a/"), tartest.File("a/b.txt", "hello"), tartest.Symlink("a/l", "/a/b.txt"), tartest.Hardlink("a/h", "a/b.txt"), tartest.File("x/y/z", "deep"))
		blob := tartest.Compress(mt, tb)
		desc := tartest.Descriptor(mt, blob)
		dst := filepath.Join(t.TempDir(), "dst")
		st, err := unpack.Apply(context.Background(), dst, []unpack.LayerSource{{Descriptor: desc, Open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(blob)), nil
		}}}, unpack.Options{})
		if err != nil {
			t.Fatal(mt, err)
		}
		l, _ := os.Readlink(filepath.Join(dst, "a/l"))
		t.Logf("%s %+v link=%s", mt, st, l)
	}
}
