package trust

import (
	"errors"
	"fmt"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"pgoci/internal/verify"
	"pgoci/trust/referrers"
)

// Errors returned by verification; test with [errors.Is]. A refusal is an
// *[Error] that wraps one of them and names what was checked.
var (
	// ErrNoSignature: neither the index nor the manifest has a signature
	// (no sigstore bundle referrer, no legacy .sig tag) to check.
	ErrNoSignature = errors.New("trust: no signature")
	// ErrUntrustedSigner: signatures exist, but none verifies with a
	// trusted key (signed by another key), or a certificate does not chain
	// to the trusted root.
	ErrUntrustedSigner = errors.New("trust: signed by an untrusted signer")
	// ErrDigestMismatch: a signature verifies but signs another digest: a
	// legacy payload's docker-manifest-digest, an in-toto subject, or a
	// message signature's digest is not the digest it is attached to.
	ErrDigestMismatch = errors.New("trust: signature for another digest")
	// ErrIdentity: a certificate chains to the trusted root but its
	// identity (issuer, subject) matches none of the scope's identities.
	ErrIdentity = errors.New("trust: identity mismatch")
	// ErrTlog: the transparency log inclusion the policy requires is
	// missing or does not verify.
	ErrTlog = errors.New("trust: transparency log inclusion missing or invalid")
	// ErrInvalidSignature: a signature artifact is malformed: a bundle that
	// does not parse, a tampered payload, a signature that does not verify
	// over its content, a referrer of the wrong shape.
	ErrInvalidSignature = errors.New("trust: invalid signature")
	// ErrRequirement: a require entry of the policy is met by no verified
	// attestation; the *Error names the predicate type and the field.
	ErrRequirement = errors.New("trust: requirement not met")
	// ErrTooManyReferrers: a subject lists more referrers than
	// [Options.MaxReferrers] allows; nothing past the bound is read.
	ErrTooManyReferrers = referrers.ErrTooMany
	// ErrPolicy: a policy file or typed policy that cannot be used: unknown
	// fields, a version other than 1, an unreadable key or trusted root, a
	// regular expression that does not compile, a scope that requires
	// attestations but trusts no key or identity.
	ErrPolicy = errors.New("trust: invalid policy")
	// ErrKey: a key file that cannot be read or decrypted, or a key of an
	// unsupported type.
	ErrKey = errors.New("trust: invalid key")

	// ErrDigest: fetched content does not hash to its descriptor (the same
	// value as resolve.ErrDigest).
	ErrDigest = verify.ErrDigest
	// ErrSize: fetched content is not its descriptor's size (the same
	// value as resolve.ErrSize).
	ErrSize = verify.ErrSize
	// ErrTooLarge: a manifest or signature body over its size limit,
	// refused before it is read.
	ErrTooLarge = referrers.ErrTooLarge
)

// Error is a verification refusal. It wraps the sentinel that says why
// (Err) and every check's own error, so errors.Is finds both the
// overall reason and each candidate's.
type Error struct {
	// Reference names what was verified: "repository@digest" of the
	// manifest.
	Reference string
	// Scope is the registry prefix of the policy scope applied ("" for
	// the default scope).
	Scope string
	// Subjects are the digests whose signatures were looked for: the
	// index (when given) and the manifest.
	Subjects []digest.Digest
	// Expected says what the policy trusts: key names and identities.
	Expected []string
	// Checks are the signature artifacts examined, each with why it was
	// not accepted; empty when none was found.
	Checks []Check
	// Requirement is the unmet requirement, for [ErrRequirement].
	Requirement *Requirement
	// Field is the requirement's field that no statement matched (""
	// when no statement of the predicate type was verified at all).
	Field string
	// Err is the sentinel: ErrNoSignature, ErrUntrustedSigner,
	// ErrDigestMismatch, ErrIdentity, ErrTlog, ErrInvalidSignature,
	// ErrRequirement or ErrTooManyReferrers.
	Err error
}

// Error names the reference, the scope, what was expected and each check.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	b.WriteString(": ")
	b.WriteString(e.Reference)
	if e.Scope != "" {
		fmt.Fprintf(&b, " (policy scope %q)", e.Scope)
	} else {
		b.WriteString(" (default policy scope)")
	}
	if e.Requirement != nil {
		fmt.Fprintf(&b, ": no verified attestation of predicate type %q", e.Requirement.PredicateType)
		if e.Field != "" {
			fmt.Fprintf(&b, " has %s matching %q", e.Field, e.Requirement.Match[e.Field])
		}
	}
	if len(e.Subjects) > 0 && e.Requirement == nil {
		subj := make([]string, len(e.Subjects))
		for i, s := range e.Subjects {
			subj[i] = s.String()
		}
		fmt.Fprintf(&b, ": checked signatures of %s", strings.Join(subj, ", "))
	}
	if len(e.Expected) > 0 {
		fmt.Fprintf(&b, "; trusted: %s", strings.Join(e.Expected, ", "))
	}
	for i, c := range e.Checks {
		if i == 8 {
			fmt.Fprintf(&b, "; and %d more", len(e.Checks)-i)
			break
		}
		fmt.Fprintf(&b, "; %s %s on %s: %v", c.Format, c.Artifact.Digest, c.Subject, trimPrefix(c.Err))
	}
	return b.String()
}

// Unwrap returns Err and each check's error.
func (e *Error) Unwrap() []error {
	out := []error{e.Err}
	for _, c := range e.Checks {
		if c.Err != nil {
			out = append(out, c.Err)
		}
	}
	return out
}

// trimPrefix drops the sentinel's text from a nested message ("trust:
// signed by an untrusted signer: signed by another key" becomes "signed
// by another key"): the outer message names it already.
func trimPrefix(err error) string {
	m := err.Error()
	for _, r := range append(reasonRank, ErrNoSignature, ErrRequirement) {
		if errors.Is(err, r) {
			m = strings.TrimPrefix(m, r.Error()+": ")
		}
	}
	return strings.TrimPrefix(m, "trust: ")
}

// reasonRank orders the sentinels from the most telling to the least:
// the one an *Error reports when several checks failed differently.
var reasonRank = []error{ErrDigestMismatch, ErrIdentity, ErrTlog, ErrUntrustedSigner, ErrInvalidSignature, ErrTooManyReferrers}

// mainReason picks the sentinel of the most telling check failure.
func mainReason(checks []Check) error {
	for _, r := range reasonRank {
		for _, c := range checks {
			if errors.Is(c.Err, r) {
				return r
			}
		}
	}
	if len(checks) > 0 {
		return ErrInvalidSignature
	}
	return ErrNoSignature
}

func shorten(s string) string { return verify.Truncate(s) }
