package linkage

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// MaxLDCacheSize is the largest ld.so.cache [ParseLDCache] reads: 64 MiB.
// A system with every Debian library installed has a cache of a few MiB.
const MaxLDCacheSize = 64 << 20

// maxLDCacheEntries bounds the entry count (checked against the size too).
const maxLDCacheEntries = 1 << 20

const (
	ldCacheOld = "ld.so-1.7.0"
	ldCacheNew = "glibc-ld.so.cache1.1"
)

// LDCache is a parsed /etc/ld.so.cache: the map from sonames to paths that
// ldconfig builds and the glibc loader searches after LD_LIBRARY_PATH and
// RUNPATH.
type LDCache struct {
	// Entries in cache order (ldconfig sorts them so that the loader's
	// first match is its choice).
	Entries []LDCacheEntry
	index   map[string][]int
}

// LDCacheEntry is one cache entry.
type LDCacheEntry struct {
	Soname string // the key: "libpq.so.5"
	Path   string // the file: "/lib/x86_64-linux-gnu/libpq.so.5"
	// Flags are the entry's ldconfig flags: the low byte the library type
	// (3: ELF libc6), the next the ABI ("x86-64", "AArch64", ...).
	Flags int32
	// HWCap is non-zero for an entry of a hardware-capability subdirectory
	// (glibc-hwcaps/x86-64-v3/...). [LDCache.Lookup] uses the baseline
	// entries only.
	HWCap uint64
}

// ReadLDCache reads and parses the cache file at path (usually
// "/etc/ld.so.cache").
func ReadLDCache(path string) (*LDCache, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := ParseLDCache(f)
	if fe, ok := err.(*FormatError); ok {
		fe.File = path
	}
	return c, err
}

// ParseLDCache parses an ld.so.cache in glibc's "glibc-ld.so.cache1.1"
// format, alone or after an old "ld.so-1.7.0" table (which is skipped, as
// glibc does). It reads at most [MaxLDCacheSize] bytes; anything
// inconsistent is a [*FormatError] wrapping [ErrBadLDCache] ([ErrTooLarge]
// past the size limit). Entries whose strings are out of range make the
// whole cache invalid, as they make the loader ignore it.
func ParseLDCache(r io.Reader) (*LDCache, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxLDCacheSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxLDCacheSize {
		return nil, &FormatError{What: fmt.Sprintf("over %d bytes", MaxLDCacheSize), Reason: ErrTooLarge}
	}
	bad := func(format string, a ...any) error {
		return &FormatError{What: fmt.Sprintf(format, a...), Reason: ErrBadLDCache}
	}
	start := 0
	if bytes.HasPrefix(data, []byte(ldCacheOld)) {
		if len(data) < 16 {
			return nil, bad("truncated old-format header")
		}
		n := uint64(binary.LittleEndian.Uint32(data[12:]))
		end := 16 + 12*n
		if n > maxLDCacheEntries || end > uint64(len(data)) {
			return nil, bad("old-format table of %d entries does not fit in %d bytes", n, len(data))
		}
		start = int((end + 7) &^ 7)
		if start >= len(data) {
			return nil, bad("old-format cache without the new-format table (not supported by glibc since 2.32)")
		}
	}
	c := data[start:]
	if !bytes.HasPrefix(c, []byte(ldCacheNew)) {
		return nil, bad("no %q magic", ldCacheNew)
	}
	const hdr = 48
	if len(c) < hdr {
		return nil, bad("truncated header")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	switch c[28] & 3 {
	case 0: // unset: the host's order; ldconfig writes little-endian on every host pgoci supports except s390x and ppc64
		if le := binary.LittleEndian.Uint32(c[20:]); le > maxLDCacheEntries && binary.BigEndian.Uint32(c[20:]) <= maxLDCacheEntries {
			bo = binary.BigEndian
		}
	case 2:
	case 3:
		bo = binary.BigEndian
	default:
		return nil, bad("invalid byte order flag")
	}
	n := uint64(bo.Uint32(c[20:]))
	lenStrings := uint64(bo.Uint32(c[24:]))
	if n > maxLDCacheEntries || hdr+24*n > uint64(len(c)) {
		return nil, bad("%d entries do not fit in %d bytes", n, len(c))
	}
	if lenStrings > uint64(len(c)) {
		return nil, bad("string table of %d bytes does not fit", lenStrings)
	}
	str := func(off uint32) (string, error) {
		o := uint64(off)
		if o >= uint64(len(c)) {
			return "", bad("string offset %d out of range", off)
		}
		end := bytes.IndexByte(c[o:], 0)
		if end < 0 || end > MaxString {
			return "", bad("string at %d not terminated", off)
		}
		return string(c[o : o+uint64(end)]), nil
	}
	lc := &LDCache{Entries: make([]LDCacheEntry, 0, n), index: make(map[string][]int, n)}
	for i := uint64(0); i < n; i++ {
		e := c[hdr+24*i:]
		key, err := str(bo.Uint32(e[4:]))
		if err != nil {
			return nil, err
		}
		val, err := str(bo.Uint32(e[8:]))
		if err != nil {
			return nil, err
		}
		lc.index[key] = append(lc.index[key], len(lc.Entries))
		lc.Entries = append(lc.Entries, LDCacheEntry{Soname: key, Path: val, Flags: int32(bo.Uint32(e)), HWCap: bo.Uint64(e[16:])})
	}
	return lc, nil
}

// Lookup returns the path of the first baseline entry for soname whose
// flags fit objects of the given class, byte order and machine (an x86-64
// loader skips the i386 and x32 entries), as the glibc loader does.
func (c *LDCache) Lookup(soname string, class elf.Class, data elf.Data, m elf.Machine) (string, bool) {
	if c == nil {
		return "", false
	}
	ok := func(e LDCacheEntry) bool {
		return e.Soname == soname && e.HWCap == 0 && cacheFlagsOK(e.Flags, class, data, m)
	}
	if c.index == nil { // built by hand: scan
		for _, e := range c.Entries {
			if ok(e) {
				return e.Path, true
			}
		}
		return "", false
	}
	for _, i := range c.index[soname] {
		if e := c.Entries[i]; ok(e) {
			return e.Path, true
		}
	}
	return "", false
}
