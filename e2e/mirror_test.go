//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/internal/demo"
	"pgoci/labels"
	"pgoci/resolve"
)

// startLoggingRegistry starts /usr/bin/docker-registry like startRegistry,
// with extra configuration appended and the access log on, so that a test
// can tell which registry served which request and to whom (the user
// agent: "pgoci-cli" for the CLI, "pgoci" for the SDK). It returns the
// registry and its storage directory.
func startLoggingRegistry(t *testing.T, extra string) (*privateRegistry, string) {
	t.Helper()
	return launchRegistry(t, extra, true)
}

// accessRE reads one access log line: "GET /v2/... HTTP/1.1" 200 123 "" "agent".
var accessRE = regexp.MustCompile(`"(GET|HEAD|PUT|POST|PATCH) (\S+) HTTP/[0-9.]+" (\d+) \S+ "[^"]*" "([^"]*)"`)

// access is one request of a registry's access log.
type access struct {
	method, path, status, agent string
}

func (a access) String() string {
	return a.method + " " + a.path + " " + a.status + " (" + a.agent + ")"
}

// accesses returns the requests logged since mark (a byte offset of the
// log, from logSize), whose user agent starts with agent ("" for all).
func accesses(t *testing.T, r *privateRegistry, mark int64, agent string) []access {
	t.Helper()
	b, err := os.ReadFile(r.log)
	if err != nil {
		t.Fatal(err)
	}
	var out []access
	for _, m := range accessRE.FindAllStringSubmatch(string(b[mark:]), -1) {
		if strings.HasPrefix(m[4], agent) {
			out = append(out, access{m[1], m[2], m[3], m[4]})
		}
	}
	return out
}

