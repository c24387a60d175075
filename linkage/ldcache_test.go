package linkage_test

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/linkage"
)

type cacheEntry struct {
	flags      int32
	key, value string
	hwcap      uint64
}

// buildLDCache writes a cache the way ldconfig does: optionally the old
// "ld.so-1.7.0" table first, then the new-format header, entries and
// strings (offsets relative to the new header).
func buildLDCache(entries []cacheEntry, old bool) []byte {
	le := binary.LittleEndian
	var strs bytes.Buffer
	hdr := 48
	strBase := hdr + 24*len(entries)
	type off struct{ k, v uint32 }
	var offs []off
	for _, e := range entries {
		k := strBase + strs.Len()
		strs.WriteString(e.key + "\x00")
		v := strBase + strs.Len()
		strs.WriteString(e.value + "\x00")
		offs = append(offs, off{uint32(k), uint32(v)})
	}
	var nw bytes.Buffer
	nw.WriteString("glibc-ld.so.cache1.1")
	b4 := make([]byte, 4)
	le.PutUint32(b4, uint32(len(entries)))
	nw.Write(b4)
	le.PutUint32(b4, uint32(strs.Len()))
	nw.Write(b4)
	nw.Write([]byte{2, 0, 0, 0}) // little-endian flag
	nw.Write(make([]byte, 16))   // extension offset, unused
	for i, e := range entries {
		b := make([]byte, 24)
		le.PutUint32(b, uint32(e.flags))
		le.PutUint32(b[4:], offs[i].k)
		le.PutUint32(b[8:], offs[i].v)
		le.PutUint64(b[16:], e.hwcap)
		nw.Write(b)
	}
	nw.Write(strs.Bytes())
	if !old {
		return nw.Bytes()
	}
	var out bytes.Buffer
	out.WriteString("ld.so-1.7.0\x00")
	le.PutUint32(b4, uint32(len(entries)))
	out.Write(b4)
	out.Write(make([]byte, 12*len(entries)))
	for out.Len()%8 != 0 {
		out.WriteByte(0)
	}
	out.Write(nw.Bytes())
	return out.Bytes()
}

func TestParseLDCache(t *testing.T) {
	entries := []cacheEntry{
		{0x0303, "libpq.so.5", "/lib/x86_64-linux-gnu/libpq.so.5", 0},
		{0x0303, "libfoo.so.1", "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libfoo.so.1", 1 << 62},
		{0x0303, "libfoo.so.1", "/lib/x86_64-linux-gnu/libfoo.so.1", 0},
		{0x0003, "libbar.so.2", "/lib/i386-linux-gnu/libbar.so.2", 0},
		{0x0a03, "libbaz.so.3", "/lib/aarch64-linux-gnu/libbaz.so.3", 0},
	}
	for _, old := range []bool{false, true} {
		c, err := linkage.ParseLDCache(bytes.NewReader(buildLDCache(entries, old)))
		if err != nil {
			t.Fatalf("old=%v: %v", old, err)
		}
		if len(c.Entries) != len(entries) || c.Entries[1].HWCap == 0 {
			t.Fatalf("old=%v: entries %+v", old, c.Entries)
		}
		type q struct {
			name  string
			class elf.Class
			m     elf.Machine
			want  string
		}
		for _, tc := range []q{
			{"libpq.so.5", elf.ELFCLASS64, elf.EM_X86_64, "/lib/x86_64-linux-gnu/libpq.so.5"},
			{"libfoo.so.1", elf.ELFCLASS64, elf.EM_X86_64, "/lib/x86_64-linux-gnu/libfoo.so.1"}, // baseline, not the hwcaps entry
			{"libbar.so.2", elf.ELFCLASS64, elf.EM_X86_64, ""},                                  // i386 entry skipped
			{"libbar.so.2", elf.ELFCLASS32, elf.EM_386, "/lib/i386-linux-gnu/libbar.so.2"},
			{"libbaz.so.3", elf.ELFCLASS64, elf.EM_AARCH64, "/lib/aarch64-linux-gnu/libbaz.so.3"},
			{"libbaz.so.3", elf.ELFCLASS64, elf.EM_X86_64, ""},
			{"libnone.so", elf.ELFCLASS64, elf.EM_X86_64, ""},
		} {
			got, ok := c.Lookup(tc.name, tc.class, elf.ELFDATA2LSB, tc.m)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("old=%v: Lookup(%s, %v) = %q, %v; want %q", old, tc.name, tc.m, got, ok, tc.want)
			}
		}
	}
}

func TestParseLDCacheHostile(t *testing.T) {
	good := buildLDCache([]cacheEntry{{0x0303, "libpq.so.5", "/lib/libpq.so.5", 0}}, false)
	le := binary.LittleEndian
	mut := func(f func(b []byte)) []byte { b := append([]byte(nil), good...); f(b); return b }
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, linkage.ErrBadLDCache},
		{"old format only", append([]byte("ld.so-1.7.0\x00"), 0, 0, 0, 0), linkage.ErrBadLDCache},
		{"old format count past the end", append([]byte("ld.so-1.7.0\x00"), 0xff, 0xff, 0xff, 0x7f), linkage.ErrBadLDCache},
		{"truncated header", good[:30], linkage.ErrBadLDCache},
		{"huge entry count", mut(func(b []byte) { le.PutUint32(b[20:], 0xffffffff) }), linkage.ErrBadLDCache},
		{"entries past the end", mut(func(b []byte) { le.PutUint32(b[20:], 2) }), linkage.ErrBadLDCache},
		{"key offset out of range", mut(func(b []byte) { le.PutUint32(b[48+4:], 1<<30) }), linkage.ErrBadLDCache},
		{"unterminated string", good[:len(good)-1], linkage.ErrBadLDCache},
		{"invalid byte order flag", mut(func(b []byte) { b[28] = 1 }), linkage.ErrBadLDCache},
		{"not a cache", []byte("hello world, this is not a cache at all, really not"), linkage.ErrBadLDCache},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := linkage.ParseLDCache(bytes.NewReader(tc.data))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestLDCacheSystem compares the parse of this machine's cache with
// `ldconfig -p`.
func TestLDCacheSystem(t *testing.T) {
	if _, err := os.Stat(linkage.DefaultLDCache); err != nil {
		t.Skip("no /etc/ld.so.cache on this machine")
	}
	c, err := linkage.ReadLDCache(linkage.DefaultLDCache)
	if err != nil {
		t.Fatal(err)
	}
	ldconfig, err := exec.LookPath("ldconfig")
	if err != nil {
		t.Skip("ldconfig not on PATH")
	}
	out, err := exec.Command(ldconfig, "-p").Output()
	if err != nil {
		t.Skip("ldconfig -p failed: ", err)
	}
	re := regexp.MustCompile(`^\s+(\S+) \(([^)]*)\) => (\S+)$`)
	var want, got []string
	for _, line := range strings.Split(string(out), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			want = append(want, m[1]+" "+m[3])
		}
	}
	for _, e := range c.Entries {
		got = append(got, e.Soname+" "+e.Path)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries differ from ldconfig -p (-ldconfig +ParseLDCache):\n%s", diff)
	}
	if p, ok := c.Lookup("libc.so.6", elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64); ok && !strings.HasSuffix(p, "/libc.so.6") {
		t.Errorf("libc.so.6 -> %s", p)
	}
}
