//go:build unix

package unpack

import "syscall"

const oNoFollow = syscall.O_NOFOLLOW
