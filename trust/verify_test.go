package trust

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"oras.land/oras-go/v2/content/oci"

	"pgoci/internal/testregistry"
)

// TestVerifyKeyed signs with each supported key type and verifies with
// the public key; another key is refused.
func TestVerifyKeyed(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	ks := keys(t)
	for _, name := range []string{"ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-2048"} {
		t.Run(name, func(t *testing.T) {
			repo := newRepo(t, srv, "keyed/"+name)
			img := pushImage(t, repo, "content of "+name, "1.0")
			sig := sign(t, repo, img, ks[name])
			target := Target{Repository: srv.Host() + "/keyed/" + name, Manifest: img}
			res, err := Verify(ctx, repo, target, KeysPolicy(pub(t, name+".pub", ks[name])), Options{})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if len(res.Signatures) != 1 || res.Digest() != sig.Digest || res.Signatures[0].Signer != name+".pub" || res.Signatures[0].Format != FormatBundle {
				t.Errorf("result = %+v, want one bundle signature %s by %s.pub", res.Signatures, sig.Digest, name)
			}
			_, err = Verify(ctx, repo, target, KeysPolicy(pub(t, "other.pub", ks["other"])), Options{})
			var te *Error
			if !errors.Is(err, ErrUntrustedSigner) || !errors.As(err, &te) {
				t.Fatalf("other key: err = %v, want ErrUntrustedSigner as *Error", err)
			}
			if te.Reference != target.reference() || len(te.Checks) != 1 || te.Checks[0].Artifact.Digest != sig.Digest || !strings.Contains(err.Error(), "other.pub") {
				t.Errorf("error does not name what was checked: %v (%+v)", err, te)
			}
		})
	}
}

