package linkage

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unsafe"
)

// Limits on what [Read] accepts. An input beyond one is refused with
// [ErrMalformed] (or [ErrTooLarge] for the file size) before anything is
// allocated for it; no count read from the file is used to size an
// allocation before it has been checked against the file's size.
const (
	// MaxFileSize is the largest object Read accepts: 1 GiB. The largest
	// shared libraries in common use (libLLVM, libicudata) are a tenth of
	// that. Only the headers and the dynamic-linking sections are read,
	// never the whole file.
	MaxFileSize = 1 << 30
	// MaxSections is the largest section header count (extended numbering
	// included). Shared libraries have a few dozen.
	MaxSections = 1 << 16
	// MaxPrograms is the largest program header count.
	MaxPrograms = 1 << 12
	// MaxDynamic is the largest number of dynamic section entries read.
	MaxDynamic = 1 << 16
	// MaxNeeded is the largest number of DT_NEEDED entries.
	MaxNeeded = 1 << 12
	// MaxSymbols is the largest dynamic symbol count.
	MaxSymbols = 1 << 21
	// MaxStringTable is the largest string table read, in bytes.
	MaxStringTable = 256 << 20
	// MaxString is the longest single string (symbol or library name, path
	// list) accepted, in bytes.
	MaxString = 1 << 16
	// MaxVersions is the largest number of version definitions, and of
	// version needs (files plus versions), in one object.
	MaxVersions = 1 << 14
	// maxComment is how much of .comment is read; the rest is ignored.
	maxComment = 64 << 10
	// maxInterp is the longest PT_INTERP accepted.
	maxInterp = 4096
)

// LibcFamily is the C library an object is built against.
type LibcFamily string

// C library families.
const (
	LibcUnknown LibcFamily = ""      // no C library dependency seen (or a static object)
	Glibc       LibcFamily = "glibc" // GNU C library: libc.so.6, GLIBC_x.y versions, ld-linux*
	Musl        LibcFamily = "musl"  // musl: libc.so, interpreter ld-musl-*, no symbol versions
)

// Symbol is one dynamic symbol: a definition the object exports or a
// reference it needs another object to define.
type Symbol struct {
	Name string
	// Version is the symbol version name ("GLIBC_2.14"), "" when the
	// symbol carries none (version index 0 or 1).
	Version string
	// VersionIndex is the index in the version table (0 local, 1 global,
	// 2 and up a named version), without the hidden bit.
	VersionIndex uint16
	// Hidden: for a definition, a non-default version (foo@VER rather than
	// foo@@VER), which only a reference naming that version can bind to.
	Hidden bool
	// Library is, for a versioned reference, the file whose version is
	// needed ("libc.so.6"): the vn_file of the verneed entry.
	Library string
	Bind    elf.SymBind
	Type    elf.SymType
}

// String is name@VERSION (name@@VERSION for a default definition is not
// distinguished), or the name alone.
func (s Symbol) String() string {
	if s.Version == "" {
		return s.Name
	}
	return s.Name + "@" + s.Version
}

// Weak reports whether the symbol has weak binding: for a reference, the
// loader leaves it undefined (zero) rather than failing.
func (s Symbol) Weak() bool { return s.Bind == elf.STB_WEAK }

// VersionDef is a version an object defines (an SHT_GNU_verdef entry).
type VersionDef struct {
	Name  string
	Index uint16
	Base  bool // VER_FLG_BASE: the entry naming the file itself, not a version
	Weak  bool // VER_FLG_WEAK
}

// VersionNeed is the list of versions an object needs from one file (an
// SHT_GNU_verneed entry).
type VersionNeed struct {
	File     string // the soname, e.g. "libc.so.6"
	Versions []NeededVersion
}

// NeededVersion is one version of a [VersionNeed].
type NeededVersion struct {
	Name  string
	Index uint16
	Weak  bool // VER_FLG_WEAK: the loader only warns when it is missing
}

