package main

import (
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
)

// resetPeak returns the memory of the untimed passes to the system and
// resets the process's peak RSS (VmHWM), so peakRSS measures what follows.
func resetPeak() {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // best effort
}

// peakRSS is VmHWM in MiB since resetPeak, or the getrusage peak when
// /proc says nothing.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for line := range bytes.Lines(b) {
			if f := bytes.Fields(line); len(f) == 3 && string(f[0]) == "VmHWM:" {
				if kb, err := strconv.ParseFloat(string(f[1]), 64); err == nil {
					return kb / 1024
				}
			}
		}
	}
	rss, _, _ := usage()
	return rss
}
