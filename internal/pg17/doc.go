// Package pg17 places files the way PostgreSQL 17 mode installs them:
// where each path of an image's root layout goes among the server's
// directories (sharedir, pkglibdir, bindir) and the state directory,
// writing each file atomically (temporary name, then rename), control
// files last, and pruning the directories an uninstall leaves empty.
//
// It has that one job. Package extension, its only user, decides what
// to place: it checks conflicts against its install records, writes the
// records, and removes files only when they are still what it
// installed.
package pg17