// Object is what [Read] learns from one ELF file: its identity, what the
// dynamic loader reads to load it, and the facts pgoci records as labels.
type Object struct {
	// Path is the file read by [ReadFile], "" for [Read].
	Path string
	// Size is the file size in bytes.
	Size int64

	Class   elf.Class
	Data    elf.Data
	Machine elf.Machine
	OSABI   elf.OSABI
	Type    elf.Type
	// Arch is the OCI architecture name the class and machine map to
	// ("amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64",
	// "ppc64", "mips64le", "loong64"), "" for anything else.
	Arch string

	// Interpreter is PT_INTERP ("/lib64/ld-linux-x86-64.so.2"), "" for a
	// shared library or a static executable.
	Interpreter string
	// Dynamic is true when the object has a dynamic section.
	Dynamic bool
	Soname  string
	// Needed lists DT_NEEDED in file order.
	Needed []string
	// RunPath and RPath are DT_RUNPATH and DT_RPATH split at ':', unexpanded
	// ("$ORIGIN/.." stays as is). Empty elements are kept as "" (glibc takes
	// them as the current directory).
	RunPath []string
	RPath   []string
	// Filter and Auxiliary are DT_FILTER and DT_AUXILIARY (filter
	// libraries; see the package documentation for how they are treated).
	Filter    []string
	Auxiliary []string
	// NoDefaultLib is DF_1_NODEFLIB: the loader does not search ld.so.cache
	// or the default directories for this object's needs.
	NoDefaultLib bool
	// PIE is DF_1_PIE: a position-independent executable, which dlopen
	// refuses.
	PIE bool

	// Defined lists exported dynamic symbols (global, weak and unique
	// bindings; glibc's lookup ignores the rest).
	Defined []Symbol
	// Undefined lists dynamic symbol references (global and weak).
	Undefined []Symbol
	// SymbolsUnknown is true for an object with a dynamic section but no
	// section headers (stripped with sstrip): its needs are known, its
	// symbols are not, and checks over them report "unchecked".
	SymbolsUnknown bool

	VersionDefs  []VersionDef
	VersionNeeds []VersionNeed

	// Libc is the C library family the object is built against.
	Libc LibcFamily
	// GlibcRequired is the highest GLIBC_x.y version the object needs from
	// any file ("2.34"), "" when it needs none.
	GlibcRequired string
	// GlibcProvided is the highest GLIBC_x.y version the object defines
	// (for glibc's libc.so.6: the C library's version), "" when none.
	GlibcProvided string
	// Compilers are the distinct strings of the .comment section in order
	// ("GCC: (Debian 12.2.0-14) 12.2.0"); see [Object.Compiler].
	Compilers []string
	// ICUMajor is the ICU major version the object links (from a
	// libicuuc.so.NN or libicui18n.so.NN need), 0 when none.
	ICUMajor int

	defIndex  map[string][]int32 // name -> indexes in Defined
	hasVersym bool
}

// Compiler returns the .comment entry naming the compiler that built the
// object: the first that starts "GCC:" or contains "clang", else the first
// entry, else "". (Linker entries such as "Linker: LLD" are skipped.)
func (o *Object) Compiler() string {
	for _, c := range o.Compilers {
		if strings.HasPrefix(c, "GCC:") || strings.Contains(c, "clang") {
			return c
		}
	}
	for _, c := range o.Compilers {
		if !strings.HasPrefix(c, "Linker:") {
			return c
		}
	}
	return ""
}

// CompilerVersion is the compiler in the short form labels use: "gcc
// 12.2.0" for "GCC: (Debian 12.2.0-14) 12.2.0", "clang 14.0.6" for
// "Debian clang version 14.0.6"; "" when .comment names neither.
func (o *Object) CompilerVersion() string {
	c := o.Compiler()
	if m := gccComment.FindStringSubmatch(c); m != nil {
		return "gcc " + strings.TrimSuffix(m[1], ".")
	}
	if m := clangComment.FindStringSubmatch(c); m != nil {
		return "clang " + strings.TrimSuffix(m[1], ".")
	}
	return ""
}

var (
	gccComment   = regexp.MustCompile(`^GCC: \(.*\) ([0-9][0-9.]*)`)
	clangComment = regexp.MustCompile(`clang version ([0-9][0-9.]*)`)
)

// Name is the name the loader knows the object by: its SONAME, else its
// file name.
func (o *Object) Name() string {
	if o.Soname != "" {
		return o.Soname
	}
	return baseName(o.Path)
}

// ReadFile opens and reads the object at path; see [Read].
func ReadFile(path string) (*Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &FormatError{File: path, What: "not a regular file", Reason: ErrNotELF}
	}
	o, err := Read(f, fi.Size())
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) && fe.File == "" {
			fe.File = path
		} else if errors.Is(err, ErrNotELF) {
			err = &FormatError{File: path, What: "no ELF magic", Reason: ErrNotELF}
		}
		return nil, err
	}
	o.Path = path
	return o, nil
}

// Read reads the ELF object of the given size from r. Input that does not
// start with the ELF magic is [ErrNotELF]; anything truncated, inconsistent
// or beyond a limit (the Max* constants) is a [*FormatError] wrapping
// [ErrMalformed] or [ErrTooLarge]. Read never panics and allocates no more
// than a small multiple of the bytes it reads.
//
// Headers are checked before [debug/elf] sees them; the dynamic section,
// symbol and version tables are then read with explicit bounds (debug/elf's
// own version parsers are not used: they trust counts and links).
func Read(r io.ReaderAt, size int64) (obj *Object, err error) {
	if size < 0 {
		return nil, malformed("negative size")
	}
	if size > MaxFileSize {
		return nil, &FormatError{What: fmt.Sprintf("%d bytes, over the %d-byte limit", size, MaxFileSize), Reason: ErrTooLarge}
	}
	defer func() {
		if p := recover(); p != nil {
			obj, err = nil, malformed(fmt.Sprintf("parser panic: %v", p))
		}
	}()
	rd := &reader{r: r, size: uint64(size)}
	if err := rd.header(); err != nil {
		return nil, err
	}
	f, err := elf.NewFile(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, malformed(err.Error())
	}
	rd.f = f
	return rd.object()
}

