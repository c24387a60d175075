package trust

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxBuildKitStatements bounds the in-toto layers read from one BuildKit
// attestation manifest.
const maxBuildKitStatements = 16

// buildkit checks the BuildKit attestation manifests the index lists for
// the target manifest. Their statements are trusted when a verified
// signature covers them: one of the index (which lists the attestation
// manifest by digest, which lists the statements by digest), or one of
// the attestation manifest itself.
func (ex *examiner) buildkit(ctx context.Context) error {
	idx, err := fetchIndex(ctx, ex.src, *ex.target.Index)
	if err != nil {
		return err
	}
	n := 0
	for _, e := range idx.Manifests {
		if e.Annotations[annotationDockerRefType] != "attestation-manifest" || e.Annotations[annotationDockerRefDigest] != ex.target.Manifest.Digest.String() {
			continue
		}
		if n++; n > ex.opts.maxReferrers() {
			ex.add(Check{Subject: ex.target.Manifest.Digest, Artifact: e, Format: FormatBuildKit, Kind: KindAttestation,
				Err: fmt.Errorf("%w: index %s lists more than %d attestation manifests for %s", ErrTooManyReferrers, ex.target.Index.Digest, ex.opts.maxReferrers(), ex.target.Manifest.Digest)})
			return nil
		}
		if err := ex.attestationManifest(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// attestationManifest checks the statements of one BuildKit attestation
// manifest e.
func (ex *examiner) attestationManifest(ctx context.Context, e ocispec.Descriptor) error {
	subject := ex.target.Manifest.Digest
	fail := func(err error) {
		ex.add(Check{Subject: subject, Artifact: e, Format: FormatBuildKit, Kind: KindAttestation, Err: err})
	}
	// Who vouches for it: the index's signature, else its own.
	var voucher *Check
	if ex.indexSigned != nil {
		voucher = ex.indexSigned
	} else {
		before := len(ex.checks)
		if err := ex.bundles(ctx, e); err != nil {
			return err
		}
		if err := ex.legacy(ctx, e); err != nil {
			return err
		}
		for i := before; i < len(ex.checks); i++ {
			if c := ex.checks[i]; c.Err == nil && c.Kind == KindSignature {
				voucher = &c
				break
			}
		}
		// Its own signature checks are about the attestation manifest,
		// not the image: keep them out of the image's.
		ex.checks = ex.checks[:before]
	}
	m, err := fetchManifest(ctx, ex.src, e)
	if err != nil {
		fail(err)
		return nil
	}
	var layers []ocispec.Descriptor
	for _, l := range m.Layers {
		if l.MediaType == mediaTypeInTotoLayer {
			layers = append(layers, l)
		}
	}
	if len(layers) > maxBuildKitStatements {
		fail(fmt.Errorf("%w: attestation manifest %s has %d statements, over %d", ErrTooManyReferrers, e.Digest, len(layers), maxBuildKitStatements))
		return nil
	}
	for _, l := range layers {
		c := Check{Subject: subject, Artifact: e, Format: FormatBuildKit, Kind: KindAttestation, PredicateType: l.Annotations[annotationInTotoPredicate]}
		c.Err = ex.buildkitStatement(ctx, l, voucher, &c)
		ex.add(c)
	}
	return nil
}

func (ex *examiner) buildkitStatement(ctx context.Context, l ocispec.Descriptor, voucher *Check, c *Check) error {
	body, err := fetchBlob(ctx, ex.src, l, MaxBlobSize)
	if err != nil {
		return err
	}
	st, err := parseStatement(body)
	if err != nil {
		return err
	}
	c.PredicateType = st.PredicateType
	if voucher == nil {
		return fmt.Errorf("%w: BuildKit attestation %s is unsigned: neither the index nor the attestation manifest has a trusted signature", ErrUntrustedSigner, l.Digest)
	}
	if !st.names(c.Subject) {
		return fmt.Errorf("%w: the statement is about %s, not %s", ErrDigestMismatch, shorten(st.subjectDigests()), c.Subject)
	}
	c.Signer = fmt.Sprintf("signature %s of %s (%s)", voucher.Artifact.Digest, voucher.Subject, voucher.Signer)
	c.KeyID, c.Identity, c.Tlog = voucher.KeyID, voucher.Identity, voucher.Tlog
	c.Statement = body
	return nil
}

// meet returns the artifact digest of the first attestation meeting r, or
// "" and the first field that no statement of the predicate type matched
// ("" when there was no such statement).
func meet(r Requirement, atts []Attestation) (digest.Digest, string) {
	paths := make([]string, 0, len(r.Match))
	for p := range r.Match {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	field := ""
	for _, a := range atts {
		if a.PredicateType != r.PredicateType {
			continue
		}
		var st struct {
			Predicate any `json:"predicate"`
		}
		dec := json.NewDecoder(bytes.NewReader(a.Statement))
		dec.UseNumber()
		if dec.Decode(&st) != nil {
			continue
		}
		ok := true
		for _, p := range paths {
			re, err := regexp.Compile(r.Match[p])
			if err != nil || !matchPath(st.Predicate, splitPath(p), re) {
				if field == "" {
					field = p
				}
				ok = false
				break
			}
		}
		if ok {
			return a.Artifact.Digest, ""
		}
	}
	if field == "" && len(paths) > 0 {
		field = "" // no statement of that predicate type at all
	}
	return "", field
}

// matchPath reports whether the value at path in v (descending through
// arrays element by element) is a scalar matching re.
func matchPath(v any, path []string, re *regexp.Regexp) bool {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if matchPath(e, path, re) {
				return true
			}
		}
		return false
	}
	if len(path) == 0 {
		switch x := v.(type) {
		case string:
			return re.MatchString(x)
		case json.Number:
			return re.MatchString(x.String())
		case bool:
			return re.MatchString(strconv.FormatBool(x))
		}
		return false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	next, ok := m[path[0]]
	if !ok {
		return false
	}
	return matchPath(next, path[1:], re)
}

// splitPath splits a dotted field path.
func splitPath(p string) []string { return strings.Split(p, ".") }
