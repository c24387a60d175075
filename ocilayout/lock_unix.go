//go:build unix

package ocilayout

import (
	"fmt"
	"os"
	"syscall"
)

// lock takes an exclusive flock(2) on f, waiting for other holders. flock
// locks belong to the open file description, so two goroutines of one
// process that open the lock file separately exclude each other too.
func lock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrLock, f.Name(), err)
		}
		return nil
	}
}