func malformed(what string) error { return &FormatError{What: what, Reason: ErrMalformed} }

type reader struct {
	r       io.ReaderAt
	size    uint64
	bo      binary.ByteOrder
	is64    bool
	f       *elf.File
	strtabs map[uint32]string // string tables read, by section index
}

// readAt reads n bytes at off, refusing anything past the end of the file
// or over limit before allocating.
func (rd *reader) readAt(off, n, limit uint64, what string) ([]byte, error) {
	if n > limit {
		return nil, malformed(fmt.Sprintf("%s: %d bytes, over the %d-byte limit", what, n, limit))
	}
	if off > rd.size || n > rd.size-off {
		return nil, malformed(fmt.Sprintf("%s: bytes %d+%d outside the %d-byte file", what, off, n, rd.size))
	}
	b := make([]byte, n)
	if n == 0 {
		return b, nil
	}
	if _, err := rd.r.ReadAt(b, int64(off)); err != nil && !(err == io.EOF) {
		return nil, err
	}
	return b, nil
}

// header checks the ELF header and the extent of the header tables before
// debug/elf reads them.
func (rd *reader) header() error {
	var id [64]byte
	n, err := rd.r.ReadAt(id[:min(uint64(len(id)), rd.size)], 0)
	if err != nil && err != io.EOF {
		return err
	}
	if n < 4 || !bytes.Equal(id[:4], []byte(elf.ELFMAG)) {
		return ErrNotELF
	}
	if n < elf.EI_NIDENT {
		return malformed("truncated ELF identification")
	}
	switch elf.Class(id[elf.EI_CLASS]) {
	case elf.ELFCLASS32:
	case elf.ELFCLASS64:
		rd.is64 = true
	default:
		return malformed(fmt.Sprintf("unknown ELF class %d", id[elf.EI_CLASS]))
	}
	switch elf.Data(id[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		rd.bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		rd.bo = binary.BigEndian
	default:
		return malformed(fmt.Sprintf("unknown ELF data encoding %d", id[elf.EI_DATA]))
	}
	if id[elf.EI_VERSION] != byte(elf.EV_CURRENT) {
		return malformed(fmt.Sprintf("unknown ELF version %d", id[elf.EI_VERSION]))
	}
	hsize := 52
	if rd.is64 {
		hsize = 64
	}
	if n < hsize {
		return malformed(fmt.Sprintf("truncated ELF header: %d of %d bytes", n, hsize))
	}
	bo := rd.bo
	var phoff, shoff uint64
	var phentsize, phnum, shentsize, shnum, shstrndx uint64
	if rd.is64 {
		phoff, shoff = bo.Uint64(id[32:]), bo.Uint64(id[40:])
		phentsize, phnum = uint64(bo.Uint16(id[54:])), uint64(bo.Uint16(id[56:]))
		shentsize, shnum, shstrndx = uint64(bo.Uint16(id[58:])), uint64(bo.Uint16(id[60:])), uint64(bo.Uint16(id[62:]))
	} else {
		phoff, shoff = uint64(bo.Uint32(id[28:])), uint64(bo.Uint32(id[32:]))
		phentsize, phnum = uint64(bo.Uint16(id[42:])), uint64(bo.Uint16(id[44:]))
		shentsize, shnum, shstrndx = uint64(bo.Uint16(id[46:])), uint64(bo.Uint16(id[48:])), uint64(bo.Uint16(id[50:]))
	}
	wantPh, wantSh := uint64(32), uint64(40)
	if rd.is64 {
		wantPh, wantSh = 56, 64
	}
	// Extended numbering keeps the real counts in section header 0.
	if shoff != 0 && (shnum == 0 || phnum == 0xffff || shstrndx == uint64(elf.SHN_XINDEX)) {
		if shentsize != wantSh {
			return malformed(fmt.Sprintf("section header size %d, want %d", shentsize, wantSh))
		}
		sh0, err := rd.readAt(shoff, wantSh, wantSh, "section header 0")
		if err != nil {
			return err
		}
		var size0, link0, info0 uint64
		if rd.is64 {
			size0, link0, info0 = bo.Uint64(sh0[32:]), uint64(bo.Uint32(sh0[40:])), uint64(bo.Uint32(sh0[44:]))
		} else {
			size0, link0, info0 = uint64(bo.Uint32(sh0[20:])), uint64(bo.Uint32(sh0[24:])), uint64(bo.Uint32(sh0[28:]))
		}
		if shnum == 0 {
			shnum = size0
		}
		if phnum == 0xffff {
			phnum = info0
		}
		if shstrndx == uint64(elf.SHN_XINDEX) {
			shstrndx = link0
		}
	}
	if phnum > MaxPrograms {
		return malformed(fmt.Sprintf("%d program headers, over the limit of %d", phnum, MaxPrograms))
	}
	if phnum > 0 {
		if phentsize != wantPh {
			return malformed(fmt.Sprintf("program header size %d, want %d", phentsize, wantPh))
		}
		if phoff > rd.size || phnum*wantPh > rd.size-phoff {
			return malformed("program header table outside the file")
		}
	}
	if shoff == 0 {
		shnum = 0
	}
	if shnum > MaxSections {
		return malformed(fmt.Sprintf("%d section headers, over the limit of %d", shnum, MaxSections))
	}
	if shnum > 0 {
		if shentsize != wantSh {
			return malformed(fmt.Sprintf("section header size %d, want %d", shentsize, wantSh))
		}
		if shoff > rd.size || shnum*wantSh > rd.size-shoff {
			return malformed(fmt.Sprintf("section header table (%d entries at %d) outside the %d-byte file", shnum, shoff, rd.size))
		}
		if shstrndx >= shnum {
			return malformed(fmt.Sprintf("section name table index %d out of range (%d sections)", shstrndx, shnum))
		}
	}
	return nil
}

func (rd *reader) object() (*Object, error) {
	f := rd.f
	o := &Object{
		Size:    int64(rd.size),
		Class:   f.Class,
		Data:    f.Data,
		Machine: f.Machine,
		OSABI:   f.OSABI,
		Type:    f.Type,
	}
	o.Arch = ArchOf(f.Class, f.Data, f.Machine)
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := rd.readAt(p.Off, p.Filesz, maxInterp, "PT_INTERP")
			if err != nil {
				return nil, err
			}
			o.Interpreter = cstring(b)
		}
	}
	if err := rd.dynamic(o); err != nil {
		return nil, err
	}
	if err := rd.symbols(o); err != nil {
		return nil, err
	}
	if s := f.Section(".comment"); s != nil && s.Type == elf.SHT_PROGBITS && s.Flags&elf.SHF_COMPRESSED == 0 {
		n := min(s.FileSize, maxComment)
		b, err := rd.readAt(s.Offset, n, maxComment, ".comment")
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, c := range bytes.Split(b, []byte{0}) {
			c := strings.TrimSpace(string(c))
			if c != "" && !seen[c] && len(c) <= 1024 {
				seen[c] = true
				o.Compilers = append(o.Compilers, c)
			}
		}
	}
	o.derive()
	return o, nil
}

