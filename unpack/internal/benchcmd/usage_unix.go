//go:build unix

package main

import (
	"syscall"
	"time"
)

// usage is the process's peak RSS (MiB) and CPU times so far.
func usage() (maxRSSMiB float64, user, sys time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024, time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
