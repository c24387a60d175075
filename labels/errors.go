package labels

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every [Problem] wraps exactly one of them, so
// errors.Is(err, ErrInvalidValue) works on the error Parse returns.
var (
	// ErrInvalidValue: a key's value does not have the key's type.
	ErrInvalidValue = errors.New("labels: invalid value")
	// ErrMissingKey: a required key is absent.
	ErrMissingKey = errors.New("labels: missing key")
	// ErrUnknownKey: an org.pgoci.* key the declared schema version does
	// not define.
	ErrUnknownKey = errors.New("labels: unknown key")
	// ErrConflict: two keys that carry the same value disagree (a pgoci
	// key and an anchor key, or two anchors, or pg.major and
	// pg.version_num).
	ErrConflict = errors.New("labels: conflicting values")
)

// Problem is one thing wrong with one key.
type Problem struct {
	Key    string // the offending key
	Value  string // its value as given ("" when missing)
	Reason string // what was expected
	Err    error  // one of the sentinels
}

// Error implements error.
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Err.Error())
	if p.Key != "" {
		fmt.Fprintf(&b, ": key %q", p.Key)
	}
	if p.Value != "" {
		fmt.Fprintf(&b, " = %q", truncate(p.Value, 64))
	}
	if p.Reason != "" {
		b.WriteString(": ")
		b.WriteString(p.Reason)
	}
	return b.String()
}

// Unwrap returns the sentinel.
func (p *Problem) Unwrap() error { return p.Err }

// Error is returned by [Parse]: every problem found, sorted by key.
type Error struct {
	Problems []Problem
}

// Error implements error.
func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].Error()
	}
	msgs := make([]string, len(e.Problems))
	for i := range e.Problems {
		msgs[i] = strings.TrimPrefix(e.Problems[i].Error(), "labels: ")
	}
	return fmt.Sprintf("labels: %d problems: %s", len(e.Problems), strings.Join(msgs, "; "))
}

// Unwrap returns each problem, so errors.Is and errors.As see them all.
func (e *Error) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i := range e.Problems {
		errs[i] = &e.Problems[i]
	}
	return errs
}

// Keys returns the offending keys, sorted, one entry per problem.
func (e *Error) Keys() []string {
	keys := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		keys[i] = p.Key
	}
	return keys
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