// section returns section i, validated for reading.
func (rd *reader) section(i uint32, what string) (*elf.Section, error) {
	if int(i) >= len(rd.f.Sections) || i == 0 {
		return nil, malformed(fmt.Sprintf("%s: section index %d out of range", what, i))
	}
	s := rd.f.Sections[i]
	if s.Type == elf.SHT_NOBITS {
		return nil, malformed(fmt.Sprintf("%s: section %d has no bytes in the file", what, i))
	}
	if s.Flags&elf.SHF_COMPRESSED != 0 {
		return nil, malformed(fmt.Sprintf("%s: section %d is compressed", what, i))
	}
	return s, nil
}

// strtab reads a string table section.
func (rd *reader) strtab(i uint32, what string) (strtab, error) {
	s, err := rd.section(i, what)
	if err != nil {
		return strtab{}, err
	}
	if s.Type != elf.SHT_STRTAB {
		return strtab{}, malformed(fmt.Sprintf("%s: section %d is %v, not a string table", what, i, s.Type))
	}
	if t, ok := rd.strtabs[i]; ok {
		return strtab{s: t, what: what}, nil
	}
	b, err := rd.readAt(s.Offset, s.Size, MaxStringTable, what)
	if err != nil {
		return strtab{}, err
	}
	// b is never written again: share its bytes instead of copying them
	// (symbol names are substrings of the table).
	t := unsafe.String(unsafe.SliceData(b), len(b))
	if rd.strtabs == nil {
		rd.strtabs = map[uint32]string{}
	}
	rd.strtabs[i] = t
	return strtab{s: t, what: what}, nil
}

type strtab struct {
	s    string
	what string
}

// get returns the NUL-terminated string at off.
func (t strtab) get(off uint64) (string, error) {
	if off >= uint64(len(t.s)) {
		if off == 0 && len(t.s) == 0 {
			return "", nil
		}
		return "", malformed(fmt.Sprintf("%s: string offset %d out of range (%d bytes)", t.what, off, len(t.s)))
	}
	rest := t.s[off:]
	end := strings.IndexByte(rest, 0)
	if end < 0 {
		return "", malformed(fmt.Sprintf("%s: string at %d not terminated", t.what, off))
	}
	if end > MaxString {
		return "", malformed(fmt.Sprintf("%s: string at %d is %d bytes, over the %d-byte limit", t.what, off, end, MaxString))
	}
	return rest[:end], nil
}

