package trust

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Policy says which images must be signed, by whom, and which attestations
// they must carry. The zero value requires nothing.
//
// The scope applied to an image is the one whose Registry is the longest
// prefix of the image's repository, on path-segment boundaries; without
// one, Default (if set); without that, nothing is required. See
// [Policy.Scope].
type Policy struct {
	// Scopes are the per-registry requirements. Their Registry values
	// must be distinct.
	Scopes []Scope
	// Default applies to repositories no scope matches, and to OCI
	// layouts (which have no registry). Nil: nothing is required there.
	Default *Scope
}

// Scope is the trust requirement for one registry prefix.
//
// A scope that trusts no key and no identity requires nothing: it exempts
// its prefix from a broader scope or from the default. Otherwise an image
// is accepted when the index or the chosen manifest has at least one
// signature that verifies with one of Keys, or with a certificate that
// chains to TrustedRoot and matches one of Identities, and when every
// Require entry is met.
type Scope struct {
	// Registry is the prefix this scope applies to: a registry host
	// ("registry.example.com", "127.0.0.1:5000") optionally followed by
	// repository path segments ("registry.example.com/extensions"). It is
	// matched on whole path segments: "registry.example.com/ext" does not
	// match "registry.example.com/extensions/hstore". Empty for
	// Policy.Default.
	Registry string
	// Keys are the trusted public keys; a signature by any one suffices.
	Keys []PublicKey
	// Identities are the trusted keyless signers (Fulcio certificate
	// issuer and subject); a signature by any one suffices. They need
	// TrustedRoot.
	Identities []Identity
	// TrustedRoot is the Sigstore trusted root (Fulcio CAs, Rekor logs,
	// CT logs, timestamp authorities) that certificates chain to and that
	// transparency log entries are checked against. Required with
	// Identities; optional with Keys, where its Rekor logs make the
	// transparency log entry required.
	TrustedRoot *TrustedRoot
	// IgnoreTlog does not require a transparency log entry even when
	// TrustedRoot has logs, as cosign's --insecure-ignore-tlog: for keys
	// used offline. With Identities, a signed timestamp from one of the
	// trusted root's timestamp authorities is then required instead, since
	// a short-lived certificate needs a trusted time.
	IgnoreTlog bool
	// Require lists the attestations the image must carry.
	Require []Requirement
}

// Identity is a keyless signer: the OIDC issuer and the subject (the
// certificate's SAN: an email, a workflow URI) of a Fulcio certificate.
// Each is given exactly or as a regular expression (Go syntax,
// unanchored: write ^ and $); one of each pair is required.
type Identity struct {
	Issuer        string `json:"issuer,omitempty"`
	IssuerRegExp  string `json:"issuerRegExp,omitempty"`
	Subject       string `json:"subject,omitempty"`
	SubjectRegExp string `json:"subjectRegExp,omitempty"`
}

// String names the identity in messages.
func (id Identity) String() string {
	iss := id.Issuer
	if iss == "" {
		iss = "~" + id.IssuerRegExp
	}
	sub := id.Subject
	if sub == "" {
		sub = "~" + id.SubjectRegExp
	}
	return fmt.Sprintf("identity %s from %s", sub, iss)
}

// Requirement is an attestation the image must carry: a verified in-toto
// statement of PredicateType whose predicate has, at every dotted path of
// Match, a string (or number or boolean, in its JSON spelling) matching
// the regular expression (Go syntax, unanchored). A path into an array
// matches when any element does: "materials.uri" looks at every
// material's uri.
type Requirement struct {
	PredicateType string            `json:"predicateType"`
	Match         map[string]string `json:"match,omitempty"`
}

// KeysPolicy is the policy of `--verify-key FILE...`: every image,
// whatever its registry, must be signed by one of keys. Load each key with
// [LoadPublicKey].
func KeysPolicy(keys ...PublicKey) Policy {
	return Policy{Default: &Scope{Keys: slices.Clone(keys)}}
}

// WithKeys returns p with keys trusted in every scope that trusts a key or
// identity, and in the default scope (created if p has none): the
// combination of --trust-policy and --verify-key. Exempting scopes (no
// key, no identity) stay exempt.
func (p Policy) WithKeys(keys ...PublicKey) Policy {
	out := Policy{Scopes: make([]Scope, len(p.Scopes))}
	for i, s := range p.Scopes {
		if len(s.Keys) > 0 || len(s.Identities) > 0 {
			s.Keys = append(slices.Clone(s.Keys), keys...)
		}
		out.Scopes[i] = s
	}
	d := Scope{}
	if p.Default != nil {
		d = *p.Default
	}
	d.Keys = append(slices.Clone(d.Keys), keys...)
	out.Default = &d
	return out
}

