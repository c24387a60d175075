package labels

import (
	"errors"
	"testing"
)

// TestVersionContradictionWithoutMajor: without a major label, version and
// version_num must still agree.
func TestVersionContradictionWithoutMajor(t *testing.T) {
	_, err := Parse(map[string]string{KeyPGXNPGVersion: "18.4", KeyPGXNPGVersionNum: "170004"})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("err = %v, want ErrConflict", err)
	}
	if _, err := Parse(map[string]string{KeyPGXNPGVersion: "17.4", KeyPGXNPGVersionNum: "170004"}); err != nil {
		t.Errorf("agreeing values: %v", err)
	}
}
