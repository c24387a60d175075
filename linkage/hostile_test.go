package linkage_test

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"pgoci/linkage"
)

// base64le reads a committed 64-bit little-endian fixture.
func readFixture(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture(p))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sections returns the section headers of a valid 64-bit LE file.
type shdr struct {
	off                      int // offset of the header itself
	typ                      uint32
	offset, size, link, info uint64
	entsize                  uint64
}

func sectionHeaders(b []byte) []shdr {
	le := binary.LittleEndian
	shoff := int(le.Uint64(b[40:]))
	n := int(le.Uint16(b[60:]))
	var out []shdr
	for i := 0; i < n; i++ {
		h := b[shoff+64*i:]
		out = append(out, shdr{off: shoff + 64*i, typ: le.Uint32(h[4:]), offset: le.Uint64(h[24:]), size: le.Uint64(h[32:]),
			link: uint64(le.Uint32(h[40:])), info: uint64(le.Uint32(h[44:])), entsize: le.Uint64(h[56:])})
	}
	return out
}

func findSection(b []byte, typ elf.SectionType) shdr {
	for _, s := range sectionHeaders(b) {
		if s.typ == uint32(typ) {
			return s
		}
	}
	panic("no section of type " + typ.String())
}

// TestReadHostile feeds malformed objects to Read: each must give an error
// wrapping the named sentinel, never a panic or a huge allocation.
func TestReadHostile(t *testing.T) {
	good := readFixture(t, "mod/good.so")
	le := binary.LittleEndian
	mut := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty file", nil, linkage.ErrNotELF},
		{"three bytes", []byte("\x7fEL"), linkage.ErrNotELF},
		{"text file named .so", []byte("/* GNU ld script */\nGROUP ( /lib/x86_64-linux-gnu/libc.so.6 )\n"), linkage.ErrNotELF},
		{"magic only", []byte("\x7fELF"), linkage.ErrMalformed},
		{"truncated identification", good[:10], linkage.ErrMalformed},
		{"truncated header", good[:40], linkage.ErrMalformed},
		{"unknown class", mut(func(b []byte) []byte { b[4] = 9; return b }), linkage.ErrMalformed},
		{"unknown data encoding", mut(func(b []byte) []byte { b[5] = 7; return b }), linkage.ErrMalformed},
		{"bad ELF version", mut(func(b []byte) []byte { b[6] = 2; return b }), linkage.ErrMalformed},
		{"32-bit class on a 64-bit file", mut(func(b []byte) []byte { b[4] = byte(elf.ELFCLASS32); return b }), linkage.ErrMalformed},
		{"huge shnum", mut(func(b []byte) []byte { le.PutUint16(b[60:], 0xfff0); return b }), linkage.ErrMalformed},
		{"extended shnum of 2^32-1", mut(func(b []byte) []byte {
			le.PutUint16(b[60:], 0)
			le.PutUint64(b[int(le.Uint64(b[40:]))+32:], 1<<32-1)
			return b
		}), linkage.ErrMalformed},
		{"section headers past the end", mut(func(b []byte) []byte { le.PutUint64(b[40:], uint64(len(b))-64); return b }), linkage.ErrMalformed},
		{"section header offset overflows", mut(func(b []byte) []byte { le.PutUint64(b[40:], 1<<63); return b }), linkage.ErrMalformed},
		{"wrong section header size", mut(func(b []byte) []byte { le.PutUint16(b[58:], 40); return b }), linkage.ErrMalformed},
		{"huge phnum", mut(func(b []byte) []byte { le.PutUint16(b[56:], 0xfffe); return b }), linkage.ErrMalformed},
		{"program headers past the end", mut(func(b []byte) []byte { le.PutUint64(b[32:], uint64(len(b))); return b }), linkage.ErrMalformed},
		{"shstrndx out of range", mut(func(b []byte) []byte { le.PutUint16(b[62:], 999); return b }), linkage.ErrMalformed},
		{"dynamic section outside the file", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_DYNAMIC)
			le.PutUint64(b[s.off+24:], uint64(len(b))+4096)
			return b
		}), linkage.ErrMalformed},
		{"dynamic section of 2^40 bytes", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_DYNAMIC)
			le.PutUint64(b[s.off+32:], 1<<40)
			return b
		}), linkage.ErrMalformed},
		{"dynamic string table link out of range", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_DYNAMIC)
			le.PutUint32(b[s.off+40:], 500)
			return b
		}), linkage.ErrMalformed},
		{"DT_NEEDED string index out of range", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_DYNAMIC)
			for off := s.offset; off < s.offset+s.size; off += 16 {
				if elf.DynTag(le.Uint64(b[off:])) == elf.DT_NEEDED {
					le.PutUint64(b[off+8:], 1<<31)
				}
			}
			return b
		}), linkage.ErrMalformed},
		{"dynsym string index out of range", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_DYNSYM)
			le.PutUint32(b[s.offset+24:], 0x7fffffff)
			return b
		}), linkage.ErrMalformed},
		{"unterminated dynamic string table", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_DYNAMIC)
			str := sectionHeaders(b)[s.link]
			for i := str.offset; i < str.offset+str.size; i++ {
				if b[i] == 0 {
					b[i] = 'x'
				}
			}
			return b
		}), linkage.ErrMalformed},
		{"dynsym of 2^40 entries", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_DYNSYM)
			le.PutUint64(b[s.off+32:], 24<<40)
			return b
		}), linkage.ErrMalformed},
		{"dynsym with wrong entry size", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_DYNSYM)
			le.PutUint64(b[s.off+56:], 7)
			return b
		}), linkage.ErrMalformed},
		{"cyclic verneed (next points back)", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_GNU_VERNEED)
			le.PutUint32(b[s.off+44:], 0) // sh_info 0: no count to stop at
			le.PutUint32(b[s.offset+12:], 0xfffffff0)
			return b
		}), linkage.ErrMalformed},
		{"verneed aux loop (vna_next 0, vn_cnt 65535)", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_GNU_VERNEED)
			le.PutUint16(b[s.offset+2:], 0xffff)
			aux := s.offset + uint64(le.Uint32(b[s.offset+8:]))
			le.PutUint32(b[aux+12:], 4) // next overlaps
			return b
		}), linkage.ErrMalformed},
		{"verneed version 2", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_GNU_VERNEED)
			le.PutUint16(b[s.offset:], 2)
			return b
		}), linkage.ErrMalformed},
		{"verneed aux outside the section", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_GNU_VERNEED)
			le.PutUint32(b[s.offset+8:], 1<<20)
			return b
		}), linkage.ErrMalformed},
		{"verneed file name out of range", mut(func(b []byte) []byte {
			s := findSection(b, elf.SHT_GNU_VERNEED)
			le.PutUint32(b[s.offset+4:], 1<<30)
			return b
		}), linkage.ErrMalformed},
		{"verdef backwards link", func() []byte {
			b := append([]byte(nil), readFixture(t, "lib/libdemo.so.1")...)
			s := findSection(b, elf.SHT_GNU_VERDEF)
			le.PutUint32(b[s.off+44:], 0)
			le.PutUint32(b[s.offset+16:], 3)
			return b
		}(), linkage.ErrMalformed},
		{"verdef name outside the section", func() []byte {
			b := append([]byte(nil), readFixture(t, "lib/libdemo.so.1")...)
			s := findSection(b, elf.SHT_GNU_VERDEF)
			le.PutUint32(b[s.offset+12:], 1<<24)
			return b
		}(), linkage.ErrMalformed},
		{"PT_INTERP of 1 MiB", func() []byte {
			b := append([]byte(nil), readFixture(t, "bin/server")...)
			phoff, n := le.Uint64(b[32:]), int(le.Uint16(b[56:]))
			for i := 0; i < n; i++ {
				p := b[phoff+uint64(56*i):]
				if elf.ProgType(le.Uint32(p)) == elf.PT_INTERP {
					le.PutUint64(p[32:], 1<<20)
				}
			}
			return b
		}(), linkage.ErrMalformed},
		{"truncated in the middle", good[:len(good)/2], linkage.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := linkage.Read(bytes.NewReader(tc.data), int64(len(tc.data)))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read = %+v, %v; want %v", o, err, tc.want)
			}
			if o != nil {
				t.Error("object returned with an error")
			}
			t.Log(err)
		})
	}
}

func TestReadTooLarge(t *testing.T) {
	_, err := linkage.Read(bytes.NewReader(nil), linkage.MaxFileSize+1)
	if !errors.Is(err, linkage.ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

// TestReadFileNotELF: a non-ELF file named .so gives ErrNotELF naming it.
func TestReadFileNotELF(t *testing.T) {
	p := writeFile(t, t.TempDir()+"/libc.so", "/* GNU ld script */\n")
	_, err := linkage.ReadFile(p)
	if !errors.Is(err, linkage.ErrNotELF) || !bytes.Contains([]byte(err.Error()), []byte(p)) {
		t.Fatalf("err = %v", err)
	}
	_, err = linkage.ReadFile(t.TempDir())
	if !errors.Is(err, linkage.ErrNotELF) {
		t.Fatalf("directory: err = %v", err)
	}
}