// Scope returns the scope that applies to repository ("host[:port]/path",
// as resolve.Reference.Name gives it; "" for an OCI layout): the scope
// whose Registry is the longest prefix of repository on path-segment
// boundaries, else Default. Nil means nothing is required.
func (p Policy) Scope(repository string) *Scope {
	var best *Scope
	for i := range p.Scopes {
		s := &p.Scopes[i]
		if !prefixMatch(s.Registry, repository) {
			continue
		}
		if best == nil || len(normRegistry(s.Registry)) > len(normRegistry(best.Registry)) {
			best = s
		}
	}
	if best != nil {
		return best
	}
	return p.Default
}

// normRegistry lowercases the host part and drops a trailing slash.
func normRegistry(r string) string {
	r = strings.TrimSuffix(r, "/")
	host, path, ok := strings.Cut(r, "/")
	host = strings.ToLower(host)
	if !ok {
		return host
	}
	return host + "/" + path
}

func prefixMatch(prefix, repository string) bool {
	if prefix == "" || repository == "" {
		return false
	}
	p, r := normRegistry(prefix), normRegistry(repository)
	return r == p || strings.HasPrefix(r, p+"/")
}

// Validate checks what Verify would refuse: an empty or duplicate scope
// registry, an identity without issuer or subject or without a trusted
// root, a regular expression that does not compile, a requirement without
// predicate type or in a scope that trusts no signer. It wraps
// [ErrPolicy].
func (p Policy) Validate() error {
	seen := map[string]bool{}
	for i, s := range p.Scopes {
		name := fmt.Sprintf("scopes[%d]", i)
		if s.Registry == "" {
			return fmt.Errorf("%w: %s: registry is empty (use the default scope)", ErrPolicy, name)
		}
		if strings.ContainsAny(s.Registry, " \t\n@") || strings.Contains(s.Registry, "//") {
			return fmt.Errorf("%w: %s: registry %q is not a host[:port][/path] prefix", ErrPolicy, name, shorten(s.Registry))
		}
		n := normRegistry(s.Registry)
		if seen[n] {
			return fmt.Errorf("%w: %s: registry %q appears twice", ErrPolicy, name, shorten(s.Registry))
		}
		seen[n] = true
		if err := s.validate(name); err != nil {
			return err
		}
	}
	if p.Default != nil {
		if p.Default.Registry != "" {
			return fmt.Errorf("%w: default scope names registry %q", ErrPolicy, shorten(p.Default.Registry))
		}
		return p.Default.validate("default")
	}
	return nil
}

func (s *Scope) validate(name string) error {
	for i, k := range s.Keys {
		if k.Key == nil {
			return fmt.Errorf("%w: %s: keys[%d] (%s) holds no key", ErrPolicy, name, i, k.Name)
		}
	}
	for i, id := range s.Identities {
		if err := id.validate(); err != nil {
			return fmt.Errorf("%w: %s: identities[%d]: %v", ErrPolicy, name, i, err)
		}
	}
	if len(s.Identities) > 0 && s.TrustedRoot == nil {
		return fmt.Errorf("%w: %s: identities need a trustedRoot", ErrPolicy, name)
	}
	for i, r := range s.Require {
		if r.PredicateType == "" {
			return fmt.Errorf("%w: %s: require[%d]: predicateType is empty", ErrPolicy, name, i)
		}
		for path, re := range r.Match {
			if path == "" || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") || strings.Contains(path, "..") {
				return fmt.Errorf("%w: %s: require[%d]: field path %q is not a dotted path", ErrPolicy, name, i, shorten(path))
			}
			if _, err := regexp.Compile(re); err != nil {
				return fmt.Errorf("%w: %s: require[%d]: match %q: %v", ErrPolicy, name, i, path, err)
			}
		}
	}
	if len(s.Require) > 0 && !s.trustsSigner() {
		return fmt.Errorf("%w: %s: require needs keys or identities to verify attestations with", ErrPolicy, name)
	}
	return nil
}

func (id Identity) validate() error {
	if (id.Issuer == "") == (id.IssuerRegExp == "") {
		return errors.New("give exactly one of issuer and issuerRegExp")
	}
	if (id.Subject == "") == (id.SubjectRegExp == "") {
		return errors.New("give exactly one of subject and subjectRegExp")
	}
	for _, re := range []string{id.IssuerRegExp, id.SubjectRegExp} {
		if _, err := regexp.Compile(re); err != nil {
			return err
		}
	}
	return nil
}

