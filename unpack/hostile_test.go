package unpack_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/tartest"
	"pgoci/unpack"
)

type hostileCase struct {
	name   string
	layers []layerSpec
	opts   unpack.Options
	want   error  // nil: the layer applies (neutralised)
	limit  string // with want == ErrLimit: which limit
	check  func(t *testing.T, e env)
}

// Short constructors for the table.
var (
	file  = tartest.File
	dir   = tartest.Dir
	sym   = tartest.Symlink
	hard  = tartest.Hardlink
	entry = func(name string, typ byte) tartest.Entry { return tartest.Entry{Name: name, Type: typ} }
)

func one(ents ...tartest.Entry) []layerSpec { return []layerSpec{{entries: ents}} }

func two(a, b []tartest.Entry) []layerSpec { return []layerSpec{{entries: a}, {entries: b}} }

func raw(b ...[]byte) tartest.Entry { return tartest.Entry{Raw: bytes.Join(b, nil)} }

func tarOf(t testing.TB, ents ...tartest.Entry) []byte { return tartest.Tar(t, ents...) }

// hostileCases is one case per hostile input the package documentation
// lists ("What bad input gets"), in its order.
func hostileCases(t testing.TB) []hostileCase {
	big := strings.Repeat("x", 2000)
	plain := tarOf(t, file("a", "hello"))
	plainGz := tartest.Gzip(plain)
	junkA := append(append([]byte{}, plain...), bytes.Repeat([]byte("A"), 4096)...)
	junkB := append(append([]byte{}, plain...), bytes.Repeat([]byte("B"), 4096)...)
	flipped := append([]byte{}, plain...)
	flipped[512] ^= 0xff // first content byte
	bomb, err := io.ReadAll(tartest.ZstdZeros(100, 1<<30))
	if err != nil {
		t.Fatal(err)
	}
	hugeFile, _ := io.ReadAll(tartest.ZstdZeros(1, 100<<30))
	bigWindow := append([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, (30 - 10) << 3, 1 | 0<<1 | 1024<<3&0xff, 1024 >> 5 & 0xff, 0}, make([]byte, 1024)...)
	deep := strings.Repeat("d/", 200) + "f"
	long := strings.Repeat(strings.Repeat("n", 200)+"/", 25) + "f"

	return []hostileCase{
		// Names.
		{name: "name/absolute path is relative to the root", layers: one(file("/etc/passwd", "x")),
			check: func(t *testing.T, e env) { wantFile(t, e, "etc/passwd", "x") }},
		{name: "name/absolute path naming a host directory", layers: one(file("$OUT/secret", "x")),
			check: func(t *testing.T, e env) { wantFile(t, e, strings.TrimPrefix(e.out, "/")+"/secret", "x") }},
		{name: "name/dotdot leaving the root", layers: one(file("../evil", "x")), want: unpack.ErrPathEscapes},
		{name: "name/dotdot deep leaving the root", layers: one(file("a/../../evil", "x")), want: unpack.ErrPathEscapes},
		{name: "name/dotdot inside normalises", layers: one(file("a/../b", "x")),
			check: func(t *testing.T, e env) { wantFile(t, e, "b", "x"); wantMissing(t, e, "a") }},
		{name: "name/empty", layers: one(raw(tartest.RawHeader("", '0', 0, ""))), want: unpack.ErrInvalidName},
		{name: "name/dot as a file", layers: one(file(".", "x")), want: unpack.ErrInvalidName},
		{name: "name/dot directory is skipped", layers: one(dir("./"), file("./a", "x")),
			check: func(t *testing.T, e env) { wantFile(t, e, "a", "x") }},
		{name: "name/NUL in a PAX path (archive/tar refuses)", layers: one(raw(tartest.PAXHeader([2]string{"path", "a\x00b"}), tartest.RawHeader("a", '0', 0, ""))),
			want: unpack.ErrCorrupt},
		{name: "name/invalid UTF-8", layers: one(raw(tartest.RawHeader("a\xff\xfe", '0', 0, ""))), want: unpack.ErrInvalidName},
		{name: "name/component over 255 bytes", layers: one(file(strings.Repeat("c", 256), "x")), want: unpack.ErrInvalidName},
		{name: "name/PAX path over 1 MiB", layers: one(raw(tartest.PAXHeader([2]string{"path", strings.Repeat("p/", 600_000)}), tartest.RawHeader("a", '0', 0, ""))),
			want: unpack.ErrInvalidName},
		{name: "name/GNU long name over 1 MiB", layers: one(raw(tartest.GNULongName(strings.Repeat("p/", 600_000)), tartest.RawHeader("a", '0', 0, ""))),
			want: unpack.ErrInvalidName},
		{name: "name/path over PathBytes", layers: one(file(long, "x")), want: unpack.ErrLimit, limit: "PathBytes"},
		{name: "name/absurd depth", layers: one(file(deep, "x")), want: unpack.ErrLimit, limit: "Depth"},

		// Symlinks.
		{name: "symlink/absolute target rewritten inside the root", layers: one(sym("a/l", "/etc/passwd")),
			check: func(t *testing.T, e env) { wantLink(t, e, "a/l", "../etc/passwd") }},
		{name: "symlink/absolute target at a host path stays inside", layers: one(sym("l", "$OUT/secret")),
			check: func(t *testing.T, e env) { wantLink(t, e, "l", strings.TrimPrefix(e.out, "/")+"/secret") }},
		{name: "symlink/to / becomes the root itself", layers: one(sym("a/l", "/")),
			check: func(t *testing.T, e env) { wantLink(t, e, "a/l", "..") }},
		{name: "symlink/relative target climbing out", layers: one(sym("l", "../outside/secret")), want: unpack.ErrLinkEscapes},
		{name: "symlink/relative target climbing out from a subdirectory", layers: one(sym("a/b/l", "../../../x")), want: unpack.ErrLinkEscapes},
		{name: "symlink/chain a->b->../..", layers: one(sym("a", "b"), sym("b", "../..")), want: unpack.ErrLinkEscapes},
		{name: "symlink/unclean target is cleaned", layers: one(dir("x/"), sym("x/l", "y/../../z")),
			check: func(t *testing.T, e env) { wantLink(t, e, "x/l", "../z") }},
		{name: "symlink/loop a->a is created and harmless", layers: one(sym("a", "a")),
			check: func(t *testing.T, e env) { wantLink(t, e, "a", "a") }},
		{name: "symlink/write through l -> / lands in the root, never the host", layers: one(sym("l", "/"), file("l/etc/x", "pwned")),
			check: func(t *testing.T, e env) { wantLink(t, e, "l", "."); wantFile(t, e, "etc/x", "pwned") }},
		{name: "symlink/write through l -> / refused with NoSymlinkParents", opts: strict, layers: one(sym("l", "/"), file("l/etc/x", "pwned")),
			want: unpack.ErrSymlinkParent},
		{name: "symlink/write through a host path in a later layer lands in the root", layers: two([]tartest.Entry{sym("l", "$OUT")}, []tartest.Entry{file("l/secret", "pwned")}),
			check: func(t *testing.T, e env) { wantFile(t, e, rel(e.out)+"/secret", "pwned") }},
		{name: "symlink/write through in a later layer refused with NoSymlinkParents", opts: strict,
			layers: two([]tartest.Entry{sym("l", "$OUT")}, []tartest.Entry{file("l/secret", "pwned")}), want: unpack.ErrSymlinkParent},
		{name: "symlink/directory replaced by a symlink then written through", layers: one(dir("d/"), file("d/a", "x"), sym("d", "$OUT"), file("d/secret", "pwned")),
			check: func(t *testing.T, e env) {
				wantLink(t, e, "d", rel(e.out))
				wantFile(t, e, rel(e.out)+"/secret", "pwned")
				wantMissing(t, e, rel(e.out)+"/a")
			}},
		{name: "symlink/directory replaced by a symlink refused with NoSymlinkParents", opts: strict,
			layers: one(dir("d/"), file("d/a", "x"), sym("d", "$OUT"), file("d/secret", "pwned")), want: unpack.ErrSymlinkParent},
		{name: "symlink/usrmerge: a later layer writes lib/... through lib -> usr/lib", layers: two(usrmerge("usr/lib", "usr/bin"),
			[]tartest.Entry{dir("lib/x86_64-linux-gnu/"), file("lib/x86_64-linux-gnu/libfoo.so", "foo"), file("bin/postgres", "pg"), file("lib/libc.so", "new libc")}),
			check: func(t *testing.T, e env) {
				wantLink(t, e, "lib", "usr/lib")
				wantLink(t, e, "bin", "usr/bin")
				wantFile(t, e, "usr/lib/x86_64-linux-gnu/libfoo.so", "foo")
				wantFile(t, e, "usr/bin/postgres", "pg")
				wantFile(t, e, "usr/lib/libc.so", "new libc")
				wantMode(t, e, "usr/lib/x86_64-linux-gnu", os.ModeDir|0o755)
			}},
		{name: "symlink/usrmerge with absolute links lib -> /usr/lib", layers: two(usrmerge("/usr/lib", "/usr/bin"),
			[]tartest.Entry{file("lib/x86_64-linux-gnu/libfoo.so", "foo")}),
			check: func(t *testing.T, e env) {
				wantLink(t, e, "lib", "usr/lib")
				wantFile(t, e, "usr/lib/x86_64-linux-gnu/libfoo.so", "foo")
			}},
		{name: "symlink/usrmerge refused with NoSymlinkParents", opts: strict, layers: two(usrmerge("usr/lib", "usr/bin"),
			[]tartest.Entry{file("lib/x86_64-linux-gnu/libfoo.so", "foo")}), want: unpack.ErrSymlinkParent},
		{name: "symlink/usrmerge: a later lib/ directory entry replaces the link, as in containerd", layers: two(usrmerge("usr/lib", "usr/bin"),
			[]tartest.Entry{dir("lib/"), file("lib/libfoo.so", "foo")}),
			check: func(t *testing.T, e env) {
				wantMode(t, e, "lib", os.ModeDir|0o755)
				wantFile(t, e, "lib/libfoo.so", "foo")
				wantFile(t, e, "usr/lib/libc.so", "libc")
			}},
		{name: "symlink/usrmerge: hardlink named through lib -> usr/lib", layers: two(usrmerge("usr/lib", "usr/bin"),
			[]tartest.Entry{hard("lib/libc2.so", "usr/lib/libc.so")}),
			check: func(t *testing.T, e env) { wantSameFile(t, e, "usr/lib/libc.so", "usr/lib/libc2.so") }},
		{name: "symlink/usrmerge: whiteout through lib -> usr/lib", layers: two(usrmerge("usr/lib", "usr/bin"),
			[]tartest.Entry{file("lib/.wh.libc.so", "")}), want: unpack.ErrSymlinkParent},
		{name: "symlink/chain a -> b -> c written through", layers: one(dir("c/"), sym("a", "b"), sym("b", "c"), file("a/x", "x")),
			check: func(t *testing.T, e env) { wantFile(t, e, "c/x", "x"); wantLink(t, e, "a", "b") }},
		{name: "symlink/chain through .. links stays in the root", layers: one(sym("d/up", ".."), file("d/up/d/up/f", "x")),
			check: func(t *testing.T, e env) { wantLink(t, e, "d/up", ".."); wantFile(t, e, "f", "x") }},
		{name: "symlink/loop a -> b -> a written through", layers: one(sym("a", "b"), sym("b", "a"), file("a/x", "x")), want: unpack.ErrSymlinkLoop},
		{name: "symlink/loop a -> a written through", layers: one(sym("a", "a"), file("a/x", "x")), want: unpack.ErrSymlinkLoop},
		{name: "symlink/chain of 41 links is a loop", layers: one(append(linkChain(41), file("l0/x", "x"))...), want: unpack.ErrSymlinkLoop},
		{name: "symlink/chain of 40 links is followed", layers: one(append(linkChain(40), file("l0/x", "x"))...),
			check: func(t *testing.T, e env) { wantFile(t, e, "d/x", "x") }},
		{name: "symlink/target checked where the link really is (a -> . then a/l -> ../x)", layers: one(sym("a", "."), sym("a/l", "../x")),
			want: unpack.ErrLinkEscapes},
		{name: "symlink/absolute target under a symlinked parent is rewritten from the real place", layers: one(dir("sub/"), sym("a", "sub"), sym("a/l", "/etc")),
			check: func(t *testing.T, e env) { wantLink(t, e, "sub/l", "../etc") }},
		{name: "symlink/dangling link as a parent creates its target in the root", layers: one(sym("l", "/missing/dir"), file("l/x", "x")),
			check: func(t *testing.T, e env) { wantLink(t, e, "l", "missing/dir"); wantFile(t, e, "missing/dir/x", "x") }},
		{name: "symlink/link to a file as a parent", layers: one(file("f", "x"), sym("l", "f"), file("l/x", "y")), want: unpack.ErrNotDir},
		{name: "symlink/resolved path over Depth", opts: unpack.Options{Limits: unpack.Limits{Depth: 4}},
			layers: one(dir("a/b/c/"), sym("l", "a/b/c"), file("l/x/y", "z")), want: unpack.ErrLimit, limit: "Depth"},
		{name: "symlink/file entry over an existing symlink replaces the link", layers: two([]tartest.Entry{file("t", "target"), sym("f", "t")}, []tartest.Entry{file("f", "new")}),
			check: func(t *testing.T, e env) { wantFile(t, e, "t", "target"); wantFile(t, e, "f", "new") }},
		{name: "symlink/file entry over a symlink to a host file replaces the link", layers: two([]tartest.Entry{sym("f", "$OUT/secret")}, []tartest.Entry{file("f", "new")}),
			check: func(t *testing.T, e env) { wantFile(t, e, "f", "new") }},
		{name: "symlink/empty target", layers: one(raw(tartest.RawHeader("l", '2', 0, ""))), want: unpack.ErrInvalidName},

		// Hardlinks.
		{name: "hardlink/target outside the root", layers: one(hard("h", "../outside/secret")), want: unpack.ErrLinkEscapes},
		{name: "hardlink/absolute target is root-relative, never the host", layers: one(hard("h", "$OUT/secret")), want: unpack.ErrHardlinkTarget},
		{name: "hardlink/target through a symlinked parent", layers: one(file("sub/f", "x"), sym("s", "sub"), hard("h", "s/f")), want: unpack.ErrSymlinkParent},
		{name: "hardlink/target through a symlinked parent in a later layer", layers: two(usrmerge("usr/lib", "usr/bin"), []tartest.Entry{hard("h", "lib/libc.so")}),
			want: unpack.ErrSymlinkParent},
		{name: "hardlink/to a symlink", layers: one(file("t", "x"), sym("l", "t"), hard("h", "l")), want: unpack.ErrHardlinkTarget},
		{name: "hardlink/to a symlink then chmod through it (CVE-2021-32760)", layers: one(sym("l", "$OUT/secret"), tartest.Entry{Name: "h", Type: tar.TypeLink, Linkname: "l", Mode: 0o777}),
			want: unpack.ErrHardlinkTarget},
		{name: "hardlink/to a directory", layers: one(dir("d/"), hard("h", "d")), want: unpack.ErrHardlinkTarget},
		{name: "hardlink/to a missing file", layers: one(hard("h", "nope")), want: unpack.ErrHardlinkTarget},
		{name: "hardlink/relative target resolves against the root, not the working directory", layers: one(hard("h", "hostile_test.go")), want: unpack.ErrHardlinkTarget},
		{name: "hardlink/to itself", layers: one(file("h", "x"), hard("h", "h")), want: unpack.ErrHardlinkTarget},
		{name: "hardlink/to a file inside works", layers: one(file("a/f", "x"), hard("b/h", "/a/f")),
			check: func(t *testing.T, e env) { wantSameFile(t, e, "a/f", "b/h") }},

		// Whiteouts.
		{name: "whiteout/removes a lower file", layers: two([]tartest.Entry{file("a/f", "x"), file("a/g", "y")}, []tartest.Entry{file("a/.wh.f", "")}),
			check: func(t *testing.T, e env) {
				wantMissing(t, e, "a/f")
				wantMissing(t, e, "a/.wh.f")
				wantFile(t, e, "a/g", "y")
			}},
		{name: "whiteout/removes a lower directory", layers: two([]tartest.Entry{file("a/d/f", "x")}, []tartest.Entry{file("a/.wh.d", "")}),
			check: func(t *testing.T, e env) { wantMissing(t, e, "a/d") }},
		{name: "whiteout/through a symlinked parent", layers: two([]tartest.Entry{sym("l", "$OUT")}, []tartest.Entry{file("l/.wh.secret", "")}),
			want: unpack.ErrSymlinkParent},
		{name: "whiteout/outside the root", layers: one(file("../.wh.outside", "")), want: unpack.ErrPathEscapes},
		{name: "whiteout/.wh. names nothing", layers: one(file("a/.wh.", "")), want: unpack.ErrWhiteout},
		{name: "whiteout/.wh.. names the directory", layers: one(file("a/.wh..", "")), want: unpack.ErrWhiteout},
		{name: "whiteout/.wh... names the parent", layers: one(file("a/.wh...", "")), want: unpack.ErrWhiteout},
		{name: "whiteout/opaque after its siblings keeps this layer's entries", layers: two(
			[]tartest.Entry{file("d/old", "x"), file("d/sub/old", "x")},
			[]tartest.Entry{file("d/new", "y"), dir("d/sub/"), file("d/sub/new", "y"), file("d/.wh..wh..opq", "")}),
			check: func(t *testing.T, e env) {
				wantMissing(t, e, "d/old")
				wantMissing(t, e, "d/sub/old")
				wantFile(t, e, "d/new", "y")
				wantFile(t, e, "d/sub/new", "y")
				wantMissing(t, e, "d/.wh..wh..opq")
			}},
		{name: "whiteout/opaque through a symlinked parent", layers: two([]tartest.Entry{sym("l", "$OUT")}, []tartest.Entry{file("l/.wh..wh..opq", "")}),
			want: unpack.ErrSymlinkParent},
		{name: "whiteout/through an in-root symlinked parent", layers: two([]tartest.Entry{file("d/f", "x"), sym("l", "d")}, []tartest.Entry{file("l/.wh.f", "")}),
			want: unpack.ErrSymlinkParent},
		{name: "whiteout/of the link itself removes the link, not its target", layers: two([]tartest.Entry{file("d/f", "x"), sym("l", "d")}, []tartest.Entry{file(".wh.l", "")}),
			check: func(t *testing.T, e env) { wantMissing(t, e, "l"); wantFile(t, e, "d/f", "x") }},
		{name: "whiteout/aufs metadata is skipped", layers: one(file(".wh..wh.plnk/1.2", "x"), file(".wh..wh.aufs", "")),
			check: func(t *testing.T, e env) { wantMissing(t, e, ".wh..wh.plnk"); wantMissing(t, e, ".wh..wh.aufs") }},

		// Metadata.
		{name: "metadata/device nodes and fifos are not created", layers: one(entry("dev/null", tar.TypeChar), entry("dev/sda", tar.TypeBlock), entry("fifo", tar.TypeFifo)),
			check: func(t *testing.T, e env) {
				wantMissing(t, e, "dev/null")
				wantMissing(t, e, "dev/sda")
				wantMissing(t, e, "fifo")
			}},
		{name: "metadata/setuid setgid sticky stripped", layers: one(tartest.Entry{Name: "su", Mode: 0o4755}, tartest.Entry{Name: "sg", Mode: 0o2755},
			tartest.Entry{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777}),
			check: func(t *testing.T, e env) {
				wantMode(t, e, "su", 0o755)
				wantMode(t, e, "sg", 0o755)
				wantMode(t, e, "tmp", os.ModeDir|0o777)
			}},
		{name: "metadata/special bits kept when asked", opts: unpack.Options{KeepSpecialBits: true},
			layers: one(tartest.Entry{Name: "su", Mode: 0o4755}, tartest.Entry{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777}),
			check: func(t *testing.T, e env) {
				wantMode(t, e, "su", os.ModeSetuid|0o755)
				wantMode(t, e, "tmp", os.ModeDir|os.ModeSticky|0o777)
			}},
		{name: "metadata/ownership not applied unless asked", layers: one(tartest.Entry{Name: "f", Uid: 12345, Gid: 12345}),
			check: func(t *testing.T, e env) { wantOwner(t, e, "f", os.Getuid()) }},
		{name: "metadata/ownership applied only as root, by number, names never looked up", opts: unpack.Options{PreserveOwnership: true},
			layers: one(tartest.Entry{Name: "f", Uid: 12345, Gid: 12345, PAX: map[string]string{"uname": "root", "gname": "root"}}),
			check: func(t *testing.T, e env) {
				want := os.Getuid()
				if os.Geteuid() == 0 {
					want = 12345
				}
				wantOwner(t, e, "f", want)
			}},
		{name: "metadata/trusted and overlay xattrs never applied", layers: one(tartest.Entry{Name: "f", PAX: map[string]string{
			"SCHILY.xattr.trusted.overlay.opaque": "y", "SCHILY.xattr.security.capability": "x", "SCHILY.xattr.user.x": "y"}}),
			check: func(t *testing.T, e env) { wantNoXattrs(t, e, "f") }},
		{name: "metadata/mtimes clamped", layers: one(tartest.Entry{Name: "old", ModTime: time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)},
			tartest.Entry{Name: "new", ModTime: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}),
			check: func(t *testing.T, e env) {
				wantMtime(t, e, "old", time.Unix(0, 0))
				wantMtime(t, e, "new", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
			}},
		{name: "metadata/read-only directory from a lower layer is still filled", layers: two(
			[]tartest.Entry{{Name: "ro/", Type: tar.TypeDir, Mode: 0o555}}, []tartest.Entry{file("ro/f", "x")}),
			check: func(t *testing.T, e env) { wantFile(t, e, "ro/f", "x"); wantMode(t, e, "ro", os.ModeDir|0o555) }},

		// Shape.
		{name: "shape/duplicate entries, last wins", layers: one(file("f", "one"), file("f", "two")),
			check: func(t *testing.T, e env) { wantFile(t, e, "f", "two") }},
		{name: "shape/file later used as a directory parent", layers: one(file("f", "x"), file("f/x", "y")), want: unpack.ErrNotDir},
		{name: "shape/directory replaced by a file", layers: one(dir("d/"), file("d/x", "y"), file("d", "file")),
			check: func(t *testing.T, e env) { wantFile(t, e, "d", "file") }},
		{name: "shape/file replaced by a directory", layers: one(file("f", "x"), dir("f/"), file("f/y", "z")),
			check: func(t *testing.T, e env) { wantFile(t, e, "f/y", "z") }},

		// Streams.
		{name: "stream/truncated compressed stream", layers: []layerSpec{{blob: tartest.Gzip(tarOf(t, file("a", big)))[:40]}}, want: unpack.ErrTruncated},
		{name: "stream/truncated download (shorter than the descriptor)", layers: []layerSpec{{tar: plain, serve: plainGz[:len(plainGz)-5]}}, want: unpack.ErrSizeMismatch},
		{name: "stream/truncated entry", layers: []layerSpec{{mt: tartest.MediaTar, blob: tarOf(t, file("a", big))[:512+100]}}, want: unpack.ErrTruncated},
		{name: "stream/GNU sparse entry", layers: one(raw(tartest.RawHeader("s", 'S', 0, ""))), want: unpack.ErrSparse},
		{name: "stream/PAX sparse entry", layers: one(raw(tartest.PAXHeader([2]string{"GNU.sparse.numblocks", "1"}, [2]string{"GNU.sparse.map", "0,5"}, [2]string{"GNU.sparse.size", "5"}),
			tartest.RawHeader("s", '0', 5, ""), []byte("hello"), make([]byte, 507))), want: unpack.ErrSparse},
		{name: "stream/trailing bytes after gzip", layers: []layerSpec{{blob: append(tartest.Gzip(plain), "junk"...)}}, want: unpack.ErrTrailingData},
		{name: "stream/trailing zeros after gzip", layers: []layerSpec{{blob: append(tartest.Gzip(plain), make([]byte, 512)...)}}, want: unpack.ErrTrailingData},
		{name: "stream/trailing bytes after zstd", layers: []layerSpec{{mt: tartest.MediaZstd, blob: append(tartest.Zstd(plain), "junk"...)}}, want: unpack.ErrTrailingData},
		{name: "stream/concatenated gzip members are one stream", layers: []layerSpec{{blob: append(tartest.Gzip(plain[:512]), tartest.Gzip(plain[512:])...)}},
			check: func(t *testing.T, e env) { wantFile(t, e, "a", "hello") }},
		{name: "stream/data after the tar end marker is drained and accepted", layers: []layerSpec{{tar: junkA}},
			check: func(t *testing.T, e env) { wantFile(t, e, "a", "hello") }},
		{name: "stream/data after the tar end marker is still verified", layers: []layerSpec{{mt: tartest.MediaTar, blob: junkA, serve: junkB}}, want: unpack.ErrDigestMismatch},
		{name: "stream/digest mismatch found at EOF", layers: []layerSpec{{mt: tartest.MediaTar, blob: plain, serve: flipped}}, want: unpack.ErrDigestMismatch},
		{name: "stream/descriptor size smaller than the blob", layers: []layerSpec{{tar: plain, desc: func(d *ocispec.Descriptor) { d.Size-- }}}, want: unpack.ErrSizeMismatch},
		{name: "stream/descriptor size that lies big is never preallocated", opts: unpack.Options{Limits: unpack.Limits{TotalBytes: 1 << 61}},
			layers: []layerSpec{{tar: plain, desc: func(d *ocispec.Descriptor) { d.Size = 1 << 61 }}}, want: unpack.ErrSizeMismatch},
		{name: "stream/diff_id mismatch", layers: []layerSpec{{tar: plain, diffID: func([]byte) digest.Digest { return digest.FromString("other") }}}, want: unpack.ErrDiffIDMismatch},
		{name: "stream/diff_id match", layers: []layerSpec{{tar: plain, diffID: digest.FromBytes}},
			check: func(t *testing.T, e env) { wantFile(t, e, "a", "hello") }},
		{name: "stream/zstd bytes declared gzip", layers: []layerSpec{{blob: tartest.Zstd(plain)}}, want: unpack.ErrMediaTypeMismatch},
		{name: "stream/gzip bytes declared tar", layers: []layerSpec{{mt: tartest.MediaTar, blob: plainGz}}, want: unpack.ErrMediaTypeMismatch},
		{name: "stream/tar bytes declared zstd", layers: []layerSpec{{mt: tartest.MediaZstd, blob: plain}}, want: unpack.ErrMediaTypeMismatch},
		{name: "stream/unknown media type", layers: []layerSpec{{mt: "application/octet-stream", blob: plain}}, want: unpack.ErrUnknownMediaType},
		{name: "stream/manifest media type as a layer (CVE-2021-41190)", layers: []layerSpec{{mt: ocispec.MediaTypeImageManifest, blob: plain}}, want: unpack.ErrUnknownMediaType},
		{name: "stream/not a tar at all", layers: []layerSpec{{mt: tartest.MediaTar, blob: bytes.Repeat([]byte("garbage!"), 128)}}, want: unpack.ErrCorrupt},

		// Bombs.
		{name: "bomb/100 GB of zeros in zstd stops on the ratio guard", layers: []layerSpec{{mt: tartest.MediaZstd, blob: bomb}}, want: unpack.ErrLimit, limit: "Ratio"},
		{name: "bomb/one 100 GB file stops at its header", layers: []layerSpec{{mt: tartest.MediaZstd, blob: hugeFile}}, want: unpack.ErrLimit, limit: "FileBytes"},
		{name: "bomb/zstd window over the cap", layers: []layerSpec{{mt: tartest.MediaZstd, blob: bigWindow}}, want: unpack.ErrLimit, limit: "WindowBytes"},
		{name: "bomb/gzip ratio guard", opts: unpack.Options{Limits: unpack.Limits{RatioAfter: 1 << 20}},
			layers: []layerSpec{{tar: tarOf(t, file("z", string(make([]byte, 8<<20))))}}, want: unpack.ErrLimit, limit: "Ratio"},
		{name: "bomb/too many entries", opts: unpack.Options{Limits: unpack.Limits{Entries: 10}},
			layers: one(manyFiles(11)...), want: unpack.ErrLimit, limit: "Entries"},
		{name: "bomb/uncompressed bytes over TotalBytes", opts: unpack.Options{Limits: unpack.Limits{TotalBytes: 64 << 10}},
			layers: one(file("f", strings.Repeat("x", 100<<10))), want: unpack.ErrLimit, limit: "TotalBytes"},
		{name: "bomb/one file over FileBytes", opts: unpack.Options{Limits: unpack.Limits{FileBytes: 1000}},
			layers: one(file("f", big)), want: unpack.ErrLimit, limit: "FileBytes"},

		// Opaque markers keep this layer's entries written into lower directories.
		{name: "whiteout/opaque keeps this layer's file in a lower directory without its own entry",
			layers: two([]tartest.Entry{file("d/sub/old", "x")}, []tartest.Entry{file("d/sub/new", "y"), file("d/.wh..wh..opq", "")}),
			check:  func(t *testing.T, e env) { wantFile(t, e, "d/sub/new", "y"); wantMissing(t, e, "d/sub/old") }},
		{name: "whiteout/opaque keeps this layer's file under implied directories in a lower one",
			layers: two([]tartest.Entry{file("d/old", "x")}, []tartest.Entry{file("d/x/y/f", "y"), file(".wh..wh..opq", "")}),
			check:  func(t *testing.T, e env) { wantFile(t, e, "d/x/y/f", "y"); wantMissing(t, e, "d/old") }},

		// Descriptors whose size would overflow the arithmetic.
		{name: "stream/descriptor size over TotalBytes is refused up front", layers: []layerSpec{{tar: plain, desc: func(d *ocispec.Descriptor) { d.Size = 1 << 62 }}},
			want: unpack.ErrLimit, limit: "TotalBytes"},
		{name: "stream/descriptor size MaxInt64 is refused up front", layers: []layerSpec{{tar: plain, desc: func(d *ocispec.Descriptor) { d.Size = math.MaxInt64 }}},
			want: unpack.ErrLimit, limit: "TotalBytes"},
		{name: "stream/descriptor size MaxInt64 without TotalBytes does not overflow", opts: unpack.Options{Limits: unpack.Limits{TotalBytes: -1}},
			layers: []layerSpec{{tar: plain, desc: func(d *ocispec.Descriptor) { d.Size = math.MaxInt64 }}}, want: unpack.ErrSizeMismatch},
	}
}