// TestVerifyRefusals covers the ways a keyed verification fails, and the
// index signature that counts for its manifests.
func TestVerifyRefusals(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	key := keys(t)["ecdsa-p256"]
	policy := KeysPolicy(pub(t, "acme.pub", key))
	tests := []struct {
		name  string
		setup func(t *testing.T, repo Store) Target
		want  error // nil: verifies
	}{
		{"unsigned", func(t *testing.T, repo Store) Target {
			return Target{Manifest: pushImage(t, repo, "unsigned", "")}
		}, ErrNoSignature},
		{"signed by another key", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "other", "")
			sign(t, repo, img, keys(t)["other"])
			return Target{Manifest: img}
		}, ErrUntrustedSigner},
		{"signature for another digest", func(t *testing.T, repo Store) Target {
			a, b := pushImage(t, repo, "a", ""), pushImage(t, repo, "b", "")
			body, err := SignBundle(a.Digest, PredicateCosignSign, nil, key)
			if err != nil {
				t.Fatal(err)
			}
			pushBundleReferrer(t, repo, b, body, PredicateCosignSign) // a's signature attached to b
			return Target{Manifest: b}
		}, ErrDigestMismatch},
		{"tampered bundle signature", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "tampered sig", "")
			body, _ := SignBundle(img.Digest, PredicateCosignSign, nil, key)
			body = editBundle(t, body, func(pb *protobundle.Bundle) {
				s := pb.GetDsseEnvelope().Signatures[0]
				s.Sig = flip(s.Sig, 10)
			})
			pushBundleReferrer(t, repo, img, body, PredicateCosignSign)
			return Target{Manifest: img}
		}, ErrInvalidSignature},
		{"tampered payload", func(t *testing.T, repo Store) Target {
			img, other := pushImage(t, repo, "tampered payload", ""), pushImage(t, repo, "x", "")
			body, _ := SignBundle(other.Digest, PredicateCosignSign, nil, key)
			body = editBundle(t, body, func(pb *protobundle.Bundle) {
				env := pb.GetDsseEnvelope()
				env.Payload = []byte(strings.Replace(string(env.Payload), other.Digest.Encoded(), img.Digest.Encoded(), 1))
			})
			pushBundleReferrer(t, repo, img, body, PredicateCosignSign)
			return Target{Manifest: img}
		}, ErrInvalidSignature},
		{"bundle that does not parse", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "garbage", "")
			pushBundleReferrer(t, repo, img, []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`), PredicateCosignSign)
			return Target{Manifest: img}
		}, ErrInvalidSignature},
		{"index signed, manifest verified through it", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "in an index", "")
			idx := pushIndex(t, repo, img)
			sign(t, repo, idx, key)
			return Target{Index: &idx, Manifest: img}
		}, nil},
		{"manifest signed, index not", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "signed manifest", "")
			idx := pushIndex(t, repo, img)
			sign(t, repo, img, key)
			return Target{Index: &idx, Manifest: img}
		}, nil},
		{"re-tagged to an unsigned manifest", func(t *testing.T, repo Store) Target {
			signedImg := pushImage(t, repo, "signed", "1.0")
			sign(t, repo, signedImg, key)
			pushImage(t, repo, "replacement", "1.0") // the tag moves
			d, err := repo.(*oci.Store).Resolve(ctx, "1.0")
			if err != nil {
				t.Fatal(err)
			}
			return Target{Manifest: d}
		}, ErrNoSignature},
	}
	for _, tc := range tests {
		for _, where := range []string{"registry", "layout"} {
			t.Run(tc.name+"/"+where, func(t *testing.T) {
				var repo Store
				if where == "registry" {
					repo = newRepo(t, srv, "refusals/"+strings.Trim(nonName.ReplaceAllString(tc.name, "-"), "-"))
				} else {
					st, err := oci.New(t.TempDir())
					if err != nil {
						t.Fatal(err)
					}
					repo = st
				}
				if tc.name == "re-tagged to an unsigned manifest" && where == "registry" {
					t.Skip("covered on the layout; the registry case is the same resolve")
				}
				target := tc.setup(t, repo)
				if where == "registry" {
					target.Repository = srv.Host() + "/refusals/x"
				}
				res, err := Verify(ctx, repo.(Source), target, policy, Options{})
				if tc.want == nil {
					if err != nil || len(res.Signatures) == 0 {
						t.Fatalf("Verify = %v, %v; want a verified signature", res, err)
					}
					return
				}
				var te *Error
				if !errors.Is(err, tc.want) || !errors.As(err, &te) || te.Err != tc.want {
					t.Fatalf("err = %v, want %v as *Error", err, tc.want)
				}
				if !strings.HasPrefix(err.Error(), "trust: ") || !strings.Contains(err.Error(), target.Manifest.Digest.String()) {
					t.Errorf("message %q does not name the digest", err)
				}
			})
		}
	}
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// TestVerifyKeyless verifies certificates of a virtual Sigstore against a
// trusted root written in the test.
func TestVerifyKeyless(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	vs := newVirtualSigstore(t)
	withLogs, noLogs := vs.trustedRoot(t, true), vs.trustedRoot(t, false)
	const issuer, subject = "https://issuer.example.com", "ci@acme.example.com"
	tests := []struct {
		name       string
		identities []Identity
		root       *TrustedRoot
		ignoreTlog bool
		tlog, tsa  bool // what the bundle carries
		keys       bool // a keys-only scope
		want       error
	}{
		{name: "exact identity", identities: []Identity{{Issuer: issuer, Subject: subject}}, root: withLogs, tlog: true, tsa: true},
		{name: "regexp identity", identities: []Identity{{IssuerRegExp: `^https://issuer\.example\.com$`, SubjectRegExp: `@acme\.example\.com$`}}, root: withLogs, tlog: true},
		{name: "second identity matches", identities: []Identity{{Issuer: issuer, Subject: "other@acme.example.com"}, {Issuer: issuer, SubjectRegExp: "^ci@"}}, root: withLogs, tlog: true},
		{name: "subject mismatch", identities: []Identity{{Issuer: issuer, Subject: "release@acme.example.com"}}, root: withLogs, tlog: true, want: ErrIdentity},
		{name: "issuer regexp mismatch", identities: []Identity{{IssuerRegExp: "^https://token.actions.githubusercontent.com$", SubjectRegExp: ".*"}}, root: withLogs, tlog: true, want: ErrIdentity},
		{name: "tlog required and missing", identities: []Identity{{Issuer: issuer, Subject: subject}}, root: withLogs, tsa: true, want: ErrTlog},
		{name: "tlog ignored, timestamp authority", identities: []Identity{{Issuer: issuer, Subject: subject}}, root: withLogs, ignoreTlog: true, tsa: true},
		{name: "tlog ignored, no timestamp", identities: []Identity{{Issuer: issuer, Subject: subject}}, root: withLogs, ignoreTlog: true, want: ErrTlog},
		{name: "root without logs needs a timestamp", identities: []Identity{{Issuer: issuer, Subject: subject}}, root: noLogs, tsa: true},
		{name: "another Sigstore's root", identities: []Identity{{Issuer: issuer, Subject: subject}}, root: newVirtualSigstore(t).trustedRoot(t, true), tlog: true, want: ErrTlog},
		{name: "keys-only scope", keys: true, tlog: true, want: ErrUntrustedSigner},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := newRepo(t, srv, "keyless/"+string(rune('a'+i)))
			img := pushImage(t, repo, tc.name, "")
			pushBundleReferrer(t, repo, img, vs.bundle(t, subject, issuer, statementJSON(img.Digest, PredicateCosignSign, map[string]any{}), tc.tlog, tc.tsa), PredicateCosignSign)
			scope := &Scope{Identities: tc.identities, TrustedRoot: tc.root, IgnoreTlog: tc.ignoreTlog}
			if tc.keys {
				scope = &Scope{Keys: []PublicKey{pub(t, "acme.pub", keys(t)["ecdsa-p256"])}}
			}
			res, err := Verify(ctx, repo, Target{Repository: "r/x", Manifest: img}, Policy{Default: scope}, Options{})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				s := res.Signatures[0]
				if s.Identity == nil || s.Identity.Subject != subject || s.Identity.Issuer != issuer || s.Tlog != (tc.root.hasLogs() && !tc.ignoreTlog) {
					t.Errorf("signature = %+v", s)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == ErrIdentity && !strings.Contains(err.Error(), subject) {
				t.Errorf("identity error %q does not name the signer", err)
			}
		})
	}
}