// trustsSigner reports whether the scope trusts any key or identity, that
// is whether it requires a signature at all.
func (s *Scope) trustsSigner() bool { return len(s.Keys) > 0 || len(s.Identities) > 0 }

// policyFile is the JSON form of a Policy; see LoadPolicy.
type policyFile struct {
	Version *int        `json:"version"`
	Default *scopeFile  `json:"default,omitempty"`
	Scopes  []scopeFile `json:"scopes,omitempty"`
}

type scopeFile struct {
	Registry           string        `json:"registry,omitempty"`
	Keys               []string      `json:"keys,omitempty"`
	Identities         []Identity    `json:"identities,omitempty"`
	TrustedRoot        string        `json:"trustedRoot,omitempty"`
	InsecureIgnoreTlog bool          `json:"insecureIgnoreTlog,omitempty"`
	Require            []Requirement `json:"require,omitempty"`
}

// maxPolicySize bounds a policy file.
const maxPolicySize = 1 << 20

// LoadPolicy reads a policy file (JSON, see the package documentation):
//
//	{"version": 1,
//	 "default": {"keys": ["acme.pub"]},
//	 "scopes": [{"registry": "registry.example.com/extensions",
//	             "keys": ["/etc/pgoci/acme.pub"],
//	             "identities": [{"issuer": "https://token.actions.githubusercontent.com",
//	                             "subjectRegExp": "^https://github.com/acme/"}],
//	             "trustedRoot": "/etc/pgoci/trusted_root.json",
//	             "insecureIgnoreTlog": false,
//	             "require": [{"predicateType": "https://slsa.dev/provenance/v1",
//	                          "match": {"runDetails.builder.id": "^https://github.com/acme/"}}]}]}
//
// Decoding is strict: an unknown field is an error naming it, version must
// be 1. Key and trusted root paths are read now, relative ones against
// the policy file's directory. Every error wraps [ErrPolicy] (and
// [ErrKey] for a key that does not load).
func LoadPolicy(path string) (Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return Policy{}, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxPolicySize+1))
	if err != nil {
		return Policy{}, fmt.Errorf("%w: %s: %v", ErrPolicy, path, err)
	}
	if len(body) > maxPolicySize {
		return Policy{}, fmt.Errorf("%w: %s is over %d bytes", ErrPolicy, path, maxPolicySize)
	}
	p, err := ParsePolicy(body, filepath.Dir(path))
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy decodes a policy document (see [LoadPolicy]); relative key
// and trusted root paths are resolved against dir.
func ParsePolicy(body []byte, dir string) (Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var pf policyFile
	if err := dec.Decode(&pf); err != nil {
		return Policy{}, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	if dec.More() {
		return Policy{}, fmt.Errorf("%w: data after the policy object", ErrPolicy)
	}
	if pf.Version == nil {
		return Policy{}, fmt.Errorf("%w: version is missing (want 1)", ErrPolicy)
	}
	if *pf.Version != 1 {
		return Policy{}, fmt.Errorf("%w: version %d, want 1", ErrPolicy, *pf.Version)
	}
	var p Policy
	roots := map[string]*TrustedRoot{}
	keys := map[string]PublicKey{}
	for i, sf := range pf.Scopes {
		s, err := sf.load(dir, keys, roots)
		if err != nil {
			return Policy{}, fmt.Errorf("scopes[%d]: %w", i, err)
		}
		p.Scopes = append(p.Scopes, s)
	}
	if pf.Default != nil {
		s, err := pf.Default.load(dir, keys, roots)
		if err != nil {
			return Policy{}, fmt.Errorf("default: %w", err)
		}
		p.Default = &s
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

func (sf scopeFile) load(dir string, keys map[string]PublicKey, roots map[string]*TrustedRoot) (Scope, error) {
	s := Scope{Registry: sf.Registry, Identities: sf.Identities, IgnoreTlog: sf.InsecureIgnoreTlog, Require: sf.Require}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for _, k := range sf.Keys {
		path := abs(k)
		pk, ok := keys[path]
		if !ok {
			var err error
			if pk, err = LoadPublicKey(path); err != nil {
				return Scope{}, fmt.Errorf("%w: %w", ErrPolicy, err)
			}
			keys[path] = pk
		}
		s.Keys = append(s.Keys, pk)
	}
	if sf.TrustedRoot != "" {
		path := abs(sf.TrustedRoot)
		tr, ok := roots[path]
		if !ok {
			var err error
			if tr, err = LoadTrustedRoot(path); err != nil {
				return Scope{}, fmt.Errorf("%w: %w", ErrPolicy, err)
			}
			roots[path] = tr
		}
		s.TrustedRoot = tr
	}
	return s, nil
}
