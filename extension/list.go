package extension

import (
	"context"
	"errors"
)

// ListOptions names an install location for [List] and [Verify], as in
// [InstallOptions]: Root, or PGConfig with an optional StateDir.
type ListOptions struct {
	Root     string
	PGConfig string
	StateDir string
}

// List returns the records of the installed packages, sorted by name.
// An install location with no state yet has no package.
func List(ctx context.Context, opts ListOptions) ([]Installed, error) {
	return nil, errors.New("extension: List: not implemented")
}
