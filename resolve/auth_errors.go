package resolve

import (
	"errors"
	"fmt"
	"net/http"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// explainAuth turns the registry client's authentication failures into
// [ErrUnauthorized] with a sentence that says what to do; other errors
// pass through unchanged.
func explainAuth(err error, ref Reference) error {
	if err == nil || ref.Layout != "" {
		return err
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return fmt.Errorf("%w: %s requires credentials and the Docker config has none for it "+
			"(docker login %s, or set DOCKER_CONFIG): %w", ErrUnauthorized, ref.Registry, ref.Registry, err)
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%w: %s refused the credentials for %s (HTTP %d): %w",
			ErrUnauthorized, ref.Registry, ref.Repository, resp.StatusCode, err)
	}
	return err
}
