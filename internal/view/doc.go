// Package view keeps the links of the merged view of an install root
// (PostgreSQL 18 mode): root/share, lib, system and bin hold symbolic
// links through packages/<name>/current into each package's directory,
// so one rename of current switches a package's every link at once.
//
// It has that one job: where a link points, and making, replacing and
// removing links atomically. Package extension, its only user, decides
// which links a package has, checks conflicts against its install
// records, and tells this package which other packages share a path.
package view
