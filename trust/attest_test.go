package trust

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const slsaV1 = "https://slsa.dev/provenance/v1"

func provenance(builder string) map[string]any {
	return map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://example.com/build/v1", "resolvedDependencies": []any{
			map[string]any{"uri": "git+https://github.com/acme/ext", "digest": map[string]any{"gitCommit": "abc"}},
			map[string]any{"uri": "pkg:deb/debian/postgresql-server-dev-18"},
		}},
		"runDetails": map[string]any{"builder": map[string]any{"id": builder}, "metadata": map[string]any{"invocationId": 42, "reproducible": true}},
	}
}

// attest pushes a keyed cosign-style attestation of predicateType about
// subject.
func attest(t *testing.T, repo Store, subject ocispec.Descriptor, predicateType string, predicate any) ocispec.Descriptor {
	t.Helper()
	pb, _ := json.Marshal(predicate)
	body, err := SignBundle(subject.Digest, predicateType, pb, keys(t)["ecdsa-p256"])
	if err != nil {
		t.Fatal(err)
	}
	return pushBundleReferrer(t, repo, subject, body, predicateType)
}

// pushBuildKit pushes a BuildKit attestation manifest for img holding the
// statement, and an index listing img and it.
func pushBuildKit(t *testing.T, repo Store, img ocispec.Descriptor, stmt []byte) (idx, att ocispec.Descriptor) {
	t.Helper()
	layer := pushBlob(t, repo, mediaTypeInTotoLayer, stmt)
	layer.Annotations = map[string]string{annotationInTotoPredicate: slsaV1}
	cfg := pushBlob(t, repo, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"unknown","os":"unknown"}`))
	att = pushJSON(t, repo, ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specVersion, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer}})
	entry := att
	entry.Annotations = map[string]string{annotationDockerRefType: "attestation-manifest", annotationDockerRefDigest: img.Digest.String()}
	entry.Platform = &ocispec.Platform{Architecture: "unknown", OS: "unknown"}
	return pushIndex(t, repo, img, entry), att
}

func TestRequirements(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	key := pub(t, "acme.pub", keys(t)["ecdsa-p256"])
	requireBuilder := func(re string) Requirement {
		return Requirement{PredicateType: slsaV1, Match: map[string]string{"runDetails.builder.id": re}}
	}
	tests := []struct {
		name      string
		setup     func(t *testing.T, repo Store) Target
		require   []Requirement
		want      error
		wantField string
	}{
		{"cosign attestation met", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "met", "")
			sign(t, repo, img, keys(t)["ecdsa-p256"])
			attest(t, repo, img, slsaV1, provenance("https://github.com/acme/builder@v1"))
			return Target{Manifest: img}
		}, []Requirement{requireBuilder("^https://github.com/acme/")}, nil, ""},
		{"several fields, arrays and numbers", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "fields", "")
			sign(t, repo, img, keys(t)["ecdsa-p256"])
			attest(t, repo, img, slsaV1, provenance("https://github.com/acme/builder@v1"))
			return Target{Manifest: img}
		}, []Requirement{{PredicateType: slsaV1, Match: map[string]string{
			"buildDefinition.resolvedDependencies.uri": "^pkg:deb/debian/postgresql-server-dev-",
			"runDetails.metadata.invocationId":         "^42$",
			"runDetails.metadata.reproducible":         "^true$",
		}}}, nil, ""},
		{"another builder", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "other builder", "")
			sign(t, repo, img, keys(t)["ecdsa-p256"])
			attest(t, repo, img, slsaV1, provenance("https://github.com/evil/builder"))
			return Target{Manifest: img}
		}, []Requirement{requireBuilder("^https://github.com/acme/")}, ErrRequirement, "runDetails.builder.id"},
		{"missing field", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "missing field", "")
			sign(t, repo, img, keys(t)["ecdsa-p256"])
			attest(t, repo, img, slsaV1, map[string]any{"runDetails": map[string]any{}})
			return Target{Manifest: img}
		}, []Requirement{requireBuilder(".*")}, ErrRequirement, "runDetails.builder.id"},
		{"no attestation of the predicate type", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "no attestation", "")
			sign(t, repo, img, keys(t)["ecdsa-p256"])
			attest(t, repo, img, "https://spdx.dev/Document", map[string]any{})
			return Target{Manifest: img}
		}, []Requirement{requireBuilder(".*")}, ErrRequirement, ""},
		{"attestation by another key", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "other key attestation", "")
			sign(t, repo, img, keys(t)["ecdsa-p256"])
			pb, _ := json.Marshal(provenance("https://github.com/acme/builder"))
			body, _ := SignBundle(img.Digest, slsaV1, pb, keys(t)["other"])
			pushBundleReferrer(t, repo, img, body, slsaV1)
			return Target{Manifest: img}
		}, []Requirement{requireBuilder(".*")}, ErrRequirement, ""},
		{"attestation about another image", func(t *testing.T, repo Store) Target {
			img, other := pushImage(t, repo, "about another", ""), pushImage(t, repo, "the other", "")
			sign(t, repo, img, keys(t)["ecdsa-p256"])
			pb, _ := json.Marshal(provenance("https://github.com/acme/builder"))
			body, _ := SignBundle(other.Digest, slsaV1, pb, keys(t)["ecdsa-p256"])
			pushBundleReferrer(t, repo, img, body, slsaV1)
			return Target{Manifest: img}
		}, []Requirement{requireBuilder(".*")}, ErrRequirement, ""},
		{"attestation alone is not a signature", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "attestation only", "")
			attest(t, repo, img, slsaV1, provenance("https://github.com/acme/builder"))
			return Target{Manifest: img}
		}, []Requirement{requireBuilder(".*")}, ErrNoSignature, ""},
		{"BuildKit attestation under a signed index", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "buildkit signed index", "")
			idx, _ := pushBuildKit(t, repo, img, statementJSON(img.Digest, slsaV1, provenance("https://github.com/acme/builder")))
			sign(t, repo, idx, keys(t)["ecdsa-p256"])
			return Target{Index: &idx, Manifest: img}
		}, []Requirement{requireBuilder("^https://github.com/acme/")}, nil, ""},
		{"BuildKit attestation signed itself", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "buildkit signed attestation", "")
			idx, att := pushBuildKit(t, repo, img, statementJSON(img.Digest, slsaV1, provenance("https://github.com/acme/builder")))
			sign(t, repo, img, keys(t)["ecdsa-p256"])
			sign(t, repo, att, keys(t)["ecdsa-p256"])
			return Target{Index: &idx, Manifest: img}
		}, []Requirement{requireBuilder("^https://github.com/acme/")}, nil, ""},
		{"unsigned BuildKit attestation", func(t *testing.T, repo Store) Target {
			img := pushImage(t, repo, "buildkit unsigned", "")
			idx, _ := pushBuildKit(t, repo, img, statementJSON(img.Digest, slsaV1, provenance("https://github.com/acme/builder")))
			sign(t, repo, img, keys(t)["ecdsa-p256"]) // the manifest, not the index
			return Target{Index: &idx, Manifest: img}
		}, []Requirement{requireBuilder(".*")}, ErrRequirement, ""},
		{"BuildKit attestation about another manifest", func(t *testing.T, repo Store) Target {
			img, other := pushImage(t, repo, "buildkit wrong subject", ""), pushImage(t, repo, "other", "")
			idx, _ := pushBuildKit(t, repo, img, statementJSON(other.Digest, slsaV1, provenance("https://github.com/acme/builder")))
			sign(t, repo, idx, keys(t)["ecdsa-p256"])
			return Target{Index: &idx, Manifest: img}
		}, []Requirement{requireBuilder(".*")}, ErrRequirement, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := newRepo(t, srv, "require/"+string(rune('a'+i)))
			target := tc.setup(t, repo)
			target.Repository = "registry.example.com/ext/x"
			p := Policy{Scopes: []Scope{{Registry: "registry.example.com/ext", Keys: []PublicKey{key}, Require: tc.require}}}
			res, err := Verify(ctx, repo, target, p, Options{})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if len(res.Met) != len(tc.require) || res.Met[0].Attestation == "" {
					t.Errorf("met = %+v", res.Met)
				}
				return
			}
			var te *Error
			if !errors.Is(err, tc.want) || !errors.As(err, &te) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == ErrRequirement && (te.Requirement == nil || te.Requirement.PredicateType != slsaV1 || te.Field != tc.wantField) {
				t.Errorf("error names requirement %+v field %q, want %s field %q", te.Requirement, te.Field, slsaV1, tc.wantField)
			}
		})
	}
}

// TestKeylessAttestation meets a requirement with an attestation signed
// by a virtual Sigstore identity.
func TestKeylessAttestation(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	vs := newVirtualSigstore(t)
	repo := newRepo(t, srv, "keyless/attest")
	img := pushImage(t, repo, "keyless attested", "")
	const issuer, subject = "https://token.actions.githubusercontent.com", "https://github.com/acme/ext/.github/workflows/release.yml@refs/tags/v1"
	pushBundleReferrer(t, repo, img, vs.bundle(t, subject, issuer, statementJSON(img.Digest, PredicateCosignSign, map[string]any{}), true, false), PredicateCosignSign)
	pushBundleReferrer(t, repo, img, vs.bundle(t, subject, issuer, statementJSON(img.Digest, slsaV1, provenance("https://github.com/actions/runner")), true, false), slsaV1)
	scope := Scope{
		Registry:    "registry.example.com",
		Identities:  []Identity{{Issuer: issuer, SubjectRegExp: "^https://github.com/acme/"}},
		TrustedRoot: vs.trustedRoot(t, true),
		Require:     []Requirement{{PredicateType: slsaV1, Match: map[string]string{"runDetails.builder.id": "^https://github.com/actions/"}}},
	}
	res, err := Verify(ctx, repo, Target{Repository: "registry.example.com/acme/ext", Manifest: img}, Policy{Scopes: []Scope{scope}}, Options{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(res.Attestations) != 1 || res.Attestations[0].Signer != scope.Identities[0].String() || len(res.Met) != 1 {
		t.Errorf("result = %+v", res)
	}
}

// TestLegacyAttestation reads an .att manifest of DSSE envelopes.
func TestLegacyAttestation(t *testing.T) {
	ctx := context.Background()
	srv := newRegistry(t)
	repo := newRepo(t, srv, "legacy/att")
	img := pushImage(t, repo, "legacy attested", "")
	sign(t, repo, img, keys(t)["ed25519"])
	stmt := statementJSON(img.Digest, slsaV1, provenance("https://github.com/acme/builder"))
	sig, err := signMessage(keys(t)["ed25519"], dssePAE(inTotoPayloadType, stmt))
	if err != nil {
		t.Fatal(err)
	}
	env, _ := json.Marshal(map[string]any{"payloadType": inTotoPayloadType, "payload": base64.StdEncoding.EncodeToString(stmt), "signatures": []any{map[string]string{"sig": base64.StdEncoding.EncodeToString(sig)}}})
	layer := pushBlob(t, repo, mediaTypeDSSE, env)
	layer.Annotations = map[string]string{"predicateType": slsaV1}
	cfg := pushBlob(t, repo, ocispec.MediaTypeImageConfig, []byte(`{}`))
	m := pushJSON(t, repo, ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specVersion, MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer}})
	tagIt(t, repo, m, fallbackTag(img.Digest, ".att"))
	p := Policy{Default: &Scope{Keys: []PublicKey{pub(t, "k.pub", keys(t)["ed25519"])}, Require: []Requirement{{PredicateType: slsaV1, Match: map[string]string{"runDetails.builder.id": "acme"}}}}}
	res, err := Verify(ctx, repo, Target{Manifest: img}, p, Options{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(res.Met) != 1 || res.Met[0].Attestation != m.Digest || res.Attestations[0].Format != FormatLegacy {
		t.Errorf("result = %+v", res)
	}
}

func TestMatchPath(t *testing.T) {
	v := map[string]any{"a": []any{map[string]any{"b": "x"}, map[string]any{"b": "y"}}, "n": json.Number("7"), "o": map[string]any{}}
	tests := []struct {
		path, re string
		want     bool
	}{
		{"a.b", "^y$", true},
		{"a.b", "^z$", false},
		{"n", "^7$", true},
		{"o", ".*", false}, // objects never match
		{"missing", ".*", false},
		{"a.b.c", ".*", false},
	}
	for _, tc := range tests {
		if got := matchPath(v, splitPath(tc.path), regexp.MustCompile(tc.re)); got != tc.want {
			t.Errorf("matchPath(%s, %s) = %v, want %v", tc.path, tc.re, got, tc.want)
		}
	}
}
