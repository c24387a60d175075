//go:build !unix

package unpack

import "os"

const oNoFollow = 0

// umask is unknown here: always chmod.
var umask = os.FileMode(0o777)