// dynamic reads the dynamic section: from its section header when there is
// one, else from PT_DYNAMIC (an sstripped object).
func (rd *reader) dynamic(o *Object) error {
	bo := rd.bo
	entsize := uint64(8)
	if rd.is64 {
		entsize = 16
	}
	var data []byte
	var str strtab
	var strAddr, strSize uint64
	haveSection := false
	for i, s := range rd.f.Sections {
		if s.Type != elf.SHT_DYNAMIC {
			continue
		}
		if haveSection {
			return malformed("more than one dynamic section")
		}
		haveSection = true
		if _, err := rd.section(uint32(i), "dynamic section"); err != nil {
			return err
		}
		if s.Size/entsize > MaxDynamic {
			return malformed(fmt.Sprintf("dynamic section: %d entries, over the limit of %d", s.Size/entsize, MaxDynamic))
		}
		b, err := rd.readAt(s.Offset, s.Size, MaxDynamic*entsize, "dynamic section")
		if err != nil {
			return err
		}
		data = b
		if str, err = rd.strtab(s.Link, "dynamic string table"); err != nil {
			return err
		}
	}
	if !haveSection {
		for _, p := range rd.f.Progs {
			if p.Type != elf.PT_DYNAMIC {
				continue
			}
			if p.Filesz/entsize > MaxDynamic {
				return malformed(fmt.Sprintf("PT_DYNAMIC: %d entries, over the limit of %d", p.Filesz/entsize, MaxDynamic))
			}
			b, err := rd.readAt(p.Off, p.Filesz, MaxDynamic*entsize, "PT_DYNAMIC")
			if err != nil {
				return err
			}
			data = b
			o.SymbolsUnknown = true
			break
		}
	}
	if data == nil {
		return nil
	}
	o.Dynamic = true
	type ent struct{ tag, val uint64 }
	var ents []ent
	for off := uint64(0); off+entsize <= uint64(len(data)); off += entsize {
		var tag, val uint64
		if rd.is64 {
			tag, val = bo.Uint64(data[off:]), bo.Uint64(data[off+8:])
		} else {
			tag, val = uint64(bo.Uint32(data[off:])), uint64(bo.Uint32(data[off+4:]))
			if int32(tag) < 0 {
				tag = uint64(int64(int32(tag)))
			}
		}
		if elf.DynTag(tag) == elf.DT_NULL {
			break
		}
		switch elf.DynTag(tag) {
		case elf.DT_STRTAB:
			strAddr = val
		case elf.DT_STRSZ:
			strSize = val
		}
		ents = append(ents, ent{tag, val})
	}
	if !haveSection {
		off, ok := rd.vaddrToOff(strAddr, strSize)
		if !ok {
			return malformed("PT_DYNAMIC: DT_STRTAB outside the loaded segments")
		}
		b, err := rd.readAt(off, strSize, MaxStringTable, "DT_STRTAB")
		if err != nil {
			return err
		}
		str = strtab{s: string(b), what: "DT_STRTAB"}
	}
	for _, e := range ents {
		tag := elf.DynTag(e.tag)
		var list *[]string
		switch tag {
		case elf.DT_NEEDED, elf.DT_SONAME, elf.DT_RPATH, elf.DT_RUNPATH, elf.DT_FILTER, elf.DT_AUXILIARY:
			s, err := str.get(e.val)
			if err != nil {
				return err
			}
			switch tag {
			case elf.DT_NEEDED:
				if len(o.Needed) >= MaxNeeded {
					return malformed(fmt.Sprintf("more than %d DT_NEEDED entries", MaxNeeded))
				}
				o.Needed = append(o.Needed, s)
				continue
			case elf.DT_SONAME:
				o.Soname = s
				continue
			case elf.DT_RPATH:
				list = &o.RPath
			case elf.DT_RUNPATH:
				list = &o.RunPath
			case elf.DT_FILTER:
				list = &o.Filter
			case elf.DT_AUXILIARY:
				list = &o.Auxiliary
			}
			if tag == elf.DT_FILTER || tag == elf.DT_AUXILIARY {
				*list = append(*list, s)
			} else {
				*list = append(*list, strings.Split(s, ":")...)
			}
		case elf.DT_FLAGS_1:
			o.NoDefaultLib = e.val&uint64(elf.DF_1_NODEFLIB) != 0
			o.PIE = e.val&uint64(elf.DF_1_PIE) != 0
		}
	}
	return nil
}

// vaddrToOff maps a virtual address range to a file offset through the
// PT_LOAD segments.
func (rd *reader) vaddrToOff(addr, n uint64) (uint64, bool) {
	for _, p := range rd.f.Progs {
		if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr-p.Vaddr >= p.Filesz {
			continue
		}
		d := addr - p.Vaddr
		if n > p.Filesz-d {
			return 0, false
		}
		return p.Off + d, true
	}
	return 0, false
}

