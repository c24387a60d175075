package resolve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// permanent are the errors that the same request will meet again: the
// caller, the registry's content or the configuration must change first.
var permanent = []error{
	ErrNotFound, ErrUnauthorized, auth.ErrBasicCredentialNotFound,
	ErrDigest, ErrSize, ErrTooLarge, ErrMediaType, ErrInvalidManifest, ErrTooDeep,
	ErrIncompatible, ErrAmbiguous, ErrNoVersion,
	ErrReference, ErrPlatform, ErrPolicy, ErrVersion, ErrConstraint, ErrPGConfig,
	errdef.ErrUnsupported, errdef.ErrInvalidReference, errdef.ErrInvalidDigest,
	context.Canceled,
}

// IsTemporary reports whether err may go away if the same operation is
// tried again later, unchanged: what a reconcile loop asks before it
// requeues with backoff rather than reports a failure that needs a
// person.
//
// Temporary: a network error (connection refused or reset, DNS failure,
// a body cut short), a timeout (context.DeadlineExceeded included), and
// a registry's 408, 429 or 5xx answer other than 501 and 505 — after
// oras-go's retry client has already retried those a few times (see
// [RemoteOptions.Client]).
//
// Not temporary, whatever else the chain holds: [ErrNotFound] (401/403
// is [ErrUnauthorized], after [ExplainAuth]), other 4xx answers,
// content that fails verification ([ErrDigest], [ErrSize],
// [ErrTooLarge], [ErrMediaType], [ErrInvalidManifest], [ErrTooDeep]),
// resolution outcomes ([ErrIncompatible], [ErrAmbiguous],
// [ErrNoVersion]), invalid input ([ErrReference], [ErrPlatform],
// [ErrPolicy], [ErrVersion], [ErrConstraint], [ErrPGConfig]), a TLS
// certificate that does not verify, and context.Canceled (the caller
// stopped). A *[MirrorError] is classified by its cause. An error this
// function does not know, a trust policy's refusal among them, is not
// temporary: retrying blindly what nobody understood is how loops
// hammer registries.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	for _, p := range permanent {
		if errors.Is(err, p) {
			return false
		}
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		certErr   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &certErr) || errors.As(err, &verifyErr) {
		return false
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		switch c := resp.StatusCode; {
		case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
			return true
		case c == http.StatusNotImplemented, c == http.StatusHTTPVersionNotSupported:
			return false
		default:
			return c >= 500 && c <= 599
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) && (errors.Is(urlErr.Err, io.EOF) || closedBeforeAnswer(urlErr.Err)) {
		return true // the server closed the connection before answering
	}
	var (
		opErr  *net.OpError
		dnsErr *net.DNSError
		netErr net.Error
	)
	switch {
	case errors.As(err, &opErr), errors.As(err, &dnsErr):
		return true
	case errors.As(err, &netErr):
		return netErr.Timeout()
	}
	return false
}

// closedBeforeAnswer reports net/http's unexported error for a connection the
// server closed before any byte of the answer: depending on which of the
// transport's goroutines sees the close first, the same event comes back as
// io.EOF or as this error, which only its text identifies.
func closedBeforeAnswer(err error) bool {
	return err != nil && strings.Contains(err.Error(), "server closed idle connection")
}
