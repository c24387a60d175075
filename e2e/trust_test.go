//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/internal/demo"
	"pgoci/resolve"
	"pgoci/trust"
	"pgoci/trust/referrers"
	"pgoci/trust/sbom"
)

// trustEnv is what the trust tests share: the real registry, the cosign
// CLI, two cosign key pairs and an offline signing config.
type trustEnv struct {
	host         string
	dir          string
	key, pub     string // the trusted pair
	otherPub     string // another pair's public key
	otherKey     string
	signingConfg string
}

const cosignPassword = "pgoci-e2e"

func newTrustEnv(t *testing.T) *trustEnv {
	t.Helper()
	if _, err := exec.LookPath("cosign"); err != nil {
		t.Fatal("cosign is not installed: run the suite with bash .ci/e2e.sh (install_cosign)")
	}
	out := run(t, "cosign", "version")
	if !strings.Contains(out, "v3.1.3") {
		t.Fatalf("cosign version:\n%s\nwant v3.1.3", out)
	}
	e := &trustEnv{host: registry(t), dir: t.TempDir()}
	for _, who := range []string{"acme", "other"} {
		d := filepath.Join(e.dir, who)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := runIn(t, d, []string{"COSIGN_PASSWORD=" + cosignPassword}, "cosign", "generate-key-pair"); err != nil {
			t.Fatal(err)
		}
	}
	e.key, e.pub = filepath.Join(e.dir, "acme", "cosign.key"), filepath.Join(e.dir, "acme", "cosign.pub")
	e.otherKey, e.otherPub = filepath.Join(e.dir, "other", "cosign.key"), filepath.Join(e.dir, "other", "cosign.pub")
	// No Rekor, no timestamp authority: signing stays on this machine.
	e.signingConfg = filepath.Join(e.dir, "sc.json")
	run(t, "cosign", "signing-config", "create", "--out", e.signingConfg)
	return e
}

// cosign runs the cosign CLI with the key password set.
func (e *trustEnv) cosign(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runEnv(t, []string{"COSIGN_PASSWORD=" + cosignPassword}, "cosign", args...)
}

// sign signs ref@digest with cosign, offline.
func (e *trustEnv) sign(t *testing.T, key, ref string) {
	t.Helper()
	if out, err := e.cosign(t, "sign", "--key", key, "--signing-config", e.signingConfg,
		"--allow-http-registry", "--allow-insecure-registry", "-y", ref); err != nil {
		t.Fatalf("cosign sign: %v\n%s", err, out)
	}
}

// verifyCLI runs `cosign verify --key pub` offline on ref.
func (e *trustEnv) verifyCLI(t *testing.T, pub, ref string) (string, error) {
	t.Helper()
	return e.cosign(t, "verify", "--key", pub, "--insecure-ignore-tlog=true",
		"--allow-http-registry", "--allow-insecure-registry", ref)
}

