//go:build e2e

package e2e

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// debAptPhase installs the same packages with apt-get (the .debs of the
// set: the very files pgoci packed), creates the same extensions in a
// server with the same settings, and purges the packages, checking that
// the server's directories are as before.
func debAptPhase(t *testing.T, env *debEnv) {
	if os.Geteuid() != 0 {
		t.Fatal("the apt phase installs Debian packages and must run as root: run the suite with bash .ci/e2e.sh as root")
	}
	pkgs := env.cat.packages()
	before := listing(t, env.serverDirs...)
	preexisting := controlNames(t, env.extDir)
	// Written before apt-get runs, removed once the packages are purged:
	// a run killed in between leaves it, and the next run purges them.
	if err := os.WriteFile(env.aptMarker(), []byte(strings.Join(pkgs, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		timed(t, "apt-get purge", func() {
			if aptPurge(t, pkgs) {
				os.Remove(env.aptMarker())
			}
		})
		sameListing(t, "PostgreSQL 15 server directories after apt-get purge", before, env.serverDirs...)
	})
	args := append([]string{"install", "-y", "-qq", "--no-install-recommends", "-o", "APT::Sandbox::User=root", "-o", unsafeIO}, env.cat.debs...)
	timed(t, "apt-get install", func() {
		if _, err := runEnv(t, []string{"DEBIAN_FRONTEND=noninteractive"}, "apt-get", args...); err != nil {
			t.Fatal(err)
		}
	})
	pg := startPGConf(t, env.cfg.BinDir, env.conf)
	// The names either side offers, so that the report has both columns
	// for every one.
	names := offered(t, pg, preexisting)
	for name := range maps.Keys(env.report.pgoci) {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	timed(t, "CREATE EXTENSION", func() { env.report.apt = createEach(t, pg, names) })
}

// unsafeIO spares dpkg an fsync per file (half of apt-get install's time
// here); what it installs is the same.
const unsafeIO = "Dpkg::Options::=--force-unsafe-io"

func (env *debEnv) aptMarker() string { return filepath.Join(env.cat.dir, "apt-installed") }

// aptPurge purges pkgs and reports whether it succeeded.
func aptPurge(t *testing.T, pkgs []string) bool {
	t.Helper()
	args := append([]string{"purge", "-y", "-qq", "-o", unsafeIO}, pkgs...)
	if _, err := runEnv(t, []string{"DEBIAN_FRONTEND=noninteractive"}, "apt-get", args...); err != nil {
		t.Errorf("purging the packages the apt phase installed: %v", err)
		return false
	}
	if left := dpkgPresent(t, pkgs); len(left) > 0 {
		t.Errorf("still known to dpkg after apt-get purge: %v", left)
		return false
	}
	return true
}

// purgeAptLeftovers purges what the apt phase of a killed run installed
// (its marker file is still there), and fails the test when a package of
// the set is installed anyway: pgoci would find its files in the way.
func purgeAptLeftovers(t *testing.T, env *debEnv) {
	t.Helper()
	data, err := os.ReadFile(env.aptMarker())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		t.Fatal(err)
	default:
		pkgs := strings.Fields(string(data))
		t.Logf("purging %d packages an interrupted run installed", len(dpkgPresent(t, pkgs)))
		// dpkg may have been stopped half way: finish first, then purge.
		if out, err := exec.Command("dpkg", "--configure", "-a").CombinedOutput(); err != nil {
			t.Logf("dpkg --configure -a: %v\n%s", err, out)
		}
		if !aptPurge(t, pkgs) {
			t.FailNow()
		}
		os.Remove(env.aptMarker())
	}
	if present := dpkgPresent(t, env.cat.packages()); len(present) > 0 {
		t.Fatalf("installed with dpkg already: %v; the test installs them itself: purge them", present)
	}
}

// dpkgPresent lists the packages of pkgs that dpkg knows as anything but
// not installed (half installed, or their configuration files left).
func dpkgPresent(t *testing.T, pkgs []string) []string {
	t.Helper()
	// dpkg-query exits 1 when it has never heard of a package: the output
	// is what counts.
	out, _ := exec.Command("dpkg-query", append([]string{"-W", "-f", "${Package} ${db:Status-Status}\n"}, pkgs...)...).Output()
	var present []string
	for _, line := range strings.Split(string(out), "\n") {
		pkg, status, ok := strings.Cut(line, " ")
		if ok && status != "not-installed" && slices.Contains(pkgs, pkg) {
			present = append(present, pkg)
		}
	}
	return present
}