// TestVerifyLegacy checks the older cosign layout: a sha256-<hex>.sig
// manifest of simple signing payloads.
func TestVerifyLegacy(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	key := keys(t)["ecdsa-p256"]
	policy := KeysPolicy(pub(t, "acme.pub", key))
	tests := []struct {
		name   string
		digest func(img ocispec.Descriptor) string // the payload's docker-manifest-digest
		signer string
		want   error
	}{
		{"valid", func(img ocispec.Descriptor) string { return img.Digest.String() }, "ecdsa-p256", nil},
		{"docker-manifest-digest mismatch", func(ocispec.Descriptor) string {
			return "sha256:0000000000000000000000000000000000000000000000000000000000000000"
		}, "ecdsa-p256", ErrDigestMismatch},
		{"another key", func(img ocispec.Descriptor) string { return img.Digest.String() }, "other", ErrUntrustedSigner},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := newRepo(t, srv, "legacy/"+string(rune('a'+i)))
			img := pushImage(t, repo, tc.name, "")
			payload := []byte(`{"critical":{"identity":{"docker-reference":"r/x"},"image":{"docker-manifest-digest":"` + tc.digest(img) + `"},"type":"cosign container image signature"},"optional":null}`)
			sig, err := signMessage(keys(t)[tc.signer], payload)
			if err != nil {
				t.Fatal(err)
			}
			layer := pushBlob(t, repo, mediaTypeSimpleSigning, payload)
			layer.Annotations = map[string]string{annotationCosignSignature: base64.StdEncoding.EncodeToString(sig)}
			cfg := pushBlob(t, repo, ocispec.MediaTypeImageConfig, []byte(`{}`))
			m := pushJSON(t, repo, ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specVersion, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer}})
			tagIt(t, repo, m, fallbackTag(img.Digest, ".sig"))
			res, err := Verify(ctx, repo, Target{Repository: "r/x", Manifest: img}, policy, Options{})
			if tc.want == nil {
				if err != nil || res.Signatures[0].Format != FormatLegacy || res.Digest() != m.Digest {
					t.Fatalf("Verify = %+v, %v; want the legacy signature %s", res, err, m.Digest)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestVerifyHostile feeds verification referrers that lie: too many,
// of the wrong shape, or whose bodies do not hash to their digests.
func TestVerifyHostile(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	key := keys(t)["ecdsa-p256"]
	policy := KeysPolicy(pub(t, "acme.pub", key))
	tests := []struct {
		name  string
		setup func(t *testing.T, repo Store, img ocispec.Descriptor)
		want  error
	}{
		{"huge referrer list", func(t *testing.T, repo Store, img ocispec.Descriptor) {
			for range 5 {
				sign(t, repo, img, keys(t)["other"])
			}
		}, ErrTooManyReferrers},
		{"referrer with a wrong layer media type", func(t *testing.T, repo Store, img ocispec.Descriptor) {
			body, _ := SignBundle(img.Digest, PredicateCosignSign, nil, key)
			if _, err := pushReferrer(ctx, repo, img, ArtifactTypeBundle, "application/octet-stream", body, nil); err != nil {
				t.Fatal(err)
			}
		}, ErrInvalidSignature},
		{"referrer of another artifact type only", func(t *testing.T, repo Store, img ocispec.Descriptor) {
			if _, err := pushReferrer(ctx, repo, img, "application/spdx+json", "application/spdx+json", []byte("{}"), nil); err != nil {
				t.Fatal(err)
			}
		}, ErrNoSignature},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := newRepo(t, srv, "hostile/"+string(rune('a'+i)))
			img := pushImage(t, repo, tc.name, "")
			tc.setup(t, repo, img)
			_, err := Verify(ctx, repo, Target{Repository: "r/x", Manifest: img}, policy, Options{MaxReferrers: 4})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("bodies that do not hash", func(t *testing.T) {
		repo := newRepo(t, srv, "hostile/corrupt")
		img := pushImage(t, repo, "corrupt", "")
		sign(t, repo, img, key)
		if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: "GET", Path: "/hostile/corrupt/blobs/", Times: -1}); err != nil {
			t.Fatal(err)
		}
		defer srv.ClearFaults()
		_, err := Verify(ctx, repo, Target{Repository: "r/x", Manifest: img}, policy, Options{})
		if !errors.Is(err, ErrDigest) {
			t.Fatalf("err = %v, want ErrDigest", err)
		}
	})
	t.Run("referrer manifest that does not hash", func(t *testing.T) {
		repo := newRepo(t, srv, "hostile/corrupt-manifest")
		img := pushImage(t, repo, "corrupt manifest", "")
		sig := sign(t, repo, img, key)
		if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultCorrupt, Method: "GET", Path: "/manifests/" + sig.Digest.String(), Times: -1}); err != nil {
			t.Fatal(err)
		}
		defer srv.ClearFaults()
		_, err := Verify(ctx, repo, Target{Repository: "r/x", Manifest: img}, policy, Options{})
		if !errors.Is(err, ErrDigest) {
			t.Fatalf("err = %v, want ErrDigest", err)
		}
	})
}