// repo opens name on the real registry.
func (e *trustEnv) repo(t *testing.T, name string) *remote.Repository {
	t.Helper()
	r, err := resolve.Remote(e.host+"/"+name, resolve.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pushImage pushes a small image manifest with text as its layer, tagged.
func pushTrustImage(t *testing.T, repo *remote.Repository, text, tag string) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	blob := func(mt string, b []byte) ocispec.Descriptor {
		d := content.NewDescriptorFromBytes(mt, b)
		if err := repo.Push(ctx, d, strings.NewReader(string(b))); err != nil {
			t.Fatal(err)
		}
		return d
	}
	cfg := blob(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`))
	layer := blob(ocispec.MediaTypeImageLayer, []byte(text))
	m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer}})
	d := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, m)
	if err := repo.PushReference(ctx, d, strings.NewReader(string(m)), tag); err != nil {
		t.Fatal(err)
	}
	return d
}

func loadKey(t *testing.T, path string) trust.PublicKey {
	t.Helper()
	k, err := trust.LoadPublicKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestTrust checks pgoci/trust against the real cosign v3.1.3 and the real
// CNCF distribution registry (2.8: no referrers API, so cosign and pgoci
// both use the sha256-<hex> tag index).
func TestTrust(t *testing.T) {
	ctx := context.Background()
	e := newTrustEnv(t)
	acme, other := loadKey(t, e.pub), loadKey(t, e.otherPub)

	t.Run("cosign-signed image verifies with its key, not another", func(t *testing.T) {
		repo := e.repo(t, "trust/signed")
		img := pushTrustImage(t, repo, "signed", "1.0")
		e.sign(t, e.key, e.host+"/trust/signed@"+img.Digest.String())
		target := trust.Target{Repository: e.host + "/trust/signed", Manifest: img}
		res, err := trust.Verify(ctx, e.repo(t, "trust/signed"), target, trust.KeysPolicy(acme), trust.Options{})
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if len(res.Signatures) != 1 || res.Signatures[0].Signer != e.pub || res.Digest() == "" {
			t.Errorf("signatures = %+v", res.Signatures)
		}
		_, err = trust.Verify(ctx, e.repo(t, "trust/signed"), target, trust.KeysPolicy(other), trust.Options{})
		if !errors.Is(err, trust.ErrUntrustedSigner) {
			t.Fatalf("another key: err = %v, want ErrUntrustedSigner", err)
		}
		t.Logf("refusal: %v", err)
	})

	t.Run("unsigned image is refused", func(t *testing.T) {
		repo := e.repo(t, "trust/unsigned")
		img := pushTrustImage(t, repo, "unsigned", "1.0")
		_, err := trust.Verify(ctx, repo, trust.Target{Repository: e.host + "/trust/unsigned", Manifest: img}, trust.KeysPolicy(acme), trust.Options{})
		if !errors.Is(err, trust.ErrNoSignature) {
			t.Fatalf("err = %v, want ErrNoSignature", err)
		}
	})

	t.Run("re-tagged image is refused", func(t *testing.T) {
		repo := e.repo(t, "trust/retag")
		signed := pushTrustImage(t, repo, "the signed one", "1.0")
		e.sign(t, e.key, e.host+"/trust/retag@"+signed.Digest.String())
		pushTrustImage(t, repo, "an unsigned replacement", "1.0") // the tag moves
		d, err := e.repo(t, "trust/retag").Resolve(ctx, "1.0")
		if err != nil {
			t.Fatal(err)
		}
		if d.Digest == signed.Digest {
			t.Fatal("the tag did not move")
		}
		_, err = trust.Verify(ctx, e.repo(t, "trust/retag"), trust.Target{Repository: e.host + "/trust/retag", Manifest: d}, trust.KeysPolicy(acme), trust.Options{})
		if !errors.Is(err, trust.ErrNoSignature) {
			t.Fatalf("err = %v, want ErrNoSignature", err)
		}
	})

	t.Run("cosign-signed index covers its manifest", func(t *testing.T) {
		repo := e.repo(t, "trust/index")
		img := pushTrustImage(t, repo, "in an index", "m")
		idxBody, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{img}})
		idx := content.NewDescriptorFromBytes(ocispec.MediaTypeImageIndex, idxBody)
		if err := repo.PushReference(ctx, idx, strings.NewReader(string(idxBody)), "1.0"); err != nil {
			t.Fatal(err)
		}
		e.sign(t, e.key, e.host+"/trust/index@"+idx.Digest.String())
		res, err := trust.Verify(ctx, e.repo(t, "trust/index"), trust.Target{Repository: e.host + "/trust/index", Index: &idx, Manifest: img}, trust.KeysPolicy(acme), trust.Options{})
		if err != nil || res.Signatures[0].Subject.Digest != idx.Digest {
			t.Fatalf("Verify = %+v, %v; want the index signature", res, err)
		}
	})

	t.Run("cosign attest slsaprovenance1 meets a builder requirement", func(t *testing.T) {
		repo := e.repo(t, "trust/attested")
		img := pushTrustImage(t, repo, "attested", "1.0")
		ref := e.host + "/trust/attested@" + img.Digest.String()
		e.sign(t, e.key, ref)
		pred := filepath.Join(e.dir, "provenance.json")
		if err := os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://example.com/pgoci-e2e/v1","externalParameters":{}},"runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"}}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := e.cosign(t, "attest", "--key", e.key, "--type", "slsaprovenance1", "--predicate", pred, "--signing-config", e.signingConfg,
			"--allow-http-registry", "--allow-insecure-registry", "-y", ref); err != nil {
			t.Fatalf("cosign attest: %v\n%s", err, out)
		}
		// The policy file, with a key path relative to it.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "acme.pub"), mustRead(t, e.pub), 0o644); err != nil {
			t.Fatal(err)
		}
		policy := func(builder string) trust.Policy {
			doc := `{"version": 1, "scopes": [{"registry": "` + e.host + `/trust", "keys": ["acme.pub"],
			  "require": [{"predicateType": "https://slsa.dev/provenance/v1", "match": {"runDetails.builder.id": "` + builder + `"}}]}]}`
			path := filepath.Join(dir, "policy.json")
			if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := trust.LoadPolicy(path)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		target := trust.Target{Repository: e.host + "/trust/attested", Manifest: img}
		res, err := trust.Verify(ctx, e.repo(t, "trust/attested"), target, policy("^https://github.com/acme/"), trust.Options{})
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if len(res.Met) != 1 || len(res.Attestations) != 1 || res.Attestations[0].PredicateType != "https://slsa.dev/provenance/v1" {
			t.Errorf("result: met %+v, attestations %+v", res.Met, res.Attestations)
		}
		_, err = trust.Verify(ctx, e.repo(t, "trust/attested"), target, policy("^https://github.com/someone-else/"), trust.Options{})
		var te *trust.Error
		if !errors.Is(err, trust.ErrRequirement) || !errors.As(err, &te) || te.Field != "runDetails.builder.id" {
			t.Fatalf("err = %v, want ErrRequirement naming runDetails.builder.id", err)
		}
		t.Logf("refusal: %v", err)
	})

	t.Run("trust.Sign output passes cosign verify with the key, not another", func(t *testing.T) {
		repo := e.repo(t, "trust/pgoci-signed")
		img := pushTrustImage(t, repo, "signed by pgoci", "1.0")
		signer, err := trust.LoadPrivateKey(e.key, func() ([]byte, error) { return []byte(cosignPassword), nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := trust.Sign(ctx, repo, img, signer, trust.SignOptions{}); err != nil {
			t.Fatal(err)
		}
		ref := e.host + "/trust/pgoci-signed@" + img.Digest.String()
		out, err := e.verifyCLI(t, e.pub, ref)
		if err != nil {
			t.Fatalf("cosign verify --key: %v", err)
		}
		if !strings.Contains(out, img.Digest.String()) {
			t.Errorf("cosign verify output does not name the digest:\n%s", out)
		}
		if out, err := e.verifyCLI(t, e.otherPub, ref); err == nil {
			t.Fatalf("cosign verify with another key passed:\n%s", out)
		}
		// And pgoci reads it back.
		if _, err := trust.Verify(ctx, e.repo(t, "trust/pgoci-signed"), trust.Target{Repository: e.host + "/trust/pgoci-signed", Manifest: img}, trust.KeysPolicy(acme), trust.Options{}); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
}

// TestTrustSBOM packs the demo extension into the real registry, attaches
// a second SBOM made with trust/sbom beside the one pack attached, reads both back through the referrers tag index (distribution
// 2.8 has no referrers API) and checks it as SPDX 2.3 with each file's
// SHA-256 against the tree.
func TestTrustSBOM(t *testing.T) {
	ctx := context.Background()
	host := registry(t)
	repo, err := resolve.Remote(host+"/trust/sbom", resolve.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := demo.Tree(t.TempDir(), demo.Major, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	platform, meta := demo.Build(demo.Major, "amd64")
	img, err := extension.Pack(ctx, repo, tree, extension.Build{Platform: platform, Metadata: meta}, extension.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	var files []sbom.File
	err = filepath.WalkDir(tree, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(tree, path)
		sf, err := sbom.HashFile(filepath.ToSlash(rel), f)
		files = append(files, sf)
		sums["./"+sf.Path] = sf.SHA256
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := sbom.Build(sbom.Package{Name: meta.Package.Name, Version: meta.Package.Version, Licenses: "PostgreSQL", PostgreSQL: "18", Files: files})
	if err != nil {
		t.Fatal(err)
	}
	attached, err := sbom.Attach(ctx, repo, img.Manifest, doc, time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	reader, err := resolve.Remote(host+"/trust/sbom", resolve.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := referrers.List(ctx, reader, img.Manifest, sbom.ArtifactType, 0)
	if err != nil || len(refs) != 2 {
		t.Fatalf("SBOM referrers = %v, %v; want the one pack attached and the one attached here", refs, err)
	}
	// Pack's own SBOM names the files by their path in the image: it
	// must list exactly what an install writes, with the same SHA-256.
	rt := openRoot(t, extension.RootOptions{Root: t.TempDir(), CacheDir: t.TempDir(), Target: resolve.Target{PG: meta.PG, Platform: platform, Libc: meta.Libc}})
	res, err := rt.Install(ctx, host+"/trust/sbom@"+img.Manifest.Digest.String(), extension.InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	installed := map[string]string{}
	for _, f := range res.Packages[0].Files {
		if f.Link == "" {
			installed["./"+f.Path] = f.Digest.Encoded()
		}
	}
	for _, ref := range refs {
		want := installed
		if ref.Digest == attached.Digest {
			want = sums
		}
		checkSPDX(t, ctx, reader, ref, meta.Package.Name, want)
	}
}

// checkSPDX fetches the SBOM ref points at and checks it is an SPDX 2.3
// document of the package listing exactly the files of sums with their
// SHA-256.
func checkSPDX(t *testing.T, ctx context.Context, reader resolve.Source, ref ocispec.Descriptor, pkg string, sums map[string]string) {
	t.Helper()
	m, err := referrers.FetchManifest(ctx, reader, ref)
	if err != nil {
		t.Fatal(err)
	}
	body, err := referrers.FetchBlob(ctx, reader, m.Layers[0], referrers.MaxBlobSize)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		SPDXVersion       string `json:"spdxVersion"`
		DataLicense       string `json:"dataLicense"`
		SPDXID            string `json:"SPDXID"`
		DocumentNamespace string `json:"documentNamespace"`
		CreationInfo      struct {
			Created  string   `json:"created"`
			Creators []string `json:"creators"`
		} `json:"creationInfo"`
		Packages []struct {
			Name string `json:"name"`
		} `json:"packages"`
		Files []struct {
			FileName  string `json:"fileName"`
			Checksums []struct {
				Algorithm string `json:"algorithm"`
				Value     string `json:"checksumValue"`
			} `json:"checksums"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.SPDXVersion != "SPDX-2.3" || got.DataLicense != "CC0-1.0" || got.SPDXID != "SPDXRef-DOCUMENT" || got.DocumentNamespace == "" ||
		got.CreationInfo.Created == "" || len(got.CreationInfo.Creators) == 0 || len(got.Packages) == 0 || got.Packages[0].Name != pkg {
		t.Errorf("SBOM %s is not an SPDX 2.3 document of %s:\n%s", ref.Digest, pkg, body)
	}
	if len(got.Files) != len(sums) || len(sums) == 0 {
		t.Fatalf("SBOM %s: %d files, %d in the tree", ref.Digest, len(got.Files), len(sums))
	}
	for _, f := range got.Files {
		ok := false
		for _, c := range f.Checksums {
			if c.Algorithm == "SHA256" {
				ok = c.Value == sums[f.FileName]
			}
		}
		if !ok {
			t.Errorf("SBOM %s: %s: SHA256 does not match the file", ref.Digest, f.FileName)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
