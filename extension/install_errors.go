package extension

import (
	"fmt"
	"strings"
)

// ConflictError reports a file that a package would install over a file
// it does not own. It is detected before anything is changed and wraps
// [ErrConflict].
type ConflictError struct {
	// Path is the file, relative to the root in PostgreSQL 18 mode,
	// absolute in PostgreSQL 17 mode.
	Path string
	// Package is the package being installed.
	Package string
	// Owner is the installed package owning Path, or "" when Path belongs
	// to no package pgoci installed (the server's own file, or a stranger).
	Owner string
}

func (e *ConflictError) Error() string {
	owner := "a file pgoci did not install (the server's, or another tool's)"
	if e.Owner != "" {
		owner = fmt.Sprintf("package %q", e.Owner)
	}
	return fmt.Sprintf("%s: package %q would overwrite %s, owned by %s", ErrConflict, e.Package, e.Path, owner)
}

// Unwrap returns ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// DependencyError reports a dependency that cannot be installed: a cycle
// ([ErrDependencyCycle]) or a required extension that could not be
// resolved ([ErrMissingDependency]), with the chain of requirements that
// led to it.
type DependencyError struct {
	// Chain is the chain of requirements, the package asked for first:
	// ["earthdistance", "cube"]; for a cycle it ends with the repeated
	// name.
	Chain []string
	// Extension is the extension required.
	Extension string
	// Reference is the reference tried for it, "" when none was.
	Reference string
	// Looked lists the places searched before Reference, in order, each
	// saying why it did not provide the extension: installed packages,
	// the server's extension directory, the caller's mapping.
	Looked []string
	// Err is ErrDependencyCycle, or ErrMissingDependency joined with the
	// cause.
	Err error
}

func (e *DependencyError) Error() string {
	chain := strings.Join(e.Chain, " -> ")
	looked := ""
	if len(e.Looked) > 0 {
		looked = "; " + strings.Join(e.Looked, "; ")
	}
	if e.Reference == "" {
		return fmt.Sprintf("%v: %s%s", e.Err, chain, looked)
	}
	return fmt.Sprintf("extension: requirement %s: nothing provides extension %q%s; and %s: %v", chain, e.Extension, looked, e.Reference, e.Err)
}

// Unwrap returns the cause.
func (e *DependencyError) Unwrap() error { return e.Err }

// DamagedError reports install records that do not read (a power loss
// can truncate one). [Root.List] returns the records that read together with
// it; [Root.Repair] rebuilds or quarantines the damaged ones. It wraps
// [ErrState].
type DamagedError struct {
	// Records maps each damaged record's package name to why it does not
	// read.
	Records map[string]error
}

func (e *DamagedError) Error() string {
	var parts []string
	for _, name := range keysSorted(e.Records) {
		parts = append(parts, fmt.Sprintf("%s (%v)", name, e.Records[name]))
	}
	return fmt.Sprintf("%s: damaged install records: %s; run Repair (pgoci repair) to rebuild or quarantine them", ErrState, strings.Join(parts, ", "))
}

// Unwrap returns ErrState.
func (e *DamagedError) Unwrap() error { return ErrState }

// InUseError reports an [Root.Uninstall] refused because installed packages
// require one of the package's extensions. It wraps [ErrInUse].
type InUseError struct {
	Package string
	// Dependents maps each installed package that requires it to the
	// extensions it requires from it.
	Dependents map[string][]string
}

func (e *InUseError) Error() string {
	var parts []string
	for _, name := range keysSorted(e.Dependents) {
		parts = append(parts, fmt.Sprintf("%s (requires %s)", name, strings.Join(e.Dependents[name], ", ")))
	}
	return fmt.Sprintf("%s: package %q is required by %s", ErrInUse, e.Package, strings.Join(parts, ", "))
}

// Unwrap returns ErrInUse.
func (e *InUseError) Unwrap() error { return ErrInUse }
