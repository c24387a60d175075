// Package state keeps the files of an install's state directory: the
// layout of the directory (installed/, tmp/, the lock), install records
// read and written durably, the lock file of pins, the flock(2) that
// serialises installers, and the private workspaces of installs with the
// cleaning of what killed installs left behind.
//
// It has that one job, and knows files and JSON, not what a record
// means: package extension owns the record type, its sentinels and every
// decision about installing, and is its user (with internal/view and
// internal/pg17, which sync directories and open files through it). Error
// texts keep the "extension:" prefix they had there: they reach
// extension's callers unchanged.
package state