// symbols reads .dynsym with its versions.
func (rd *reader) symbols(o *Object) error {
	var dynsym *elf.Section
	var idx uint32
	for i, s := range rd.f.Sections {
		if s.Type == elf.SHT_DYNSYM {
			if dynsym != nil {
				return malformed("more than one dynamic symbol table")
			}
			dynsym, idx = s, uint32(i)
		}
	}
	if dynsym == nil {
		if o.Dynamic && len(rd.f.Sections) == 0 {
			o.SymbolsUnknown = true
		}
		return nil
	}
	if _, err := rd.section(idx, ".dynsym"); err != nil {
		return err
	}
	symsize := uint64(16)
	if rd.is64 {
		symsize = 24
	}
	if dynsym.Entsize != 0 && dynsym.Entsize != symsize {
		return malformed(fmt.Sprintf(".dynsym entry size %d, want %d", dynsym.Entsize, symsize))
	}
	count := dynsym.Size / symsize
	if count > MaxSymbols {
		return malformed(fmt.Sprintf(".dynsym: %d symbols, over the limit of %d", count, MaxSymbols))
	}
	data, err := rd.readAt(dynsym.Offset, count*symsize, MaxSymbols*symsize, ".dynsym")
	if err != nil {
		return err
	}
	str, err := rd.strtab(dynsym.Link, ".dynsym string table")
	if err != nil {
		return err
	}
	// Version tables.
	var versym []byte
	defer func() { o.hasVersym = versym != nil }()
	defNames := map[uint16]string{}
	needNames := map[uint16][2]string{} // index -> version, file
	for i, s := range rd.f.Sections {
		switch s.Type {
		case elf.SHT_GNU_VERSYM:
			if _, err := rd.section(uint32(i), ".gnu.version"); err != nil {
				return err
			}
			if versym, err = rd.readAt(s.Offset, min(s.Size, count*2), MaxSymbols*2, ".gnu.version"); err != nil {
				return err
			}
		case elf.SHT_GNU_VERDEF:
			if err := rd.verdef(o, uint32(i), s, defNames); err != nil {
				return err
			}
		case elf.SHT_GNU_VERNEED:
			if err := rd.verneed(o, uint32(i), s, needNames); err != nil {
				return err
			}
		}
	}
	bo := rd.bo
	o.Defined = make([]Symbol, 0, count)
	for i := uint64(1); i < count; i++ {
		e := data[i*symsize:]
		var nameOff uint64
		var info, other byte
		var shndx uint16
		var value uint64
		if rd.is64 {
			nameOff, info, other, shndx, value = uint64(bo.Uint32(e)), e[4], e[5], bo.Uint16(e[6:]), bo.Uint64(e[8:])
		} else {
			nameOff, value, info, other, shndx = uint64(bo.Uint32(e)), uint64(bo.Uint32(e[4:])), e[12], e[13], bo.Uint16(e[14:])
		}
		_ = other
		bind, typ := elf.ST_BIND(info), elf.ST_TYPE(info)
		if bind != elf.STB_GLOBAL && bind != elf.STB_WEAK && bind != stbGNUUnique {
			continue
		}
		name, err := str.get(nameOff)
		if err != nil {
			return err
		}
		if name == "" {
			continue
		}
		sym := Symbol{Name: name, Bind: bind, Type: typ}
		if 2*i+2 <= uint64(len(versym)) {
			v := bo.Uint16(versym[2*i:])
			sym.VersionIndex, sym.Hidden = v&0x7fff, v&0x8000 != 0
		} else if versym == nil {
			sym.VersionIndex = 1
		}
		if elf.SectionIndex(shndx) == elf.SHN_UNDEF {
			if bind == stbGNUUnique {
				continue
			}
			if n, ok := needNames[sym.VersionIndex]; ok && sym.VersionIndex >= 2 {
				sym.Version, sym.Library = n[0], n[1]
			}
			sym.Hidden = false
			o.Undefined = append(o.Undefined, sym)
			continue
		}
		// glibc's check_match: no value (and not absolute or TLS), or a type
		// other than these, is never a definition.
		if value == 0 && elf.SectionIndex(shndx) != elf.SHN_ABS && typ != elf.STT_TLS {
			continue
		}
		switch typ {
		case elf.STT_NOTYPE, elf.STT_OBJECT, elf.STT_FUNC, elf.STT_COMMON, elf.STT_TLS, elf.STT_GNU_IFUNC:
		default:
			continue
		}
		if sym.VersionIndex >= 2 {
			sym.Version = defNames[sym.VersionIndex]
		}
		o.Defined = append(o.Defined, sym)
	}
	return nil
}

