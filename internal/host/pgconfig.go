package host

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"

	"pgoci/labels"
)

// ErrPGConfig: pg_config could not be run or its output not understood.
// Its text is resolve's, which gives errors carrying it resolve's own
// sentinel at its boundary.
var ErrPGConfig = errors.New("resolve: pg_config")

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
