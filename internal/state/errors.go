package state

import "errors"

// ErrNoLocks: file locks need a Unix system. Package extension turns it
// into its own sentinel, with its own message.
var ErrNoLocks = errors.New("state: file locks need a Unix system")
