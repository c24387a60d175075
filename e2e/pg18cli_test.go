//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/extension"
	"pgoci/labels"
	"pgoci/resolve"
)

// otherArch is an architecture this machine is not.
func otherArch() string {
	if resolve.HostPlatform().Architecture == "arm64" {
		return "amd64"
	}
	return "arm64"
}

// variants are the builds pushed for each contrib package: the real one
// (PostgreSQL 18, this machine), and two that no PostgreSQL 18 server here
// may load: the same files labelled for PostgreSQL 17, and for another
// architecture. Resolution must reject both.
func variants(build labels.Metadata) []extension.Build {
	pg17 := build
	pg17.PG = labels.PG{Major: 17}
	return []extension.Build{
		{Platform: resolve.HostPlatform(), Metadata: build},
		{Platform: resolve.HostPlatform(), Metadata: pg17},
		{Platform: ocispec.Platform{OS: "linux", Architecture: otherArch()}, Metadata: build},
	}
}

// TestPG18InstallCLI drives the pgoci binary against a running PostgreSQL
// 18: `pgoci install earthdistance` (cube comes along as a dependency from
// the same registry namespace) into the root the server already names;
// CREATE EXTENSION works with no restart and no reload; `pgoci uninstall`
// removes the files and the server restarts cleanly.
func TestPG18InstallCLI(t *testing.T) {
	host := registry(t)
	server := pg18Copy(t)
	trees := extractContrib(t, server, sharedTempDir(t), "cube", "earthdistance")
	root := newRoot(t)
	pg := startPG(t, filepath.Join(server, "bin"), root)
	target := pg.target(t)
	build := pg18Build
	build.PG = target.PG

	wantDigest := map[string]string{}
	refs := map[string]string{}
	for _, name := range []string{"cube", "earthdistance"} {
		imgs := pushVariants(t, host+"/cli/"+name, trees[name], variants(build), extension.Zstd)
		wantDigest[name] = imgs[0].Manifest.Digest.String()
		refs[name] = host + "/cli/" + name + ":" + imgs[0].Metadata.Package.Version
	}
	// Only the incompatible builds, alone under a tag of their own.
	imgs := pushVariants(t, host+"/cli-incompatible/cube", trees["cube"], variants(build)[1:], extension.Zstd)
	incompatible := host + "/cli-incompatible/cube:" + imgs[0].Metadata.Package.Version

	targetFlags := []string{"--pg-major", "18", "--libc", target.Libc.Family + "-" + target.Libc.Version}
	t.Run("resolve rejects other major and architecture", func(t *testing.T) {
		out := pgoci(t, append([]string{"resolve", refs["cube"]}, targetFlags...)...)
		if !strings.Contains(out, wantDigest["cube"]) {
			t.Errorf("pgoci resolve %s printed %q, want the PostgreSQL 18 %s build %s", refs["cube"], out, resolve.PlatformString(resolve.HostPlatform()), wantDigest["cube"])
		}
		out, err := pgociErr(t, append([]string{"resolve", incompatible}, targetFlags...)...)
		if err == nil {
			t.Fatalf("pgoci resolve %s succeeded: %s", incompatible, out)
		}
		for _, want := range []string{"pg.major", "platform", "2 candidates rejected"} {
			if !strings.Contains(out, want) {
				t.Errorf("pgoci resolve %s: output lacks %q:\n%s", incompatible, want, out)
			}
		}
	})

	started := pg.query(t, "SELECT pg_postmaster_start_time(), pg_conf_load_time()")
	cache := t.TempDir()
	out := pgoci(t, append([]string{"install", refs["earthdistance"], "--root", root, "--cache", cache}, targetFlags...)...)
	for _, want := range []string{"requires cube", "installed cube", "as a dependency", "installed earthdistance", wantDigest["earthdistance"]} {
		if !strings.Contains(out, want) {
			t.Errorf("pgoci install output lacks %q:\n%s", want, out)
		}
	}
	pg.query(t, "CREATE EXTENSION earthdistance CASCADE")
	if d := pg.query(t, "SELECT round(earth_distance(ll_to_earth(0,0), ll_to_earth(0,1)))"); d != "111320" {
		t.Errorf("earth_distance of one degree on the equator = %s m, want 111320", d)
	}
	if now := pg.query(t, "SELECT pg_postmaster_start_time(), pg_conf_load_time()"); now != started {
		t.Errorf("server restarted or reloaded: start and conf load time %q, then %q", started, now)
	}
	if out := pgoci(t, "list", "--root", root); !strings.Contains(out, "cube") || !strings.Contains(out, "earthdistance") {
		t.Errorf("pgoci list:\n%s", out)
	}
	pgoci(t, "verify", "--root", root)

	// cube is required by earthdistance: refused while it is installed.
	if out, err := pgociErr(t, "uninstall", "cube", "--root", root); err == nil || !strings.Contains(out, "earthdistance") {
		t.Errorf("pgoci uninstall cube while earthdistance needs it: err %v, output %q", err, out)
	}
	pg.query(t, "DROP EXTENSION earthdistance, cube")
	pgoci(t, "uninstall", "earthdistance", "--root", root)
	pgoci(t, "uninstall", "cube", "--root", root)
	if files := rootFiles(t, root); len(files) != 0 {
		t.Errorf("files left in the root after uninstall: %q", files)
	}
	pg.as(t, "pg_ctl", "-D", pg.data, "-l", pg.log, "-m", "fast", "-w", "-t", "60", "restart")
	if n := pg.query(t, "SELECT count(*) FROM pg_available_extensions WHERE name IN ('cube', 'earthdistance')"); n != "0" {
		t.Errorf("after uninstall the server still offers %s of cube and earthdistance", n)
	}
	if _, err := pg.exec("CREATE EXTENSION cube"); err == nil {
		t.Error("CREATE EXTENSION cube succeeded after the uninstall")
	}
}

// rootFiles lists what is not a directory in root, outside pgoci's state
// directory .pgoci (records, lock file and lock.json, which outlive an
// uninstall).
func rootFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	for _, line := range listing(t, root) {
		rel := strings.TrimPrefix(line, root+"/")
		if strings.HasPrefix(rel, ".pgoci") || strings.Contains(line, " dir ") {
			continue
		}
		files = append(files, rel)
	}
	return files
}
