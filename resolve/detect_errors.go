package resolve

import (
	"errors"

	"pgoci/internal/host"
)

// pgConfigErr gives an error of package host resolve's sentinel: the
// sentinel must stay defined here (its declaration is part of the
// documented API), and host cannot import resolve. The text is unchanged.
func pgConfigErr(err error) error {
	if err == nil || !errors.Is(err, host.ErrPGConfig) {
		return err
	}
	return &hostError{err: err}
}

// hostError is an error of package host that also matches [ErrPGConfig].
type hostError struct{ err error }

func (e *hostError) Error() string { return e.err.Error() }

// Unwrap keeps the cause reachable for errors.As.
func (e *hostError) Unwrap() error { return e.err }

// Is makes errors.Is(err, ErrPGConfig) hold, as it did when resolve
// wrapped its own sentinel.
func (e *hostError) Is(target error) bool { return target == ErrPGConfig }