// strict keeps the old behaviour: no symlink in any parent path.
var strict = unpack.Options{NoSymlinkParents: true}

// usrmerge is a base layer with lib and bin linked into usr.
func usrmerge(lib, bin string) []tartest.Entry {
	return []tartest.Entry{dir("usr/"), dir("usr/lib/"), dir("usr/bin/"), file("usr/lib/libc.so", "libc"), sym("lib", lib), sym("bin", bin)}
}

// linkChain is l0 -> l1 -> ... -> l(n-1) -> d: n links to a directory.
func linkChain(n int) []tartest.Entry {
	ents := []tartest.Entry{dir("d/")}
	for i := range n {
		next := "l" + tartest.Itoa(i+1)
		if i == n-1 {
			next = "d"
		}
		ents = append(ents, sym("l"+tartest.Itoa(i), next))
	}
	return ents
}

// rel is an absolute host path as the root-relative path it becomes.
func rel(p string) string { return strings.TrimPrefix(p, "/") }

func manyFiles(n int) []tartest.Entry {
	var ents []tartest.Entry
	for i := range n {
		ents = append(ents, file("f"+tartest.Itoa(i), "x"))
	}
	return ents
}

func TestHostile(t *testing.T) {
	cases := hostileCases(t)
	if len(cases) < 30 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			before := snapshot(t, e.tmp, e.dst)
			start := time.Now()
			_, err := unpack.Apply(context.Background(), e.dst, e.sources(t, tc.layers), tc.opts)
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("took %v", took)
			}
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if tc.limit != "" {
				var le *unpack.LimitError
				if !errors.As(err, &le) || le.Limit != tc.limit {
					t.Fatalf("error = %v, want the %s limit", err, tc.limit)
				}
			}
			e.checkConfined(t, before, tc.want != nil)
			if tc.check != nil {
				tc.check(t, e)
			}
			t.Logf("%v", err)
		})
	}
}

