//go:build !linux

package main

// resetPeak cannot reset the peak here: peakRSS includes the untimed
// passes.
func resetPeak() {}

func peakRSS() float64 {
	rss, _, _ := usage()
	return rss
}
