package linkage

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error this package returns wraps one of them (or a
// context or file system error), so callers test with [errors.Is]. A module
// that cannot load is a [*LoadError]; a malformed input names the file and
// the structure at fault.
var (
	// ErrNotELF: the input does not start with the ELF magic bytes (a linker
	// script named libc.so, a text file, an empty file). Callers walking an
	// image skip such files with errors.Is(err, ErrNotELF).
	ErrNotELF = errors.New("linkage: not an ELF file")
	// ErrMalformed: the input is ELF but a header, table or string is
	// truncated, out of the file, inconsistent, or larger than a limit
	// (the limits are the Max* constants in elf.go).
	ErrMalformed = errors.New("linkage: malformed ELF file")
	// ErrTooLarge: the file is larger than [MaxFileSize] (or an ld.so.cache
	// larger than [MaxLDCacheSize]).
	ErrTooLarge = errors.New("linkage: file too large")
	// ErrBadLDCache: the ld.so.cache bytes are not a cache glibc would use.
	ErrBadLDCache = errors.New("linkage: invalid ld.so.cache")
	// ErrCannotLoad: a module would not load into the server: a needed
	// library not found, a symbol or symbol version not defined, a C library
	// too old, or an object of the wrong class or machine. Always carried
	// by a [*LoadError].
	ErrCannotLoad = errors.New("linkage: module cannot load")
	// ErrWrongPlatform: an object's ELF class or machine is not the platform
	// it is declared for (see [CheckPlatform]).
	ErrWrongPlatform = errors.New("linkage: object does not match the platform")
	// ErrTooManyObjects: resolving a module's closure would read more than
	// the configured number of objects ([Options.MaxObjects]).
	ErrTooManyObjects = errors.New("linkage: too many objects in the closure")
)

// FormatError is a malformed-input error: it names the file (when known) and
// what was wrong. It wraps [ErrMalformed] (or [ErrTooLarge] for a limit on
// the file size, [ErrBadLDCache] for an ld.so.cache, [ErrNotELF] when
// [ReadFile] names a file that is not ELF or not a regular file).
type FormatError struct {
	File   string // path, or "" when read from an io.ReaderAt
	What   string // what was wrong, e.g. "section header table outside the file"
	Reason error  // the sentinel: ErrMalformed, ErrTooLarge or ErrBadLDCache
}

func (e *FormatError) Error() string {
	msg := strings.TrimPrefix(e.Reason.Error(), "linkage: ")
	if e.File != "" {
		return fmt.Sprintf("linkage: %s: %s: %s", e.File, msg, e.What)
	}
	return fmt.Sprintf("linkage: %s: %s", msg, e.What)
}

func (e *FormatError) Unwrap() error { return e.Reason }

// LoadError is the refusal of one module: it wraps [ErrCannotLoad] and lists
// every problem found (Problems, never empty). Error() describes the first
// and counts the others; each [Finding] says what was looked for and where.
type LoadError struct {
	Module   string    // the module as the server would load it (its checked path)
	Problems []Finding // the findings that stop the load, in the order found
}

func (e *LoadError) Error() string {
	if len(e.Problems) == 0 {
		return "linkage: " + baseName(e.Module) + " cannot load"
	}
	msg := "linkage: " + e.Problems[0].String()
	if n := len(e.Problems) - 1; n == 1 {
		msg += " (and 1 more problem)"
	} else if n > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", n)
	}
	return msg
}

func (e *LoadError) Unwrap() error { return ErrCannotLoad }

// PlatformError is returned by [CheckPlatform]: the object's ELF identity
// maps to another platform than the one declared. It wraps
// [ErrWrongPlatform].
type PlatformError struct {
	File     string // the object's path ("" when unknown)
	Declared string // the declared OCI architecture, e.g. "amd64"
	Found    string // the architecture the ELF header says ("" when unknown)
	Machine  string // the ELF machine and class, e.g. "EM_AARCH64 ELFCLASS64"
}

func (e *PlatformError) Error() string {
	found := e.Found
	if found == "" {
		found = "an architecture pgoci does not know"
	}
	return fmt.Sprintf("linkage: %s is %s (%s), not %s", nameOr(e.File, "object"), found, e.Machine, e.Declared)
}

func (e *PlatformError) Unwrap() error { return ErrWrongPlatform }

func nameOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 && i < len(p)-1 {
		return p[i+1:]
	}
	return p
}