// TestVerifyReferrersTagFallback verifies against a registry without the
// referrers API (as CNCF distribution 2.8): signing writes the
// sha256-<hex> tag index and verification reads it.
func TestVerifyReferrersTagFallback(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Status: 404, Path: "/referrers/", Times: -1}); err != nil {
		t.Fatal(err)
	}
	key := keys(t)["ed25519"]
	repo := newRepo(t, srv, "fallback/img")
	repo.SetReferrersCapability(false) // as after a push without OCI-Subject
	img := pushImage(t, repo, "fallback", "1.0")
	sig := sign(t, repo, img, key)
	if _, err := repo.Resolve(ctx, fallbackTag(img.Digest, "")); err != nil {
		t.Fatalf("no referrers tag index: %v", err)
	}
	reader := newRepo(t, srv, "fallback/img")
	reader.SetReferrersCapability(false) // what oras-go learns from a 404 of the referrers API
	res, err := Verify(ctx, reader, Target{Repository: "r/x", Manifest: img}, KeysPolicy(pub(t, "k.pub", key)), Options{})
	if err != nil || res.Digest() != sig.Digest {
		t.Fatalf("Verify = %+v, %v", res, err)
	}
}

// TestVerifyNothingRequired: no scope, or an exempting scope, reads
// nothing.
func TestVerifyNothingRequired(t *testing.T) {
	srv := newRegistry(t)
	repo := newRepo(t, srv, "free/img")
	img := pushImage(t, repo, "free", "")
	key := pub(t, "k.pub", keys(t)["ecdsa-p256"])
	p := Policy{Scopes: []Scope{{Registry: "registry.example.com", Keys: []PublicKey{key}}, {Registry: "registry.example.com/public"}}}
	for _, repoName := range []string{"elsewhere.example.com/x", "registry.example.com/public/x"} {
		before := len(srv.Requests())
		res, err := Verify(context.Background(), repo, Target{Repository: repoName, Manifest: img}, p, Options{})
		if err != nil || len(res.Signatures) != 0 || len(srv.Requests()) != before {
			t.Errorf("%s: Verify = %+v, %v with %d requests; want nothing checked", repoName, res, err, len(srv.Requests())-before)
		}
	}
	if _, err := Verify(context.Background(), repo, Target{Repository: "registry.example.com/ext/x", Manifest: img}, p, Options{}); !errors.Is(err, ErrNoSignature) {
		t.Errorf("scoped: err = %v, want ErrNoSignature", err)
	}
}

