//go:build e2e

package e2e

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/extension"
	"pgoci/resolve"
)

// cnpgAnnotations are the annotations (and config labels) CloudNativePG's
// postgres-extensions-containers put on an extension image (its
// docker-bake.hcl): OCI keys, and io.cloudnativepg.image.base.* naming the
// PostgreSQL image the extension was built against. No pgoci key.
func cnpgAnnotations(name, version string) map[string]string {
	const url = "https://github.com/cloudnative-pg/postgres-extensions-containers"
	return map[string]string{
		"org.opencontainers.image.created":     "2026-01-01T00:00:00Z",
		"org.opencontainers.image.url":         url,
		"org.opencontainers.image.source":      url,
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.vendor":      "The CloudNativePG Contributors",
		"org.opencontainers.image.title":       fmt.Sprintf("%s %s 18 bookworm", name, version),
		"org.opencontainers.image.description": fmt.Sprintf("A %s %s container image for PostgreSQL 18 on bookworm", name, version),
		"org.opencontainers.image.authors":     "The CloudNativePG Contributors",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.base.name":   "scratch",
		"io.cloudnativepg.image.base.name":     "ghcr.io/cloudnative-pg/postgresql:18-minimal-bookworm",
		"io.cloudnativepg.image.base.pgmajor":  "18",
		"io.cloudnativepg.image.base.os":       "bookworm",
	}
}

// orasPushCNPG builds an image in the CloudNativePG image-volume layout
// without pgoci: a gzip tar of tree (share/extension, lib) and an image
// config written here, pushed with `oras push` as a normal image manifest
// (config media type application/vnd.oci.image.config.v1+json) carrying
// CloudNativePG's annotations.
func orasPushCNPG(t *testing.T, ref, tree string, annotations map[string]string) {
	t.Helper()
	dir := t.TempDir()
	diffID := writeTarGz(t, tree, filepath.Join(dir, "layer.tar.gz"))
	host := resolve.HostPlatform()
	config := map[string]any{
		"architecture": host.Architecture,
		"os":           host.OS,
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{diffID.String()}},
		"config":       map[string]any{"Labels": annotations},
	}
	b, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"push", "--plain-http", "--disable-path-validation", ref,
		"--config", "config.json:" + ocispec.MediaTypeImageConfig}
	for k, v := range annotations {
		args = append(args, "--annotation", k+"="+v)
	}
	args = append(args, "layer.tar.gz:"+ocispec.MediaTypeImageLayerGzip)
	// oras names each layer by the path given, relative to its directory.
	if out, err := runIn(t, dir, nil, "oras", args...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// writeTarGz writes the files under tree into a gzip tar at dst, the way
// a Dockerfile COPY would (paths relative to the image root), and returns
// the digest of the uncompressed tar (the config's diff_id).
func writeTarGz(t *testing.T, tree, dst string) digest.Digest {
	t.Helper()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	h := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(gz, h))
	err = filepath.WalkDir(tree, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == tree {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(tree, path)
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil || !d.Type().IsRegular() {
			return err
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = gz.Close()
	}
	if err != nil {
		t.Fatalf("tar %s: %v", tree, err)
	}
	return digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil))
}

// TestInterop: what pgoci pushes is valid for crane and skopeo, survives
// `pgoci copy` to an OCI layout and back with the same digests, and still
// installs after `skopeo copy` to another repository; an image built by
// `oras push` in the CloudNativePG layout, with CloudNativePG's
// annotations only, installs with pgoci and loads in PostgreSQL 18.
func TestInterop(t *testing.T) {
	host := registry(t)
	server := pg18Copy(t)
	trees := extractContrib(t, server, sharedTempDir(t), "hstore")
	root := newRoot(t)
	pg := startPG(t, filepath.Join(server, "bin"), root)
	target := pg.target(t)
	build := pg18Build
	build.PG = target.PG

	// gzip, so that crane validate can decompress the layers (it reads
	// every layer as gzip: go-containerregistry issue 1826).
	imgs := pushVariants(t, host+"/interop/hstore", trees["hstore"], variants(build), extension.Gzip)
	version := imgs[0].Metadata.Package.Version
	ref := host + "/interop/hstore:" + version

	t.Run("crane validate and skopeo inspect", func(t *testing.T) {
		for _, p := range []string{resolve.PlatformString(resolve.HostPlatform()), "linux/" + otherArch()} {
			run(t, "crane", "validate", "--insecure", "--platform", p, "--remote", ref)
		}
		out := run(t, "skopeo", "inspect", "--tls-verify=false", "docker://"+ref)
		var got struct{ Digest, Architecture string }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("skopeo inspect: %v\n%s", err, out)
		}
		if got.Architecture != resolve.HostPlatform().Architecture {
			t.Errorf("skopeo inspect: architecture %q", got.Architecture)
		}
	})

	t.Run("pgoci copy round trip", func(t *testing.T) {
		layoutDir := filepath.Join(t.TempDir(), "hstore")
		back := host + "/interop-roundtrip/hstore:" + version
		pgoci(t, "copy", ref, "oci:"+layoutDir+":"+version)
		pgoci(t, "copy", "oci:"+layoutDir+":"+version, back)
		want := strings.TrimSpace(run(t, "crane", "digest", "--insecure", ref))
		if got := strings.TrimSpace(run(t, "crane", "digest", "--insecure", back)); got != want {
			t.Errorf("registry -> layout -> registry: index digest %s, want %s", got, want)
		}
		if got := strings.TrimSpace(run(t, "oras", "resolve", "--oci-layout", layoutDir+":"+version)); got != want {
			t.Errorf("layout index digest %s, want %s", got, want)
		}
	})

	install := func(t *testing.T, ref string) {
		t.Helper()
		out := pgoci(t, "install", ref, "--root", root, "--cache", t.TempDir(),
			"--pg-major", "18", "--libc", target.Libc.Family+"-"+target.Libc.Version)
		if !strings.Contains(out, "installed hstore") {
			t.Errorf("pgoci install %s:\n%s", ref, out)
		}
		pg.query(t, "CREATE EXTENSION hstore")
		if got := pg.query(t, "SELECT ('a=>1, b=>2'::hstore) -> 'b'"); got != "2" {
			t.Errorf("hstore -> 'b' = %q, want 2", got)
		}
		pg.query(t, "DROP EXTENSION hstore")
		pgoci(t, "uninstall", "hstore", "--root", root)
	}

	t.Run("skopeo copy then install", func(t *testing.T) {
		copied := host + "/interop-skopeo/hstore:" + version
		run(t, "skopeo", "copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false", "docker://"+ref, "docker://"+copied)
		install(t, copied)
	})

	t.Run("CloudNativePG image built by oras push", func(t *testing.T) {
		cnpg := host + "/cnpg/hstore:" + version + "-18-bookworm"
		orasPushCNPG(t, cnpg, trees["hstore"], cnpgAnnotations("hstore", version))
		desc := run(t, "oras", "manifest", "fetch", "--plain-http", "--descriptor", cnpg)
		if !strings.Contains(desc, ocispec.MediaTypeImageManifest) {
			t.Fatalf("oras pushed %s, want an image manifest", desc)
		}
		run(t, "crane", "validate", "--insecure", "--remote", cnpg)
		install(t, cnpg)
	})
}
