//go:build unix

package unpack

import (
	"bytes"
	"context"
	"os"
	"syscall"
	"testing"

	"pgoci/internal/tartest"
)

// lowNofile lowers the soft RLIMIT_NOFILE to 1024 (a common default) for
// the test, so a descriptor leak fails with EMFILE quickly.
func lowNofile(t *testing.T) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = min(1024, old.Cur)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// TestDirHandlesStayBounded: every lookup of a directory handle (finishDirs,
// opaque markers, whiteouts) goes through the same bounded cache, so a
// layer of many directories with distinct parents does not hold a
// descriptor per directory.
func TestDirHandlesStayBounded(t *testing.T) {
	lowNofile(t)
	const n = 1500
	var ents []tartest.Entry
	for i := range n {
		d := "d" + tartest.Itoa(i) + "/"
		ents = append(ents, tartest.Dir(d), tartest.Dir(d+"s/"), tartest.File(d+"s/f", "x"))
	}
	// An opaque marker over all of them walks every directory again.
	ents = append(ents, tartest.File(".wh..wh..opq", ""))
	dir, root := dosRoot(t)
	if err := os.WriteFile(dir+"/lower", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	blob := tartest.Tar(t, ents...)
	st, err := Layer(context.Background(), root, bytes.NewReader(blob), tartest.Descriptor(tartest.MediaTar, blob), Options{Durable: true})
	if err != nil {
		t.Fatalf("%d directories (%d parents): %v", 2*n, n, err)
	}
	if st.Dirs != 2*n || st.Files != n {
		t.Errorf("stats %+v, want %d dirs and %d files", st, 2*n, n)
	}
	if _, err := os.Lstat(dir + "/lower"); err == nil {
		t.Error("the opaque marker kept a lower file")
	}
	for _, i := range []int{0, n / 2, n - 1} {
		if _, err := os.Lstat(dir + "/d" + tartest.Itoa(i) + "/s/f"); err != nil {
			t.Errorf("this layer's file is gone: %v", err)
		}
	}
}
