// Package elftest builds small, valid ELF shared objects in code, for tests
// and demos that need a module the link check can read: a soname, needed
// libraries, a RUNPATH, defined and undefined dynamic symbols, for any
// 64-bit little-endian architecture pgoci knows. The objects have no code
// and are not meant to be run: they are what the dynamic loader's
// bookkeeping looks at (program headers, dynamic section, dynamic symbol
// table), laid out the way linkers lay them out.
package elftest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"slices"
)

// Spec describes one shared object.
type Spec struct {
	// Arch is the OCI architecture: amd64, arm64, ppc64le or riscv64.
	Arch string
	// Soname is DT_SONAME ("" for none).
	Soname string
	// Needed are the DT_NEEDED entries, in order.
	Needed []string
	// RunPath is DT_RUNPATH ("" for none).
	RunPath string
	// Defines are global functions the object exports.
	Defines []string
	// Undefined are global functions it calls and expects from others.
	Undefined []string
	// Comment, when set, is a .comment entry ("GCC: (Debian 12.2.0-14)
	// 12.2.0"); tests also use it to make two objects differ.
	Comment string
	// VersionNeeds are symbol versions required from other files
	// (.gnu.version_r): {File: "libc.so.6", Versions: ["GLIBC_2.34"]}.
	VersionNeeds []Need
}

// Need is one file's entry of the version needs.
type Need struct {
	File     string
	Versions []string
}

var machines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "ppc64le": elf.EM_PPC64, "riscv64": elf.EM_RISCV,
}

// Build returns the bytes of the shared object described by s.
func Build(s Spec) ([]byte, error) {
	machine, ok := machines[s.Arch]
	if !ok {
		return nil, fmt.Errorf("elftest: architecture %q: want one of amd64, arm64, ppc64le, riscv64", s.Arch)
	}
	var dynstr strtab
	dynstr.add("")
	var dyn []elf.Dyn64
	for _, n := range s.Needed {
		dyn = append(dyn, elf.Dyn64{Tag: int64(elf.DT_NEEDED), Val: uint64(dynstr.add(n))})
	}
	if s.Soname != "" {
		dyn = append(dyn, elf.Dyn64{Tag: int64(elf.DT_SONAME), Val: uint64(dynstr.add(s.Soname))})
	}
	if s.RunPath != "" {
		dyn = append(dyn, elf.Dyn64{Tag: int64(elf.DT_RUNPATH), Val: uint64(dynstr.add(s.RunPath))})
	}
	syms := []elf.Sym64{{}}
	for _, d := range s.Defines {
		syms = append(syms, elf.Sym64{Name: dynstr.add(d), Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), Shndx: secText})
	}
	for _, u := range s.Undefined {
		syms = append(syms, elf.Sym64{Name: dynstr.add(u), Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC)})
	}
	verneed := versionNeeds(s.VersionNeeds, &dynstr)
	return layoutObject(machine, dynstr.b.Bytes(), syms, dyn, verneed, len(s.VersionNeeds), s.Comment), nil
}

// versionNeeds encodes .gnu.version_r: per file an Elf64_Verneed, then an
// Elf64_Vernaux per version, version indexes counting from 2.
func versionNeeds(needs []Need, dynstr *strtab) []byte {
	var b bytes.Buffer
	index := uint16(2)
	for k, n := range needs {
		next := uint32(16 + 16*len(n.Versions))
		if k == len(needs)-1 {
			next = 0
		}
		binary.Write(&b, binary.LittleEndian, [2]uint16{1, uint16(len(n.Versions))})
		binary.Write(&b, binary.LittleEndian, [3]uint32{dynstr.add(n.File), 16, next})
		for j, v := range n.Versions {
			auxNext := uint32(16)
			if j == len(n.Versions)-1 {
				auxNext = 0
			}
			binary.Write(&b, binary.LittleEndian, uint32(elfHash(v)))
			binary.Write(&b, binary.LittleEndian, [2]uint16{0, index})
			binary.Write(&b, binary.LittleEndian, [2]uint32{dynstr.add(v), auxNext})
			index++
		}
	}
	return b.Bytes()
}

// elfHash is the SysV ELF hash of a version name (vna_hash).
func elfHash(name string) uint32 {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = h<<4 + uint32(name[i])
		if g := h & 0xf0000000; g != 0 {
			h ^= g >> 24
		}
		h &^= 0xf0000000
	}
	return h
}

// Section indexes, in file order.
const (
	secNull = iota
	secDynstr
	secDynsym
	secVerneed
	secText
	secDynamic
	secComment
	secShstrtab
	numSections
)

const (
	ehdrSize = 64
	phdrSize = 56
	shdrSize = 64
	symSize  = 24
	dynSize  = 16
)

