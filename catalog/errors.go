package catalog

import (
	"errors"
	"fmt"
)

// Errors returned by this package; test with [errors.Is].
var (
	// ErrPrefix: a prefix that is not "host[:port]" or
	// "host[:port]/path" (a tag, a digest, an OCI layout, a bad name).
	ErrPrefix = errors.New("catalog: invalid prefix")
	// ErrNoCatalog: the registry answers no /v2/_catalog request and
	// holds no catalog artifact under the prefix.
	ErrNoCatalog = errors.New("catalog: no catalog")
	// ErrArtifact: the catalog artifact is not one this package reads: a
	// manifest of another artifact type, not exactly one layer of
	// [DocumentMediaType], or a document over the size limit.
	ErrArtifact = errors.New("catalog: invalid catalog artifact")
	// ErrDocument: a catalog document that does not parse: bad JSON, an
	// unknown or duplicate member, a value of the wrong type or out of
	// its bounds, a limit exceeded. The error is a *[DocumentError]
	// naming where.
	ErrDocument = errors.New("catalog: invalid catalog document")
	// ErrTooManyRepositories: the registry lists more repositories under
	// the prefix, or more pages of them, than the options allow.
	ErrTooManyRepositories = errors.New("catalog: too many repositories")
	// ErrImageCatalog: the listings cannot be rendered as a
	// CloudNativePG ImageCatalog (a major without a PostgreSQL image,
	// two listings for one major, more than 8 majors, a bad name).
	ErrImageCatalog = errors.New("catalog: cannot render an ImageCatalog")
)

// DocumentError says where a catalog document is wrong: a JSON path
// such as "repositories[3].tags[0].digest", and what was expected.
type DocumentError struct {
	Path   string
	Reason string
}

// Error implements error.
func (e *DocumentError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", ErrDocument, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", ErrDocument, e.Path, e.Reason)
}

// Unwrap returns [ErrDocument].
func (e *DocumentError) Unwrap() error { return ErrDocument }
