//go:build !unix

package main

import "time"

// usage is unknown on this system: zeros.
func usage() (maxRSSMiB float64, user, sys time.Duration) { return 0, 0, 0 }
