//go:build e2e

package e2e

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"pgoci/extension"
	"pgoci/labels"
	"pgoci/resolve"
)

// TestPG15ModeCLI: PostgreSQL 17-and-older mode against Debian's
// postgresql-15. The files of Debian's postgresql-15-prefix package
// (extracted with dpkg-deb, never installed by dpkg) are packed and pushed;
// `pgoci install --pg-config` puts them into the server's own sharedir and
// pkglibdir while the server runs; CREATE EXTENSION prefix works; `pgoci
// uninstall` leaves both directories exactly as they were, byte for byte.
// The system directories are shared with every other test and run, so the
// package is removed when the test ends whatever happened.
func TestPG15ModeCLI(t *testing.T) {
	host := registry(t)
	ctx := context.Background()
	pgc := pgEnv(t, "PGOCI_E2E_PG15_PGCONFIG")
	cfg, err := resolve.ReadPGConfig(ctx, pgc)
	if err != nil {
		t.Fatalf("%v: run the suite with bash .ci/e2e.sh", err)
	}
	serverDirs := []string{filepath.Join(cfg.ShareDir, "extension"), cfg.PkgLibDir}
	before := listing(t, serverDirs...)
	for _, line := range before {
		if strings.Contains(line, "/prefix") {
			t.Fatalf("the server directories already hold prefix files (%s): a previous run left them; .ci/e2e.sh removes such leftovers", line)
		}
	}

	deb := pgEnv(t, "PGOCI_E2E_PG15_EXTDEB")
	libc := hostLibc(t)
	build := extension.Build{Platform: resolve.HostPlatform(), Metadata: labels.Metadata{
		PG:     labels.PG{Major: 15},
		Libc:   libc,
		Distro: labels.Distro{ID: "debian", Version: "12"},
	}}
	imgs := pushVariants(t, host+"/pg15/prefix", deb, []extension.Build{build}, extension.Zstd)
	ref := host + "/pg15/prefix:" + imgs[0].Metadata.Package.Version

	state := t.TempDir()
	t.Cleanup(func() {
		_, err := openRoot(t, extension.RootOptions{PGConfig: pgc, StateDir: state}).Uninstall(context.Background(), "prefix", extension.UninstallOptions{Force: true})
		if err != nil && !errors.Is(err, extension.ErrNotInstalled) {
			t.Errorf("cleanup: uninstall prefix: %v", err)
		}
		sameListing(t, "PostgreSQL 15 server directories", before, serverDirs...)
	})

	pg := startPG(t, cfg.BinDir)
	out := pgoci(t, "install", ref, "--pg-config", pgc, "--state", state, "--cache", t.TempDir())
	if !strings.Contains(out, "installed prefix") {
		t.Errorf("pgoci install output:\n%s", out)
	}
	pg.query(t, "CREATE EXTENSION prefix")
	if got := pg.query(t, "SELECT '0123'::prefix_range @> '0123456789'"); got != "t" {
		t.Errorf("prefix_range @> = %q, want t", got)
	}
	pgoci(t, "verify", "--pg-config", pgc, "--state", state)
	pg.query(t, "DROP EXTENSION prefix")
	pgoci(t, "uninstall", "prefix", "--pg-config", pgc, "--state", state)
	sameListing(t, "PostgreSQL 15 server directories after uninstall", before, serverDirs...)
	if n := pg.query(t, "SELECT count(*) FROM pg_available_extensions WHERE name = 'prefix'"); n != "0" {
		t.Errorf("the server still offers prefix after the uninstall")
	}
}
