package resolve

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/labels"
	"pgoci/linkage"
)

// DetectOptions tunes [Detect]. The zero value detects everything from the
// standard places.
type DetectOptions struct {
	// PGConfig is the pg_config program of the server. Default: "pg_config"
	// looked up on PATH.
	PGConfig string
	// OSRelease is the os-release file. Default: /etc/os-release, then
	// /usr/lib/os-release.
	OSRelease string
	// Config is pg_config's output already read ([ReadPGConfig]); when
	// set, PGConfig is not run again. Default: none.
	Config *PGConfig
}

// Detect describes the server on this machine: PostgreSQL from pg_config,
// the distribution from os-release, the C library from getconf or the
// dynamic loader, and the platform from the Go runtime. A pg_config that
// cannot be run is an error ([ErrPGConfig]); a distribution or C library
// that cannot be identified is left unknown.
func Detect(ctx context.Context, opts DetectOptions) (Target, error) {
	var cfg PGConfig
	if opts.Config != nil {
		cfg = *opts.Config
	} else {
		var err error
		if cfg, err = ReadPGConfig(ctx, opts.PGConfig); err != nil {
			return Target{}, err
		}
	}
	t := Target{PG: cfg.PG, Platform: HostPlatform()}
	t.Distro, _ = readOSRelease(opts.OSRelease)
	t.Libc = detectLibc(ctx)
	t.ICUMajor, t.Compiler = serverBuild(cfg.BinDir)
	return t, nil
}

// serverBuild reads the ICU major and the compiler from the server
// executable in bindir (zero values when it cannot be read: they are
// reported unknown, never guessed).
func serverBuild(bindir string) (icu int, compiler string) {
	if bindir == "" {
		return 0, ""
	}
	o, err := linkage.ReadFile(filepath.Join(bindir, "postgres"))
	if err != nil {
		return 0, ""
	}
	return o.ICUMajor, o.CompilerVersion()
}

// HostPlatform is the platform of the running process, with the variant
// spelled the way OCI indexes spell it (arm64 -> v8, arm -> v5..v7).
func HostPlatform() ocispec.Platform {
	p := ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	switch runtime.GOARCH {
	case "arm64":
		p.Variant = "v8"
	case "arm":
		p.Variant = goarmVariant()
	}
	return p
}

// PGConfig is what pg_config says of a PostgreSQL installation.
type PGConfig struct {
	PG        labels.PG
	BinDir    string
	ShareDir  string // the extension directory is ShareDir/extension
	PkgLibDir string // $libdir
	CC        string
	Configure string
}

// ReadPGConfig runs pg_config once (path "" means "pg_config" on PATH) and
// parses its "NAME = value" listing.
func ReadPGConfig(ctx context.Context, path string) (PGConfig, error) {
	if path == "" {
		path = "pg_config"
	}
	out, err := exec.CommandContext(ctx, path).Output()
	if err != nil {
		return PGConfig{}, fmt.Errorf("%w: run %s: %v", ErrPGConfig, path, err)
	}
	cfg, err := ParsePGConfig(bytes.NewReader(out))
	if err != nil {
		return PGConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParsePGConfig parses the output of pg_config run with no argument.
func ParsePGConfig(r io.Reader) (PGConfig, error) {
	vals := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " = ")
		if ok {
			vals[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return PGConfig{}, fmt.Errorf("%w: %v", ErrPGConfig, err)
	}
	pg, err := ParsePGVersion(vals["VERSION"])
	if err != nil {
		return PGConfig{}, err
	}
	cfg := PGConfig{PG: pg, BinDir: vals["BINDIR"], ShareDir: vals["SHAREDIR"],
		PkgLibDir: vals["PKGLIBDIR"], CC: vals["CC"], Configure: vals["CONFIGURE"]}
	if cfg.ShareDir == "" || cfg.PkgLibDir == "" {
		return PGConfig{}, fmt.Errorf("%w: SHAREDIR or PKGLIBDIR missing from the listing", ErrPGConfig)
	}
	return cfg, nil
}

var pgVersionRE = regexp.MustCompile(`^PostgreSQL (\d+)(?:\.(\d+))?(?:\.(\d+))?([a-z]+\d*)?`)

// ParsePGVersion parses pg_config's VERSION ("PostgreSQL 18.4",
// "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)", "PostgreSQL 18beta1",
// "PostgreSQL 9.6.24") into major, version_num and version.
func ParsePGVersion(s string) (labels.PG, error) {
	m := pgVersionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return labels.PG{}, fmt.Errorf("%w: VERSION %q (want \"PostgreSQL <major>.<minor>\")", ErrPGConfig, s)
	}
	nums := make([]int, 3)
	for i := range nums {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil || n > 999 {
				return labels.PG{}, fmt.Errorf("%w: VERSION %q has an out-of-range number", ErrPGConfig, s)
			}
			nums[i] = n
		}
	}
	// Before 10 the major version had two parts (9.6); those servers are
	// long out of support and their layout predates everything pgoci does.
	if nums[0] < 10 {
		return labels.PG{}, fmt.Errorf("%w: VERSION %q: PostgreSQL 10 or newer is required", ErrPGConfig, s)
	}
	return labels.PG{
		Major:      nums[0],
		VersionNum: nums[0]*10000 + nums[1],
		Version:    strings.TrimPrefix(m[0], "PostgreSQL "),
	}, nil
}

func readOSRelease(path string) (labels.Distro, error) {
	paths := []string{"/etc/os-release", "/usr/lib/os-release"}
	if path != "" {
		paths = []string{path}
	}
	var firstErr error
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		defer f.Close()
		return ParseOSRelease(f)
	}
	return labels.Distro{}, firstErr
}

// ParseOSRelease reads ID, VERSION_ID and VERSION_CODENAME from an
// os-release file (shell-style KEY=value, values optionally quoted).
func ParseOSRelease(r io.Reader) (labels.Distro, error) {
	var d labels.Distro
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		v = unquoteShell(v)
		switch k {
		case "ID":
			d.ID = v
		case "VERSION_ID":
			d.Version = v
		case "VERSION_CODENAME":
			d.Codename = v
		}
	}
	return d, sc.Err()
}

func unquoteShell(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(v)
}

// detectLibc asks getconf (glibc), then ldd, then the musl loader.
func detectLibc(ctx context.Context) labels.Libc {
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

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// goarmVariant reads the GOARM the binary was built for ("7" or "7,softfloat").
func goarmVariant() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOARM" {
				v, _, _ := strings.Cut(s.Value, ",")
				return "v" + v
			}
		}
	}
	return "v7"
}