// TestVerifyLegacyKeyless checks a legacy .sig signature made with a
// certificate, with its Rekor entry in the bundle annotation.
func TestVerifyLegacyKeyless(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	vs := newVirtualSigstore(t)
	const issuer, subject = "https://issuer.example.com", "ci@acme.example.com"
	for _, tc := range []struct {
		name    string
		subject string
		want    error
	}{{"trusted identity", subject, nil}, {"other identity", "mallory@example.com", ErrIdentity}} {
		t.Run(tc.name, func(t *testing.T) {
			repo := newRepo(t, srv, "legacy/keyless-"+nonName.ReplaceAllString(tc.name, "-"))
			img := pushImage(t, repo, tc.name, "")
			payload := []byte(`{"critical":{"identity":{"docker-reference":"r/x"},"image":{"docker-manifest-digest":"` + img.Digest.String() + `"},"type":"cosign container image signature"},"optional":null}`)
			layer := pushBlob(t, repo, mediaTypeSimpleSigning, payload)
			layer.Annotations = vs.legacyAnnotations(t, tc.subject, issuer, payload)
			cfg := pushBlob(t, repo, ocispec.MediaTypeImageConfig, []byte(`{}`))
			m := pushJSON(t, repo, ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specVersion, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer}})
			tagIt(t, repo, m, fallbackTag(img.Digest, ".sig"))
			p := Policy{Default: &Scope{Identities: []Identity{{Issuer: issuer, Subject: subject}}, TrustedRoot: vs.trustedRoot(t, true)}}
			res, err := Verify(ctx, repo, Target{Manifest: img}, p, Options{})
			if tc.want == nil {
				if err != nil || !res.Signatures[0].Tlog || res.Signatures[0].Identity.Subject != subject {
					t.Fatalf("Verify = %+v, %v", res, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestExamine lists every signature and attestation with its status, as
// `pgoci inspect` shows them.
func TestExamine(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	repo := newRepo(t, srv, "examine/img")
	img := pushImage(t, repo, "examined", "")
	good := sign(t, repo, img, keys(t)["ecdsa-p256"])
	bad := sign(t, repo, img, keys(t)["other"])
	att := attest(t, repo, img, slsaV1, provenance("https://github.com/acme/builder"))
	checks, err := Examine(ctx, repo, Target{Manifest: img}, KeysPolicy(pub(t, "acme.pub", keys(t)["ecdsa-p256"])), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range checks {
		status := "verified by " + c.Signer
		if c.Err != nil {
			status = "refused"
		}
		got[c.Artifact.Digest.String()] = c.Kind + " " + c.PredicateType + " " + status
	}
	want := map[string]string{
		good.Digest.String(): KindSignature + " " + PredicateCosignSign + " verified by acme.pub",
		bad.Digest.String():  KindSignature + " " + PredicateCosignSign + " refused",
		att.Digest.String():  KindAttestation + " " + slsaV1 + " verified by acme.pub",
	}
	for d, w := range want {
		if got[d] != w {
			t.Errorf("%s: %q, want %q", d, got[d], w)
		}
	}
	// Without a policy everything is listed, nothing trusted.
	checks, err = Examine(ctx, repo, Target{Manifest: img}, Policy{}, Options{})
	if err != nil || len(checks) != 3 {
		t.Fatalf("Examine without policy = %v, %v", checks, err)
	}
	for _, c := range checks {
		if !errors.Is(c.Err, ErrUntrustedSigner) {
			t.Errorf("%s: err = %v, want ErrUntrustedSigner", c.Artifact.Digest, c.Err)
		}
	}
}
