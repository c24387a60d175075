//go:build unix

package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Flock is an exclusive flock(2) on a file. The kernel releases it when
// the process dies, whatever killed it, so a crashed installer never
// leaves a root locked.
type Flock struct{ f *os.File }

// Lock takes an exclusive lock on path, creating the file, waiting
// until the lock is free or ctx is done. flock(2) cannot be interrupted
// by a context, so it is polled without blocking, backing off to 50 ms.
func Lock(ctx context.Context, path string) (*Flock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("extension: lock %s: %w", path, err)
	}
	wait := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &Flock{f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("extension: lock %s: %w", path, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("extension: waiting for lock %s: %w", path, ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, 50*time.Millisecond)
	}
}

// TryLock takes an exclusive lock on an existing file without waiting;
// ok is false when another process (or another descriptor) holds it.
func TryLock(path string) (l *Flock, ok bool) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, false
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		f.Close()
		return nil, false
	}
	return &Flock{f}, true
}

// Unlock releases the lock (closing the descriptor releases it).
func (l *Flock) Unlock() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// NoFollow makes an open fail on a symbolic link.
const NoFollow = syscall.O_NOFOLLOW
