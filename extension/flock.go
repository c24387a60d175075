//go:build unix

package extension

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// flock is an exclusive flock(2) on a file. The kernel releases it when
// the process dies, whatever killed it, so a crashed installer never
// leaves a root locked.
type flock struct{ f *os.File }

// lockFile takes an exclusive lock on path, creating the file, waiting
// until the lock is free or ctx is done. flock(2) cannot be interrupted
// by a context, so it is polled without blocking, backing off to 50 ms.
func lockFile(ctx context.Context, path string) (*flock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("extension: lock %s: %w", path, err)
	}
	wait := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &flock{f}, nil
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

// tryLock takes an exclusive lock on an existing file without waiting;
// ok is false when another process (or another descriptor) holds it.
func tryLock(path string) (l *flock, ok bool) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, false
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		f.Close()
		return nil, false
	}
	return &flock{f}, true
}

// unlock releases the lock (closing the descriptor releases it).
func (l *flock) unlock() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// installNoFollow makes an open fail on a symbolic link.
const installNoFollow = syscall.O_NOFOLLOW
