package host

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"pgoci/labels"
)

// DetectLibc asks getconf (glibc), then ldd, then the musl loader. A C
// library that cannot be identified is left unknown (the zero value), or
// musl without a version when only its loader is found.
func DetectLibc(ctx context.Context) labels.Libc {
	if out, err := exec.CommandContext(ctx, "getconf", "GNU_LIBC_VERSION").Output(); err == nil {
		if l, ok := ParseLibc(string(out)); ok {
			return l
		}
	}
	// ldd --version prints to stdout for glibc and to stderr (exit 1) for musl.
	if out, _ := exec.CommandContext(ctx, "ldd", "--version").CombinedOutput(); len(out) > 0 {
		if l, ok := ParseLibc(string(out)); ok {
			return l
		}
	}
	// The musl loader prints its version when run without arguments; one
	// loader is enough (there is one per architecture).
	loaders, _ := filepath.Glob("/lib/ld-musl-*.so.1")
	if len(loaders) == 0 {
		return labels.Libc{}
	}
	out, _ := exec.CommandContext(ctx, loaders[0]).CombinedOutput()
	if l, ok := ParseLibc(string(out)); ok {
		return l
	}
	return labels.Libc{Family: "musl"}
}

var (
	glibcRE = regexp.MustCompile(`(?i)(?:glibc|gnu libc)[^\n]*?(\d+\.\d+(?:\.\d+)?)\s*$`)
	lddRE   = regexp.MustCompile(`(?m)^ldd \(.*\) (\d+\.\d+(?:\.\d+)?)\s*$`)
	muslRE  = regexp.MustCompile(`(?s)musl libc.*?Version (\d+\.\d+(?:\.\d+)?)`)
)

// ParseLibc recognises the output of `getconf GNU_LIBC_VERSION`
// ("glibc 2.36"), `ldd --version` for glibc and musl, and the musl loader's
// usage text.
func ParseLibc(out string) (labels.Libc, bool) {
	first, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if m := muslRE.FindStringSubmatch(out); m != nil {
		return labels.Libc{Family: "musl", Version: m[1]}, true
	}
	if m := lddRE.FindStringSubmatch(first); m != nil {
		return labels.Libc{Family: "glibc", Version: m[1]}, true
	}
	if m := glibcRE.FindStringSubmatch(first); m != nil {
		return labels.Libc{Family: "glibc", Version: m[1]}, true
	}
	return labels.Libc{}, false
}
