//go:build linux

package testuser

import "syscall"

// drop sets the effective gid, then uid, of every thread.
func drop(uid, gid int) error {
	if err := syscall.Setresgid(-1, gid, -1); err != nil {
		return err
	}
	return syscall.Setresuid(-1, uid, -1)
}

// restore makes root effective again: uid first, which gives back the
// right to set the gid.
func restore() {
	syscall.Setresuid(-1, 0, -1)
	syscall.Setresgid(-1, 0, -1)
}

const canSwitch = true
