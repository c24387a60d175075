package resolve

import (
	"errors"
	"fmt"
	"net/http"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// ExplainAuth turns the registry client's authentication failures while
// reading or writing ref into [ErrUnauthorized] with a sentence that says
// what to do; other errors pass through unchanged. [Resolve] applies it;
// callers that talk to a registry through [Open] apply it themselves.
func ExplainAuth(err error, ref Reference) error {
	if err == nil || ref.Layout != "" {
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
