//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"pgoci/extension"
	"pgoci/labels"
	"pgoci/resolve"
)

// bigLayerSize makes the layer of the "big" package large enough that the
// registry is still sending it when the test kills the registry: random,
// so that compression cannot shrink it.
const bigLayerSize = 96 << 20

// bigTree writes an extension tree whose module is bigLayerSize random
// bytes (never loaded: the install must fail before).
func bigTree(t *testing.T) string {
	t.Helper()
	tree := t.TempDir()
	files := map[string]string{
		"share/extension/big.control":  "comment = 'a large module'\ndefault_version = '1.0'\nmodule_pathname = '$libdir/big'\nrelocatable = true\n",
		"share/extension/big--1.0.sql": "CREATE FUNCTION big() RETURNS int AS 'MODULE_PATHNAME' LANGUAGE C;\n",
		"licenses/big/LICENSE":         "PostgreSQL\n",
	}
	for name, body := range files {
		p := filepath.Join(tree, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(tree, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(tree, "lib", "big.so"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, bigLayerSize); err != nil {
		t.Fatal(err)
	}
	return tree
}

// TestFaults: on the real registry, each failure is a clear error and
// leaves the install root exactly as it was (compared by a listing with
// hashes): the registry killed while a large layer downloads, wrong
// credentials, a missing tag and an image for no compatible target. The
// root already holds cube, so "unchanged" means something.
func TestFaults(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t, "")
	server := pg18Copy(t)
	trees := extractContrib(t, server, sharedTempDir(t), "cube")
	target := resolve.Target{PG: labels.PG{Major: 18}, Platform: resolve.HostPlatform(), Libc: hostLibc(t)}
	build := pg18Build
	build.PG = labels.PG{Major: 18}
	cube := pushVariants(t, reg.Host+"/faults/cube", trees["cube"], variants(build), extension.Zstd)
	cubeRef := reg.Host + "/faults/cube:" + cube[0].Metadata.Package.Version
	incompatible := pushVariants(t, reg.Host+"/faults/cube-incompatible", trees["cube"], variants(build)[1:], extension.Zstd)
	incompatibleRef := reg.Host + "/faults/cube-incompatible:" + incompatible[0].Metadata.Package.Version
	pushVariants(t, reg.Host+"/faults/big", bigTree(t), []extension.Build{{Platform: resolve.HostPlatform(), Metadata: build}}, extension.Zstd)

	root := t.TempDir()
	cache := t.TempDir()
	if _, err := openRoot(t, extension.RootOptions{Root: root, CacheDir: cache, Target: target}).Install(ctx, cubeRef, extension.InstallOptions{}); err != nil {
		t.Fatalf("install cube: %v", err)
	}
	before := listing(t, root)
	targetFlags := []string{"--pg-major", "18", "--libc", target.Libc.Family + "-" + target.Libc.Version}

	cliFault := func(t *testing.T, env []string, ref string, wants ...string) {
		t.Helper()
		args := append([]string{"install", ref, "--root", root, "--cache", cache}, targetFlags...)
		out, err := runEnv(t, env, pgociBin, args...)
		if err == nil {
			t.Fatalf("pgoci install %s succeeded:\n%s", ref, out)
		}
		for _, want := range wants {
			if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
				t.Errorf("pgoci install %s: the error does not say %q:\n%s", ref, want, out)
			}
		}
		t.Logf("pgoci install %s:\n%s", ref, out)
		sameListing(t, "install root", before, root)
	}

	t.Run("missing tag", func(t *testing.T) {
		cliFault(t, nil, reg.Host+"/faults/cube:9.9", "9.9", "not found")
	})
	t.Run("incompatible target", func(t *testing.T) {
		cliFault(t, nil, incompatibleRef, "no image fits", "pg.major", "platform")
	})
	t.Run("wrong credentials", func(t *testing.T) {
		htpasswd := filepath.Join(t.TempDir(), "htpasswd")
		line := run(t, "htpasswd", "-Bbn", "pgoci", "right-password")
		if err := os.WriteFile(htpasswd, []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		authReg := startRegistry(t, htpasswd)
		ref := authReg.Host + "/faults/cube:" + cube[0].Metadata.Package.Version
		// The right password works: pgoci copy pushes with it.
		pgociEnv(t, dockerConfig(t, authReg.Host, "pgoci", "right-password"), "copy", cubeRef, ref)
		cliFault(t, dockerConfig(t, authReg.Host, "pgoci", "wrong-password"), ref, "401", "unauthorized")
		// No credential at all: oras-go says so before asking the registry.
		cliFault(t, []string{"DOCKER_CONFIG=" + t.TempDir()}, ref, "credential not found")
	})
	t.Run("registry killed mid-install", func(t *testing.T) {
		var once sync.Once
		var fetched int64
		_, err := openRoot(t, extension.RootOptions{
			Root: root, CacheDir: cache, Target: target,
			Events: func(ev extension.Event) {
				if ev.Kind == extension.EventFetch && ev.Bytes > 0 {
					once.Do(func() { fetched = ev.Bytes; reg.Kill(t) })
				}
			},
		}).Install(ctx, reg.Host+"/faults/big:1.0", extension.InstallOptions{})
		if fetched == 0 {
			t.Fatalf("the registry was never killed (install error: %v)", err)
		}
		if err == nil {
			t.Fatalf("install succeeded after the registry was killed at %d of %d bytes", fetched, bigLayerSize)
		}
		t.Logf("killed after %d bytes: %v", fetched, err)
		if !strings.Contains(err.Error(), "big") {
			t.Errorf("the error does not name the package: %v", err)
		}
		var inc *resolve.IncompatibleError
		if errors.As(err, &inc) {
			t.Errorf("a network failure reported as incompatible: %v", err)
		}
		sameListing(t, "install root", before, root)
		// Nothing half-downloaded entered the cache.
		for _, line := range listing(t, cache) {
			if strings.Contains(line, " file ") && strings.Contains(line, fmt.Sprint(" ", bigLayerSize, " ")) {
				t.Errorf("cache holds a blob of the layer's size: %s", line)
			}
		}
	})
}

// dockerConfig writes a Docker configuration file with one credential and
// returns the DOCKER_CONFIG setting naming its directory.
func dockerConfig(t *testing.T, host, user, password string) []string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	body := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"DOCKER_CONFIG=" + dir}
}

// pgociEnv runs the pgoci CLI with extra environment variables and fails
// the test if it fails.
func pgociEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, err := runEnv(t, env, pgociBin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
