package registry

import (
	"net/http"

	"oras.land/oras-go/v2/registry/remote/auth"
)

// Options configures registry access; resolve's RemoteOptions documents
// each field and its default.
type Options struct {
	Client          *http.Client
	Credential      auth.CredentialFunc
	CredentialsFile string
	PlainHTTP       bool
	TagPageSize     int
	MaxTagPages     int
	UserAgent       string
}
