package linkage

import (
	"debug/elf"
	"fmt"
	"path"
	"strings"
)

// ArchOf maps an ELF class, byte order and machine to the OCI architecture
// name (GOARCH spelling): "amd64", "386", "arm64", "arm", "ppc64le",
// "ppc64", "s390x", "riscv64", "mips64le", "loong64". It returns "" for a
// combination pgoci does not know.
func ArchOf(class elf.Class, data elf.Data, m elf.Machine) string {
	is64 := class == elf.ELFCLASS64
	le := data == elf.ELFDATA2LSB
	switch m {
	case elf.EM_X86_64:
		if is64 {
			return "amd64"
		}
	case elf.EM_386:
		if !is64 {
			return "386"
		}
	case elf.EM_AARCH64:
		if is64 && le {
			return "arm64"
		}
	case elf.EM_ARM:
		if !is64 && le {
			return "arm"
		}
	case elf.EM_PPC64:
		if is64 {
			if le {
				return "ppc64le"
			}
			return "ppc64"
		}
	case elf.EM_S390:
		if is64 {
			return "s390x"
		}
	case elf.EM_RISCV:
		if is64 && le {
			return "riscv64"
		}
	case elf.EM_MIPS:
		if is64 && le {
			return "mips64le"
		}
	case elf.EM_LOONGARCH:
		if is64 && le {
			return "loong64"
		}
	}
	return ""
}

// CheckPlatform checks that o is built for the OCI architecture arch
// ("amd64", "arm64", ...; "x86_64" and "aarch64" are accepted as aliases).
// A mismatch is a [*PlatformError] wrapping [ErrWrongPlatform]; pack uses
// it to refuse, say, an arm64 module in an amd64 image.
func CheckPlatform(o *Object, arch string) error {
	want := normalizeArch(arch)
	if o.Arch != "" && o.Arch == want {
		return nil
	}
	return &PlatformError{File: o.Path, Declared: arch, Found: o.Arch, Machine: fmt.Sprintf("%v %v", o.Machine, o.Class)}
}

func normalizeArch(a string) string {
	switch strings.ToLower(a) {
	case "x86_64", "x86-64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "i386", "i686", "386":
		return "386"
	case "armhf", "armv7", "armv7l", "arm":
		return "arm"
	case "ppc64el", "ppc64le":
		return "ppc64le"
	}
	return strings.ToLower(a)
}

// triplet is the Debian multiarch tuple for an architecture.
func triplet(arch string) string {
	switch arch {
	case "amd64":
		return "x86_64-linux-gnu"
	case "386":
		return "i386-linux-gnu"
	case "arm64":
		return "aarch64-linux-gnu"
	case "arm":
		return "arm-linux-gnueabihf"
	case "ppc64le":
		return "powerpc64le-linux-gnu"
	case "ppc64":
		return "powerpc64-linux-gnu"
	case "s390x":
		return "s390x-linux-gnu"
	case "riscv64":
		return "riscv64-linux-gnu"
	case "mips64le":
		return "mips64el-linux-gnuabi64"
	case "loong64":
		return "loongarch64-linux-gnu"
	}
	return ""
}

// DefaultDirs returns the directories the dynamic loader searches last (its
// compiled-in "system search path") for objects of the given family,
// class and machine:
//
//   - glibc: /lib/<triplet> and /usr/lib/<triplet> (Debian and Ubuntu
//     multiarch), then /lib64 and /usr/lib64 for 64-bit objects (Fedora,
//     RHEL, SUSE, Arch), then /lib and /usr/lib. No single glibc build
//     searches all of these; each directory missing on a system is simply
//     absent, so the union finds what the distribution's own loader finds.
//   - musl: /lib, /usr/local/lib, /usr/lib (musl's default when
//     /etc/ld-musl-<arch>.path is absent).
func DefaultDirs(family LibcFamily, class elf.Class, data elf.Data, m elf.Machine) []string {
	if family == Musl {
		return []string{"/lib", "/usr/local/lib", "/usr/lib"}
	}
	var dirs []string
	if t := triplet(ArchOf(class, data, m)); t != "" {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	if class == elf.ELFCLASS64 {
		dirs = append(dirs, "/lib64", "/usr/lib64")
	}
	return append(dirs, "/lib", "/usr/lib")
}

// ld.so.cache entry flags (glibc's sysdeps/generic/ldconfig.h).
const (
	flagTypeMask     = 0x00ff
	flagELF          = 0x0001
	flagELFLibc6     = 0x0003
	flagRequiredMask = 0xff00
	flagX8664Lib64   = 0x0300
	flagS390Lib64    = 0x0400
	flagPowerPCLib64 = 0x0500
	flagX8664LibX32  = 0x0800
	flagARMLibHF     = 0x0900
	flagAArch64Lib64 = 0x0a00
	flagARMLibSF     = 0x0b00
	flagRISCVDouble  = 0x1000
	flagRISCVSoft    = 0x0f00
	flagLArchDouble  = 0x1200
	flagMIPS64LibN64 = 0x0700
	flagMIPS64N64N08 = 0x0e00
)

// cacheFlagsOK reports whether an ld.so.cache entry's flags fit objects of
// the given class and machine, as glibc's _dl_cache_check_flags does for
// the loader of that machine.
func cacheFlagsOK(flags int32, class elf.Class, data elf.Data, m elf.Machine) bool {
	f := int(flags)
	if f&flagTypeMask != flagELFLibc6 && f&flagTypeMask != flagELF {
		return false
	}
	req := f & flagRequiredMask
	switch ArchOf(class, data, m) {
	case "amd64":
		return req == flagX8664Lib64
	case "386":
		return req == 0
	case "arm64":
		return req == flagAArch64Lib64
	case "arm":
		return req == flagARMLibHF || req == flagARMLibSF || req == 0
	case "ppc64le", "ppc64":
		return req == flagPowerPCLib64
	case "s390x":
		return req == flagS390Lib64
	case "riscv64":
		return req == flagRISCVDouble || req == flagRISCVSoft
	case "loong64":
		return req == flagLArchDouble
	case "mips64le":
		return req == flagMIPS64LibN64 || req == flagMIPS64N64N08
	}
	if m == elf.EM_X86_64 && class == elf.ELFCLASS32 {
		return req == flagX8664LibX32
	}
	return false
}

// sameKind reports whether two objects can live in one process: same
// class, byte order and machine (what ld.so checks before it maps a
// candidate; one that differs is skipped and the search goes on).
func sameKind(a, b *Object) bool {
	return a.Class == b.Class && a.Data == b.Data && a.Machine == b.Machine
}

// isSystemDir reports whether dir is a standard system library directory
// (or under one): /lib, /usr/lib, /lib64, /usr/lib64, /lib32, /usr/lib32,
// /usr/local/lib, their multiarch subdirectories, and /opt is not one.
func isSystemDir(dir string) bool {
	d := path.Clean(dir)
	for _, p := range []string{"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/lib32", "/usr/lib32", "/libx32", "/usr/libx32", "/usr/local/lib", "/usr/local/lib64"} {
		if d == p || strings.HasPrefix(d, p+"/") {
			return true
		}
	}
	return false
}