// layoutObject lays the sections out after the ELF header and two program
// headers (PT_LOAD of the whole file, PT_DYNAMIC), at their own file
// offsets and equal virtual addresses, then writes the section headers.
func layoutObject(machine elf.Machine, dynstr []byte, syms []elf.Sym64, dyn []elf.Dyn64, verneed []byte, verneedNum int, comment string) []byte {
	var shstr strtab
	shstr.add("")
	names := [numSections]uint32{0, shstr.add(".dynstr"), shstr.add(".dynsym"), shstr.add(".gnu.version_r"), shstr.add(".text"),
		shstr.add(".dynamic"), shstr.add(".comment"), shstr.add(".shstrtab")}

	off := uint64(ehdrSize + 2*phdrSize)
	place := func(size, align uint64) uint64 {
		off = (off + align - 1) &^ (align - 1)
		at := off
		off += size
		return at
	}
	dynstrOff := place(uint64(len(dynstr)), 1)
	dynsymOff := place(uint64(len(syms))*symSize, 8)
	verneedOff := place(uint64(len(verneed)), 8)
	textOff := place(16, 16)
	// The dynamic section also holds the entries pointing at the tables.
	dyn = append(dyn,
		elf.Dyn64{Tag: int64(elf.DT_STRTAB), Val: dynstrOff},
		elf.Dyn64{Tag: int64(elf.DT_SYMTAB), Val: dynsymOff},
		elf.Dyn64{Tag: int64(elf.DT_STRSZ), Val: uint64(len(dynstr))},
		elf.Dyn64{Tag: int64(elf.DT_SYMENT), Val: symSize})
	if verneedNum > 0 {
		dyn = append(dyn, elf.Dyn64{Tag: int64(elf.DT_VERNEED), Val: verneedOff}, elf.Dyn64{Tag: int64(elf.DT_VERNEEDNUM), Val: uint64(verneedNum)})
	}
	dyn = append(dyn, elf.Dyn64{Tag: int64(elf.DT_NULL)})
	dynOff := place(uint64(len(dyn))*dynSize, 8)
	commentBytes := []byte{}
	if comment != "" {
		commentBytes = append([]byte(comment), 0)
	}
	commentOff := place(uint64(len(commentBytes)), 1)
	shstrOff := place(uint64(shstr.b.Len()), 1)
	shOff := place(numSections*shdrSize, 8)

	for k := range syms {
		if syms[k].Shndx == secText {
			syms[k].Value = textOff
		}
	}
	buf := make([]byte, off)
	w := func(at uint64, v any) {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, v) // fixed-size values only: cannot fail
		copy(buf[at:], b.Bytes())
	}
	w(0, elf.Header64{
		Ident:     [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:      uint16(elf.ET_DYN),
		Machine:   uint16(machine),
		Version:   uint32(elf.EV_CURRENT),
		Phoff:     ehdrSize,
		Shoff:     shOff,
		Ehsize:    ehdrSize,
		Phentsize: phdrSize,
		Phnum:     2,
		Shentsize: shdrSize,
		Shnum:     numSections,
		Shstrndx:  secShstrtab,
	})
	w(ehdrSize, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Filesz: off, Memsz: off, Align: 0x1000})
	w(ehdrSize+phdrSize, elf.Prog64{Type: uint32(elf.PT_DYNAMIC), Flags: uint32(elf.PF_R | elf.PF_W), Off: dynOff, Vaddr: dynOff,
		Paddr: dynOff, Filesz: uint64(len(dyn)) * dynSize, Memsz: uint64(len(dyn)) * dynSize, Align: 8})
	copy(buf[dynstrOff:], dynstr)
	copy(buf[verneedOff:], verneed)
	for k, s := range syms {
		w(dynsymOff+uint64(k)*symSize, s)
	}
	for k, d := range dyn {
		w(dynOff+uint64(k)*dynSize, d)
	}
	copy(buf[commentOff:], commentBytes)
	copy(buf[shstrOff:], shstr.b.Bytes())
	alloc := uint64(elf.SHF_ALLOC)
	shdrs := [numSections]elf.Section64{
		secDynstr: {Name: names[secDynstr], Type: uint32(elf.SHT_STRTAB), Flags: alloc, Addr: dynstrOff, Off: dynstrOff, Size: uint64(len(dynstr)), Addralign: 1},
		secDynsym: {Name: names[secDynsym], Type: uint32(elf.SHT_DYNSYM), Flags: alloc, Addr: dynsymOff, Off: dynsymOff,
			Size: uint64(len(syms)) * symSize, Link: secDynstr, Info: 1, Addralign: 8, Entsize: symSize},
		secVerneed: {Name: names[secVerneed], Type: uint32(elf.SHT_GNU_VERNEED), Flags: alloc, Addr: verneedOff, Off: verneedOff,
			Size: uint64(len(verneed)), Link: secDynstr, Info: uint32(verneedNum), Addralign: 8},
		secText: {Name: names[secText], Type: uint32(elf.SHT_PROGBITS), Flags: alloc | uint64(elf.SHF_EXECINSTR), Addr: textOff, Off: textOff, Size: 16, Addralign: 16},
		secDynamic: {Name: names[secDynamic], Type: uint32(elf.SHT_DYNAMIC), Flags: alloc | uint64(elf.SHF_WRITE), Addr: dynOff, Off: dynOff,
			Size: uint64(len(dyn)) * dynSize, Link: secDynstr, Addralign: 8, Entsize: dynSize},
		secComment:  {Name: names[secComment], Type: uint32(elf.SHT_PROGBITS), Off: commentOff, Size: uint64(len(commentBytes)), Addralign: 1, Entsize: 1},
		secShstrtab: {Name: names[secShstrtab], Type: uint32(elf.SHT_STRTAB), Off: shstrOff, Size: uint64(shstr.b.Len()), Addralign: 1},
	}
	if verneedNum == 0 {
		shdrs[secVerneed] = elf.Section64{} // linkers emit no empty version needs: an inactive section
	}
	for k, sh := range shdrs {
		w(shOff+uint64(k)*shdrSize, sh)
	}
	return buf
}

// strtab is an ELF string table under construction; add returns the
// offset of s, sharing identical strings.
type strtab struct {
	b    bytes.Buffer
	seen []string
	offs []uint32
}

func (t *strtab) add(s string) uint32 {
	if k := slices.Index(t.seen, s); k >= 0 {
		return t.offs[k]
	}
	off := uint32(t.b.Len())
	t.b.WriteString(s)
	t.b.WriteByte(0)
	t.seen, t.offs = append(t.seen, s), append(t.offs, off)
	return off
}
