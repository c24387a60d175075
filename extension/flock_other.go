//go:build !unix

package extension

import (
	"context"
	"fmt"
)

// flock is unsupported off Unix: installing needs flock(2).
type flock struct{}

func lockFile(ctx context.Context, path string) (*flock, error) {
	return nil, fmt.Errorf("%w: file locks need a Unix system", ErrLocation)
}

func tryLock(path string) (*flock, bool) { return nil, false }

func (l *flock) unlock() {}

// installNoFollow is not available off Unix.
const installNoFollow = 0
