package resolve

import "errors"

// Errors returned by target detection and resolution; test with [errors.Is].
var (
	// ErrPGConfig: pg_config could not be run or its output not understood.
	ErrPGConfig = errors.New("resolve: pg_config")
)
