package layout

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps one of them, so
// callers can test with [errors.Is].
var (
	// ErrSyntax reports a control file line that is not valid
	// PostgreSQL configuration-file syntax.
	ErrSyntax = errors.New("layout: syntax error")
	// ErrUnknownParameter reports a control file parameter PostgreSQL
	// does not know (the server says "unrecognized parameter").
	ErrUnknownParameter = errors.New("layout: unrecognized parameter")
	// ErrInvalidValue reports a known parameter with a value of the wrong
	// form (a Boolean that is not one, a bad encoding name, a malformed
	// list of extension names).
	ErrInvalidValue = errors.New("layout: invalid parameter value")
	// ErrNotTree reports a directory that is neither a layout root nor an
	// installed (DESTDIR) tree, one that holds several, or one that holds
	// nothing PostgreSQL can use (no control file, loadable module or
	// program).
	ErrNotTree = errors.New("layout: not an extension tree")
	// ErrSymlinkEscape reports a symbolic link whose target is absolute or
	// leaves the tree.
	ErrSymlinkEscape = errors.New("layout: symlink escapes the tree")
	// ErrDirectory reports a control file whose directory parameter is
	// absolute or leaves the share directory: an image cannot honour it.
	ErrDirectory = errors.New("layout: unusable directory parameter")
	// ErrPath reports a path that cannot be written into a PostgreSQL path
	// setting (relative, or holding a colon, a newline or a NUL).
	ErrPath = errors.New("layout: path not usable in a setting")
)

// ControlError is a problem in one control file, at one line. Line is 0 when
// the problem concerns the file as a whole.
type ControlError struct {
	File string // the file name as given to ParseControl
	Line int    // 1-based line number, 0 for the whole file
	Msg  string // what was found and what was expected
	Err  error  // one of the sentinels above
}

func (e *ControlError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%v: %s line %d: %s", e.Err, e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%v: %s: %s", e.Err, e.File, e.Msg)
}

// Unwrap returns the sentinel.
func (e *ControlError) Unwrap() error { return e.Err }
