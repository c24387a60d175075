package extension

import (
	"context"
	"errors"

	"github.com/opencontainers/go-digest"
)

// Drift is one difference between an installed file and its record.
type Drift struct {
	// Package is the package owning the file.
	Package string
	// Path is the file: relative to the root in PostgreSQL 18 mode
	// ("packages/cube/…/lib/cube.so", "share/extension/cube.control"),
	// absolute in PostgreSQL 17 mode.
	Path string
	// Problem says what differs: "missing", "modified", "not a
	// regular file", "link changed", "pending" (a commit was interrupted).
	Problem string
	// Want and Got are the recorded and found digest of a modified file
	// (for a link: its targets, in Link fields).
	Want, Got         digest.Digest
	WantLink, GotLink string
}

// Verify re-hashes every installed file against the install records and
// checks the merged-view links, and returns the differences, sorted by
// package and path. No drift is a nil slice.
func Verify(ctx context.Context, opts ListOptions) ([]Drift, error) {
	return nil, errors.New("extension: Verify: not implemented")
}
