//go:build !unix

package ocilayout

import (
	"fmt"
	"os"
)

// lock fails where flock(2) does not exist: writing index.json without it
// could lose another writer's tags.
func lock(f *os.File) error {
	return fmt.Errorf("%w: %s: flock is not available on this system", ErrLock, f.Name())
}
