package resolve

import (
	"context"
	"io"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/host"
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
	t.Distro, _ = host.ReadOSRelease(opts.OSRelease)
	t.Libc = host.DetectLibc(ctx)
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
func HostPlatform() ocispec.Platform { return host.Platform() }

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
	cfg, err := host.ReadPGConfig(ctx, path)
	return PGConfig(cfg), pgConfigErr(err)
}

// ParsePGConfig parses the output of pg_config run with no argument.
func ParsePGConfig(r io.Reader) (PGConfig, error) {
	cfg, err := host.ParsePGConfig(r)
	return PGConfig(cfg), pgConfigErr(err)
}

// ParsePGVersion parses pg_config's VERSION ("PostgreSQL 18.4",
// "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)", "PostgreSQL 18beta1",
// "PostgreSQL 9.6.24") into major, version_num and version.
func ParsePGVersion(s string) (labels.PG, error) {
	pg, err := host.ParsePGVersion(s)
	return pg, pgConfigErr(err)
}

// ParseOSRelease reads ID, VERSION_ID and VERSION_CODENAME from an
// os-release file (shell-style KEY=value, values optionally quoted).
func ParseOSRelease(r io.Reader) (labels.Distro, error) { return host.ParseOSRelease(r) }

// ParseLibc recognises the output of `getconf GNU_LIBC_VERSION`
// ("glibc 2.36"), `ldd --version` for glibc and musl, and the musl loader's
// usage text.
func ParseLibc(out string) (labels.Libc, bool) { return host.ParseLibc(out) }