func wantFile(t *testing.T, e env, name, content string) {
	t.Helper()
	p := filepath.Join(e.dst, name)
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("%s: want a regular file: %v %v", name, fi, err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != content {
		t.Errorf("%s = %q, want %q", name, b, content)
	}
}

func wantMissing(t *testing.T, e env, name string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(e.dst, name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (%v)", name, err)
	}
}

func wantLink(t *testing.T, e env, name, target string) {
	t.Helper()
	got, err := os.Readlink(filepath.Join(e.dst, name))
	if err != nil || got != target {
		t.Errorf("%s -> %q (%v), want -> %q", name, got, err, target)
	}
}

func wantSameFile(t *testing.T, e env, a, b string) {
	t.Helper()
	fa, err1 := os.Lstat(filepath.Join(e.dst, a))
	fb, err2 := os.Lstat(filepath.Join(e.dst, b))
	if err1 != nil || err2 != nil || !os.SameFile(fa, fb) {
		t.Errorf("%s and %s are not the same file (%v, %v)", a, b, err1, err2)
	}
}

func wantMode(t *testing.T, e env, name string, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(e.dst, name))
	if err != nil || fi.Mode() != mode {
		t.Errorf("%s mode = %v (%v), want %v", name, fi.Mode(), err, mode)
	}
}

func wantMtime(t *testing.T, e env, name string, mt time.Time) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(e.dst, name))
	if err != nil || !fi.ModTime().Equal(mt) {
		t.Errorf("%s mtime = %v (%v), want %v", name, fi.ModTime(), err, mt)
	}
}
