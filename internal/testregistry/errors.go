package testregistry

import (
	"encoding/json"
	"errors"
	"net/http"
)

// ErrInvalidFault is returned by [Registry.AddFault] when a [Fault] cannot
// be installed: an unknown kind or a path pattern that does not compile.
var ErrInvalidFault = errors.New("testregistry: invalid fault")

// Error codes of the OCI distribution specification, section "Error Codes".
const (
	codeBlobUnknown         = "BLOB_UNKNOWN"
	codeBlobUploadInvalid   = "BLOB_UPLOAD_INVALID"
	codeBlobUploadUnknown   = "BLOB_UPLOAD_UNKNOWN"
	codeDigestInvalid       = "DIGEST_INVALID"
	codeManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
	codeManifestInvalid     = "MANIFEST_INVALID"
	codeManifestUnknown     = "MANIFEST_UNKNOWN"
	codeNameInvalid         = "NAME_INVALID"
	codeNameUnknown         = "NAME_UNKNOWN"
	codeSizeInvalid         = "SIZE_INVALID"
	codeUnauthorized        = "UNAUTHORIZED"
	codeUnsupported         = "UNSUPPORTED"
	codeTooManyRequests     = "TOOMANYREQUESTS"
)

// apiError is one entry of the spec's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError sends the spec's JSON error body with the given status.
func writeError(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(struct {
		Errors []apiError `json:"errors"`
	}{Errors: []apiError{{Code: code, Message: message}}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// codeForStatus picks a plausible error code for an injected status.
func codeForStatus(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return codeUnauthorized
	case http.StatusNotFound:
		return codeNameUnknown
	case http.StatusTooManyRequests:
		return codeTooManyRequests
	default:
		return codeUnsupported
	}
}
