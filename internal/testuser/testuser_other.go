//go:build !linux

package testuser

import "errors"

// drop and restore are Linux-only here: tests that need another user are
// skipped when run as root elsewhere.
func drop(uid, gid int) error { return errors.ErrUnsupported }

func restore() {}

const canSwitch = false
