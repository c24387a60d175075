package blobcache

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// EnvDir is the environment variable that names the cache directory,
// first in the [DefaultDir] chain.
const EnvDir = "PGOCI_CACHE_DIR"

// DefaultDir returns the default cache directory, creating it: the first
// usable of
//
//  1. $PGOCI_CACHE_DIR, when set: an absolute path, used as is (an error
//     when it cannot be created; the chain does not go on);
//  2. os.UserCacheDir()/pgoci: $XDG_CACHE_HOME/pgoci or ~/.cache/pgoci on
//     Linux, ~/Library/Caches/pgoci on macOS, %LocalAppData%\pgoci on
//     Windows, when that is defined and can be created (a container
//     without HOME, or with HOME=/ for a user it does not know, has none);
//  3. os.TempDir()/pgoci-cache-<uid> (the effective user id; pgoci-cache
//     on Windows), created with permissions 0700.
//
// Anyone may create names in a shared temporary directory, so on Unix
// systems the last one is used only if it is a real directory (not a
// symbolic link) owned by the current user, in a temporary directory that
// is either not writable by others or has the sticky bit, as /tmp has
// (then nobody else can rename or replace it); group and other
// permissions found on it are removed. A directory someone else created
// first is [ErrUnsafeDir], never used: set $PGOCI_CACHE_DIR. On Windows
// os.TempDir() is already private to the user and ownership is not
// checked.
//
// When none is usable the error wraps [ErrNoDefaultDir] and says why for
// each.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("%w: $%s is %q, not an absolute path", ErrNoDefaultDir, EnvDir, d)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("%w: $%s: %w", ErrNoDefaultDir, EnvDir, err)
		}
		return d, nil
	}
	ucd, uerr := os.UserCacheDir()
	if uerr == nil {
		d := filepath.Join(ucd, "pgoci")
		if uerr = os.MkdirAll(d, 0o755); uerr == nil {
			return d, nil
		}
	}
	d, terr := tempDir()
	if terr == nil {
		return d, nil
	}
	return "", fmt.Errorf("%w (set $%s): %w", ErrNoDefaultDir, EnvDir, reasons{fmt.Errorf("user cache directory: %w", uerr), terr})
}

// reasons are the failures of the candidates, on one line.
type reasons []error

func (r reasons) Error() string {
	s := make([]string, len(r))
	for k, err := range r {
		s[k] = err.Error()
	}
	return strings.Join(s, "; ")
}

func (r reasons) Unwrap() []error { return r }

// tempDir is the last of the DefaultDir chain: os.TempDir()/pgoci-cache-<uid>.
func tempDir() (string, error) {
	name := "pgoci-cache"
	if uid := os.Geteuid(); uid >= 0 {
		name += "-" + strconv.Itoa(uid)
	}
	d := filepath.Join(os.TempDir(), name)
	if err := privateDir(d); err != nil {
		return "", err
	}
	return d, nil
}