func logSize(t *testing.T, r *privateRegistry) int64 {
	t.Helper()
	// The access log is written after the response: let the last one land.
	time.Sleep(100 * time.Millisecond)
	fi, err := os.Stat(r.log)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// spoil inverts the first byte of a blob in a distribution registry's
// filesystem storage, keeping its length: only a digest check notices.
func spoil(t *testing.T, storage, digest string) {
	t.Helper()
	hex := strings.TrimPrefix(digest, "sha256:")
	p := filepath.Join(storage, "docker/registry/v2/blobs/sha256", hex[:2], hex, "data")
	// A pull-through cache stores what it serves in the background:
	// wait for its copy to be complete.
	var (
		b   []byte
		err error
	)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, err = os.ReadFile(p)
		if err == nil && content.NewDescriptorFromBytes("", b).Digest.String() == digest {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mirror does not hold %s: %v", digest, err)
		}
	}
	b[0] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMirror: pgoci installs through a real pull-through cache (CNCF
// distribution in proxy mode in front of a second distribution): the
// upstream answers only the tag's HEAD, the content comes from the
// mirror. A layer spoiled in the mirror's storage is caught by its digest
// and read from the upstream instead (the install succeeds, with a note
// naming the mirror and the digest); a large blob spoiled there fails its
// read with a MirrorError and the next read goes upstream; a plain
// registry holding other content under the same tag cannot substitute it
// for a digest-pinned reference, nor for a tag unless trusted with tags.
func TestMirror(t *testing.T) {
	start := time.Now()
	up, _ := startLoggingRegistry(t, "")
	mir, mirStorage := startLoggingRegistry(t, fmt.Sprintf("proxy:\n  remoteurl: http://%s\n", up.Host))

	repo, err := remote.NewRepository(up.Host + "/mirror/pgoci_demo")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	idx := packDemo(t, repo, extension.Gzip)
	ref := up.Host + "/mirror/pgoci_demo:" + demo.Version
	mirrorFlag := up.Host + "=" + mir.Host
	target := []string{"--pg-major", "18", "--platform", "linux/amd64", "--libc", "glibc-2.36"}
	install := func(t *testing.T, root string, flags ...string) (string, error) {
		t.Helper()
		args := append(append([]string{"install", ref, "--root", root, "--cache", "-"}, target...), flags...)
		return pgociErr(t, args...)
	}

	// 1. Install through the mirror.
	upMark, mirMark := logSize(t, up), logSize(t, mir)
	root1 := filepath.Join(t.TempDir(), "root")
	t0 := time.Now()
	out, err := install(t, root1, "--mirror", mirrorFlag)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("install through the pull-through mirror (cold): %v", time.Since(t0))
	if strings.Contains(out, "mirror passed over") {
		t.Errorf("the mirror was passed over:\n%s", out)
	}
	fromCLI := accesses(t, up, upMark, "pgoci-cli")
	if len(fromCLI) != 1 || fromCLI[0].method != "HEAD" || fromCLI[0].path != "/v2/mirror/pgoci_demo/manifests/"+demo.Version {
		t.Errorf("pgoci asked the upstream %v; want only the HEAD of the tag", fromCLI)
	}
	var mirManifests, mirBlobs int
	for _, a := range accesses(t, mir, mirMark, "pgoci-cli") {
		if a.method == "GET" && a.status == "200" {
			switch {
			case strings.Contains(a.path, "/manifests/sha256:"):
				mirManifests++
			case strings.Contains(a.path, "/blobs/sha256:"):
				mirBlobs++
			}
		}
	}
	if mirManifests < 2 || mirBlobs < 2 {
		t.Errorf("the mirror served %d manifests and %d blobs to pgoci, want the index, the manifest, the config and the layer:\n%v",
			mirManifests, mirBlobs, accesses(t, mir, mirMark, ""))
	}
	var pulled int
	for _, a := range accesses(t, up, upMark, "") {
		if !strings.HasPrefix(a.agent, "pgoci") && strings.Contains(a.path, "/blobs/sha256:") && a.method == "GET" {
			pulled++
		}
	}
	if pulled == 0 {
		t.Errorf("the mirror pulled no blob from the upstream: %v", accesses(t, up, upMark, ""))
	}
	control, err := os.ReadFile(filepath.Join(root1, "share/extension/demo.control"))
	if err != nil {
		t.Fatal(err)
	}

	// 2. The mirror now holds a spoiled copy of the layer.
	tg := resolve.Target{PG: labels.PG{Major: 18}, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, Libc: labels.Libc{Family: "glibc", Version: "2.36"}}
	res, err := resolve.ResolveReference(context.Background(), ref, tg, resolve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layer := res.ManifestBody.Layers[0]
	if layer.Size > resolve.MaxManifestSize {
		t.Fatalf("the demo layer is %d bytes: this step wants one read whole", layer.Size)
	}
	spoil(t, mirStorage, layer.Digest.String())
	upMark = logSize(t, up)
	root2 := filepath.Join(t.TempDir(), "root")
	t0 = time.Now()
	out, err = install(t, root2, "--mirror", mirrorFlag)
	if err != nil {
		t.Fatalf("install with a spoiled layer in the mirror: %v", err)
	}
	t.Logf("install through the mirror, layer spoiled there: %v", time.Since(t0))
	note := "note: mirror passed over: resolve: mirror " + mir.Host + "/mirror/pgoci_demo of " + up.Host + "/mirror/pgoci_demo: " + layer.Digest.String() + ": digest mismatch"
	if !strings.Contains(out, note) {
		t.Errorf("install output lacks %q:\n%s", note, out)
	}
	var layerUpstream bool
	for _, a := range accesses(t, up, upMark, "pgoci-cli") {
		if a.method == "GET" && a.path == "/v2/mirror/pgoci_demo/blobs/"+layer.Digest.String() && a.status == "200" {
			layerUpstream = true
		}
	}
	if !layerUpstream {
		t.Errorf("the layer was not read from the upstream: %v", accesses(t, up, upMark, "pgoci-cli"))
	}
	if got, err := os.ReadFile(filepath.Join(root2, "share/extension/demo.control")); err != nil || !bytes.Equal(got, control) {
		t.Errorf("installed demo.control differs from the first install: %v", err)
	}

	// 3. A blob over MaxManifestSize is streamed: spoiled in the mirror,
	// the read fails naming the mirror and the digest, and the same
	// source then reads it from the upstream.
	big := make([]byte, resolve.MaxManifestSize+(1<<20))
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	bd := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayerGzip, big)
	if err := repo.Push(context.Background(), bd, bytes.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	var reported []*resolve.MirrorError
	opts := resolve.RemoteOptions{Mirrors: map[string][]resolve.Mirror{up.Host: {{Location: mir.Host}}},
		OnMirrorError: func(e *resolve.MirrorError) { reported = append(reported, e) }}
	read := func(src resolve.Source) error {
		rc, err := src.Fetch(context.Background(), bd)
		if err != nil {
			return err
		}
		defer rc.Close()
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, rc); err != nil {
			return err
		}
		if !bytes.Equal(buf.Bytes(), big) {
			return errors.New("the bytes read are not the blob's")
		}
		return nil
	}
	src, _, err := resolve.Open(context.Background(), up.Host+"/mirror/pgoci_demo", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := read(src); err != nil { // fills the mirror
		t.Fatal(err)
	}
	spoil(t, mirStorage, bd.Digest.String())
	src, _, err = resolve.Open(context.Background(), up.Host+"/mirror/pgoci_demo", opts)
	if err != nil {
		t.Fatal(err)
	}
	err = read(src)
	var me *resolve.MirrorError
	if !errors.As(err, &me) || !errors.Is(err, resolve.ErrDigest) || me.Mirror != mir.Host+"/mirror/pgoci_demo" || me.Object != bd.Digest.String() {
		t.Fatalf("reading a large blob spoiled in the mirror: %v; want a MirrorError naming the mirror and %s", err, bd.Digest)
	}
	t.Logf("large blob: %v", err)
	if len(reported) != 1 || reported[0] != me {
		t.Errorf("OnMirrorError was told %v", reported)
	}
	upMark = logSize(t, up)
	if err := read(src); err != nil {
		t.Fatalf("second read, from the upstream: %v", err)
	}
	if got := accesses(t, up, upMark, "pgoci"); len(got) != 1 || got[0].path != "/v2/mirror/pgoci_demo/blobs/"+bd.Digest.String() {
		t.Errorf("second read: the upstream served %v, want the blob", got)
	}

	// 4. A plain registry whose mirror/pgoci_demo:1.1.0 is another image.
	other, _ := startLoggingRegistry(t, "")
	tree, err := demo.Tree(t.TempDir(), demo.Major, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	pgoci(t, "pack", tree, other.Host+"/mirror/pgoci_demo:"+demo.Version, "--platform", "linux/amd64", "--pg-major", "18",
		"--libc", "glibc-2.35", "--distro", "debian-12", "--package", demo.Package, "--package-version", demo.Version)
	resolveVia := func(mirror, r string) string {
		t.Helper()
		out := pgoci(t, "--mirror", mirror, "resolve", r, "--pg-major", "18", "--platform", "linux/amd64", "--libc", "glibc-2.36")
		// The output is stdout and stderr (notes) together: the
		// reference is the line that names the repository.
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, up.Host+"/mirror/pgoci_demo@") {
				return l
			}
		}
		t.Fatalf("resolve printed no reference:\n%s", out)
		return ""
	}
	upstreamManifest := up.Host + "/mirror/pgoci_demo@" + res.Manifest.Digest.String()
	if got := resolveVia(up.Host+"="+other.Host, up.Host+"/mirror/pgoci_demo@"+idx.Digest.String()); got != upstreamManifest {
		t.Errorf("digest-pinned through a mirror holding other content: %s, want %s", got, upstreamManifest)
	}
	if got := resolveVia(up.Host+"="+other.Host, ref); got != upstreamManifest {
		t.Errorf("tag through a mirror not trusted with tags: %s, want %s", got, upstreamManifest)
	}
	if got := resolveVia(up.Host+"="+other.Host+",tags", ref); got == upstreamManifest || !strings.HasPrefix(got, up.Host+"/mirror/pgoci_demo@sha256:") {
		t.Errorf("tag through a mirror trusted with tags: %s, want the mirror's image", got)
	}
	t.Logf("TestMirror: %v", time.Since(start))
}
