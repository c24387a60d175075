//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgoci/extension"
	"pgoci/internal/demo"
	"pgoci/resolve"
)

// TestTrustCLI: the pgoci CLI against images cosign v3.1.3 signed and
// attested on the real registry. `pgoci install --verify-key` installs a
// signed image; an unsigned one, one signed by another key and a tag
// moved to an unsigned image are refused with the root unchanged; a
// `--trust-policy` requiring the builder of a `cosign attest --type
// slsaprovenance1` statement passes, one requiring another builder is
// refused; `pgoci sign` output passes `cosign verify --key` and fails with
// another key.
func TestTrustCLI(t *testing.T) {
	e := newTrustEnv(t)
	signedRef, signedIdx := pushDemo(t, e, "trustcli/signed")
	e.sign(t, e.key, e.host+"/trustcli/signed@"+signedIdx)
	unsignedRef, _ := pushDemo(t, e, "trustcli/unsigned")

	root := newRoot(t)
	flags := []string{"--root", root, "--cache", "-", "--pg-major", "18", "--platform", "linux/amd64", "--libc", "glibc-2.36"}
	install := func(ref string, extra ...string) (string, error) {
		return pgociErr(t, append(append([]string{"install", ref}, flags...), extra...)...)
	}
	refused := func(what, ref, want string, extra ...string) {
		t.Helper()
		before := listing(t, root)
		out, err := install(ref, extra...)
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("%s: install %v, output:\n%s\nwant a refusal saying %q", what, err, out, want)
		}
		sameListing(t, "the root after a refused install ("+what+")", before, root)
	}

	refused("unsigned", unsignedRef, "no signature", "--verify-key", e.pub)
	refused("signed by another key", signedRef, "other", "--verify-key", e.otherPub)
	out, err := install(signedRef, "--verify-key", e.pub)
	if err != nil || !strings.Contains(out, "signature sha256:") || !strings.Contains(out, "verified") {
		t.Fatalf("install of the signed image: %v\n%s", err, out)
	}
	pgoci(t, "uninstall", demo.Package, "--root", root)

	// The tag moves to an unsigned image: its signature does not follow.
	pushDemoAs(t, e, "trustcli/signed", "moved")
	refused("re-tagged", signedRef, "no signature", "--verify-key", e.pub, "--lock-file", "-")

	t.Run("attestation policy", func(t *testing.T) {
		ref, idx := pushDemo(t, e, "trustcli/attested")
		digestRef := e.host + "/trustcli/attested@" + idx
		e.sign(t, e.key, digestRef)
		pred := filepath.Join(t.TempDir(), "provenance.json")
		writeFile(t, pred, `{"buildDefinition":{"buildType":"https://example.com/pgoci-e2e/v1","externalParameters":{}},"runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"}}}`)
		if out, err := e.cosign(t, "attest", "--key", e.key, "--type", "slsaprovenance1", "--predicate", pred, "--signing-config", e.signingConfg,
			"--allow-http-registry", "--allow-insecure-registry", "-y", digestRef); err != nil {
			t.Fatalf("cosign attest: %v\n%s", err, out)
		}
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "acme.pub"), string(mustRead(t, e.pub)))
		policy := func(builder string) string {
			p := filepath.Join(dir, "policy-"+strings.Trim(strings.ReplaceAll(builder, "/", "-"), "^-")+".json")
			writeFile(t, p, `{"version": 1, "scopes": [{"registry": "`+e.host+`/trustcli", "keys": ["acme.pub"],
			  "require": [{"predicateType": "https://slsa.dev/provenance/v1", "match": {"runDetails.builder.id": "`+builder+`"}}]}]}`)
			return p
		}
		refused("attested by another builder", ref, "runDetails.builder.id", "--trust-policy", policy("^https://github.com/someone-else/"))
		if out, err := install(ref, "--trust-policy", policy("^https://github.com/acme/")); err != nil {
			t.Fatalf("install with the builder policy met: %v\n%s", err, out)
		}
	})

	t.Run("pgoci sign passes cosign verify", func(t *testing.T) {
		ref, idx := pushDemo(t, e, "trustcli/pgoci-signed")
		if out, err := runEnv(t, []string{"COSIGN_PASSWORD=" + cosignPassword}, pgociBin, "sign", ref, "--key", e.key); err != nil {
			t.Fatalf("pgoci sign: %v\n%s", err, out)
		}
		digestRef := e.host + "/trustcli/pgoci-signed@" + idx
		if out, err := e.verifyCLI(t, e.pub, digestRef); err != nil || !strings.Contains(out, idx) {
			t.Fatalf("cosign verify --key of pgoci's signature: %v\n%s", err, out)
		}
		if out, err := e.verifyCLI(t, e.otherPub, digestRef); err == nil {
			t.Fatalf("cosign verify with another key passed:\n%s", out)
		}
	})
}

// pushDemo packs the demo extension for PostgreSQL 18 linux/amd64 and
// pushes it to repo under the demo version; it returns the reference and
// the index digest.
func pushDemo(t *testing.T, e *trustEnv, repo string) (string, string) {
	t.Helper()
	return pushDemoAs(t, e, repo, "")
}

// pushDemoAs is pushDemo with a distinct build (comment) so that the
// digest differs from earlier pushes of the same version.
func pushDemoAs(t *testing.T, e *trustEnv, repo, build string) (string, string) {
	t.Helper()
	ctx := context.Background()
	tree, err := demo.Tree(t.TempDir(), demo.Major, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if build != "" {
		writeFile(t, filepath.Join(tree, "README.md"), build)
		appendFile(t, filepath.Join(tree, "usr/share/postgresql/18/extension/demo--1.1.sql"), "-- "+build+"\n")
	}
	platform, meta := demo.Build(demo.Major, "amd64")
	r, err := resolve.Remote(e.host+"/"+repo, resolve.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := extension.Pack(ctx, r, tree, extension.Build{Platform: platform, Metadata: meta}, extension.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := extension.PushIndex(ctx, r, []extension.Image{img}, demo.Version)
	if err != nil {
		t.Fatal(err)
	}
	return e.host + "/" + repo + ":" + demo.Version, idx.Digest.String()
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
