// Package host reads what this machine is: the PostgreSQL installation
// (pg_config), the distribution (os-release), the C library (getconf, ldd
// or the musl loader) and the platform of the running process.
//
// It has that one job. Package resolve composes these readings into its
// Target (resolve.Detect) and keeps the exported names; nothing here
// decides which image fits.
package host