// verdef reads SHT_GNU_verdef: at most sh_info entries, each inside the
// section, the chain moving strictly forward.
func (rd *reader) verdef(o *Object, idx uint32, s *elf.Section, names map[uint16]string) error {
	if _, err := rd.section(idx, ".gnu.version_d"); err != nil {
		return err
	}
	data, err := rd.readAt(s.Offset, s.Size, MaxVersions*64, ".gnu.version_d")
	if err != nil {
		return err
	}
	str, err := rd.strtab(s.Link, ".gnu.version_d string table")
	if err != nil {
		return err
	}
	bo := rd.bo
	off := uint64(0)
	for n := 0; ; n++ {
		if n >= MaxVersions || (s.Info != 0 && n >= int(s.Info)) {
			break
		}
		if off+20 > uint64(len(data)) {
			return malformed(fmt.Sprintf(".gnu.version_d: entry %d at %d outside the section", n, off))
		}
		e := data[off:]
		if v := bo.Uint16(e); v != 1 {
			return malformed(fmt.Sprintf(".gnu.version_d: entry %d has version %d", n, v))
		}
		flags, ndx, cnt := bo.Uint16(e[2:]), bo.Uint16(e[4:]), bo.Uint16(e[6:])
		aux, next := uint64(bo.Uint32(e[12:])), uint64(bo.Uint32(e[16:]))
		if cnt > 0 {
			a := off + aux
			if aux < 20 || a+8 > uint64(len(data)) {
				return malformed(fmt.Sprintf(".gnu.version_d: entry %d's name outside the section", n))
			}
			name, err := str.get(uint64(bo.Uint32(data[a:])))
			if err != nil {
				return err
			}
			d := VersionDef{Name: name, Index: ndx & 0x7fff, Base: flags&uint16(elf.VER_FLG_BASE) != 0, Weak: flags&uint16(elf.VER_FLG_WEAK) != 0}
			o.VersionDefs = append(o.VersionDefs, d)
			if !d.Base {
				names[d.Index] = name
			}
		}
		if next == 0 {
			break
		}
		if next < 20 {
			return malformed(fmt.Sprintf(".gnu.version_d: entry %d's next link %d goes backwards or overlaps", n, next))
		}
		off += next
	}
	return nil
}

// verneed reads SHT_GNU_verneed with the same bounds as verdef.
func (rd *reader) verneed(o *Object, idx uint32, s *elf.Section, names map[uint16][2]string) error {
	if _, err := rd.section(idx, ".gnu.version_r"); err != nil {
		return err
	}
	data, err := rd.readAt(s.Offset, s.Size, MaxVersions*32, ".gnu.version_r")
	if err != nil {
		return err
	}
	str, err := rd.strtab(s.Link, ".gnu.version_r string table")
	if err != nil {
		return err
	}
	bo := rd.bo
	total := 0
	off := uint64(0)
	for n := 0; ; n++ {
		if s.Info != 0 && n >= int(s.Info) {
			break
		}
		if off+16 > uint64(len(data)) {
			return malformed(fmt.Sprintf(".gnu.version_r: entry %d at %d outside the section", n, off))
		}
		e := data[off:]
		if v := bo.Uint16(e); v != 1 {
			return malformed(fmt.Sprintf(".gnu.version_r: entry %d has version %d", n, v))
		}
		cnt := int(bo.Uint16(e[2:]))
		file, err := str.get(uint64(bo.Uint32(e[4:])))
		if err != nil {
			return err
		}
		aux, next := uint64(bo.Uint32(e[8:])), uint64(bo.Uint32(e[12:]))
		vn := VersionNeed{File: file}
		a := off + aux
		for j := 0; j < cnt; j++ {
			if total++; total > MaxVersions {
				return malformed(fmt.Sprintf(".gnu.version_r: more than %d entries", MaxVersions))
			}
			if a+16 > uint64(len(data)) || a < 16 {
				return malformed(fmt.Sprintf(".gnu.version_r: version %d of %s outside the section", j, file))
			}
			x := data[a:]
			flags, other := bo.Uint16(x[4:]), bo.Uint16(x[6:])
			name, err := str.get(uint64(bo.Uint32(x[8:])))
			if err != nil {
				return err
			}
			nv := NeededVersion{Name: name, Index: other & 0x7fff, Weak: flags&uint16(elf.VER_FLG_WEAK) != 0}
			vn.Versions = append(vn.Versions, nv)
			names[nv.Index] = [2]string{name, file}
			xnext := uint64(bo.Uint32(x[12:]))
			if xnext == 0 {
				break
			}
			if xnext < 16 {
				return malformed(fmt.Sprintf(".gnu.version_r: version %d of %s: next link %d goes backwards or overlaps", j, file, xnext))
			}
			a += xnext
		}
		o.VersionNeeds = append(o.VersionNeeds, vn)
		if total++; total > MaxVersions {
			return malformed(fmt.Sprintf(".gnu.version_r: more than %d entries", MaxVersions))
		}
		if next == 0 {
			break
		}
		if next < 16 {
			return malformed(fmt.Sprintf(".gnu.version_r: entry %d's next link %d goes backwards or overlaps", n, next))
		}
		off += next
	}
	return nil
}

