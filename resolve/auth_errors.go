package resolve

import (
	"errors"
	"fmt"
	"net/http"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// ExplainAuth explains the registry errors a caller acts on while reading
// or writing ref. Authentication failures become [ErrUnauthorized] with
// a sentence that says what to do. A missing tag, manifest, blob or
// repository becomes an [ErrNotFound] naming ref: oras-go's own
// not-found errors, and a registry's 404 error responses
// (NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN) that oras-go passes
// through as *errcode.ErrorResponse. Other errors pass through
// unchanged, and so does an error already explained. [Resolve] applies
// it; callers that talk to a registry through [Open] apply it
// themselves.
func ExplainAuth(err error, ref Reference) error {
	if err == nil {
		return err
	}
	if err := explainNotFound(err, ref); err != nil {
		return err
	}
	if ref.Layout != "" {
		return err
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return fmt.Errorf("%w: %s requires credentials and the Docker config has none for it "+
			"(docker login %s, or set DOCKER_CONFIG): %w", ErrUnauthorized, ref.Registry, ref.Registry, err)
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) &&
		(resp.URL == nil || resp.URL.Host == ref.Registry) {
		return fmt.Errorf("%w: %s refused the credentials for %s (HTTP %d): %w",
			ErrUnauthorized, ref.Registry, ref.Repository, resp.StatusCode, err)
	}
	return err
}

// notFoundError is an [ErrNotFound] that names the reference; its
// presence in a chain marks the error as explained.
type notFoundError struct {
	ref string
	err error
}

// Error keeps the cause first, as callers that prefix their own context
// expect, and names the reference after it.
func (e *notFoundError) Error() string {
	return fmt.Sprintf("%v (%s: no such tag, manifest or repository)", e.err, e.ref)
}

// Unwrap returns ErrNotFound and the cause, so that both errors.Is
// ErrNotFound and errors.As of the registry's response hold.
func (e *notFoundError) Unwrap() []error { return []error{ErrNotFound, e.err} }

// explainNotFound returns err as a *notFoundError naming ref when it says
// something does not exist, nil otherwise.
func explainNotFound(err error, ref Reference) error {
	var nf *notFoundError
	if errors.As(err, &nf) {
		return err
	}
	if !errors.Is(err, ErrNotFound) && !isNotFoundResponse(err) {
		return nil
	}
	return &notFoundError{ref: ref.String(), err: err}
}

// isNotFoundResponse reports a registry's 404 answer, or one whose error
// code says the name, manifest or blob is unknown (some registries answer
// those with 400 or 403 for a repository they do not have).
func isNotFoundResponse(err error) bool {
	var resp *errcode.ErrorResponse
	if !errors.As(err, &resp) {
		return false
	}
	if resp.StatusCode == http.StatusNotFound {
		return true
	}
	for _, e := range resp.Errors {
		switch e.Code {
		case errcode.ErrorCodeNameUnknown, errcode.ErrorCodeManifestUnknown, errcode.ErrorCodeBlobUnknown:
			return true
		}
	}
	return false
}
