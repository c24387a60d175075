package tartest

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
)

func TestPGTreeShape(t *testing.T) {
	var buf bytes.Buffer
	if err := PGTree(&buf, 1000, 60<<20, 1); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	tr := tar.NewReader(bytes.NewReader(raw))
	var files int
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files++
			total += h.Size
		}
	}
	if files < 950 || files > 1050 || total < 50<<20 || total > 70<<20 {
		t.Errorf("%d files, %d bytes; want about 1000 files, 60 MiB", files, total)
	}
	t.Logf("%d files, %d bytes, zstd %d, gzip %d", files, total, len(Zstd(raw)), len(Gzip(raw)))
}
