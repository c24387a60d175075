// Package tmpname makes the random part of temporary file names, so that
// files written next to their destination and renamed into place never
// collide. It has that one job; extension, internal/view and
// internal/pg17 use it.
package tmpname
