//go:build !unix

package state

import "context"

// Flock is unsupported off Unix: installing needs flock(2).
type Flock struct{}

// Lock fails with [ErrNoLocks] off Unix.
func Lock(ctx context.Context, path string) (*Flock, error) {
	return nil, ErrNoLocks
}

// TryLock never locks off Unix.
func TryLock(path string) (*Flock, bool) { return nil, false }

// Unlock does nothing off Unix.
func (l *Flock) Unlock() {}

// NoFollow is not available off Unix.
const NoFollow = 0
