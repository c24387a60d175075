// Package depcheck holds no code, only the test that keeps the module's
// import direction: which pgoci packages each package may import. Its
// one table, rules in depcheck_test.go, is where that direction is
// written down; the test names the file and the import that breaks it.
package depcheck