// derive fills the facts computed from what was read.
func (o *Object) derive() {
	o.defIndex = make(map[string][]int32, len(o.Defined))
	for i, d := range o.Defined {
		o.defIndex[d.Name] = append(o.defIndex[d.Name], int32(i))
	}
	for _, vn := range o.VersionNeeds {
		for _, v := range vn.Versions {
			if ver, ok := strings.CutPrefix(v.Name, "GLIBC_"); ok && isVersion(ver) {
				if CompareVersions(ver, o.GlibcRequired) > 0 {
					o.GlibcRequired = ver
				}
			}
		}
	}
	for _, vd := range o.VersionDefs {
		if ver, ok := strings.CutPrefix(vd.Name, "GLIBC_"); ok && isVersion(ver) && !vd.Base {
			if CompareVersions(ver, o.GlibcProvided) > 0 {
				o.GlibcProvided = ver
			}
		}
	}
	interp := baseName(o.Interpreter)
	switch {
	case o.GlibcRequired != "" || o.GlibcProvided != "" || strings.HasPrefix(interp, "ld-linux") || strings.HasPrefix(interp, "ld64.so") || interp == "ld.so.1":
		o.Libc = Glibc
	case strings.HasPrefix(interp, "ld-musl-"):
		o.Libc = Musl
	}
	for _, n := range o.Needed {
		switch {
		case o.Libc == LibcUnknown && n == "libc.so.6":
			o.Libc = Glibc
		case o.Libc == LibcUnknown && n == "libc.so":
			o.Libc = Musl
		}
		for _, p := range []string{"libicuuc.so.", "libicui18n.so."} {
			if v, ok := strings.CutPrefix(n, p); ok && o.ICUMajor == 0 {
				if i := strings.IndexByte(v, '.'); i >= 0 {
					v = v[:i]
				}
				if m, err := strconv.Atoi(v); err == nil && m > 0 && m < 1000 {
					o.ICUMajor = m
				}
			}
		}
	}
	if o.Libc == LibcUnknown && (o.Soname == "libc.so.6" || strings.HasPrefix(o.Soname, "ld-linux")) {
		o.Libc = Glibc
	}
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// isVersion reports whether s is a dotted list of decimal numbers ("2.34").
func isVersion(s string) bool {
	if s == "" {
		return false
	}
	for _, p := range strings.Split(s, ".") {
		if p == "" || len(p) > 9 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// CompareVersions compares two dotted decimal versions ("2.34", "2.4",
// "2.2.5") numerically, part by part: -1 if a < b, 0 if equal, +1 if a > b.
// An empty or non-numeric version sorts before every valid one.
func CompareVersions(a, b string) int {
	va, vb := isVersion(a), isVersion(b)
	switch {
	case !va && !vb:
		return 0
	case !va:
		return -1
	case !vb:
		return 1
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// stbGNUUnique is STB_GNU_UNIQUE (STB_LOOS), which debug/elf does not name.
const stbGNUUnique = elf.SymBind(10)

// Provides reports whether o has a definition that the loader would bind
// the reference ref to, by glibc's rules (elf/dl-lookup.c, check_match):
//
//   - a versioned reference (name@V) binds to a definition of version V;
//     also to a definition without a version name that is not hidden, and
//     to any definition when o has no version table;
//   - an unversioned reference binds to a definition of version index 0, 1
//     or 2 (unversioned, or the object's oldest version), else to the one
//     non-hidden versioned definition when there is exactly one.
//
// Only ref.Name and ref.Version are used.
func (o *Object) Provides(ref Symbol) bool {
	idxs := o.defIndex[ref.Name]
	if o.defIndex == nil {
		for i, d := range o.Defined {
			if d.Name == ref.Name {
				idxs = append(idxs, int32(i))
			}
		}
	}
	versioned := 0
	for _, i := range idxs {
		d := o.Defined[i]
		if ref.Version != "" {
			if !o.hasVersym || d.Version == ref.Version || (d.Version == "" && !d.Hidden) {
				return true
			}
			continue
		}
		if o.hasVersym && d.VersionIndex >= 3 {
			if !d.Hidden {
				versioned++
			}
			continue
		}
		return true
	}
	return ref.Version == "" && versioned == 1
}

// definesVersion reports whether o defines the version name (a non-base
// verdef entry).
func (o *Object) definesVersion(name string) bool {
	for _, d := range o.VersionDefs {
		if !d.Base && d.Name == name {
			return true
		}
	}
	return false
}

// hasVersionDefs reports whether o has a version definition table (glibc
// accepts any version need on a file without one).
func (o *Object) hasVersionDefs() bool { return len(o.VersionDefs) > 0 }
