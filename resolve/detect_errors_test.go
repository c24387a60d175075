package resolve

import (
	"errors"
	"testing"

	"pgoci/internal/host"
)

// TestPGConfigErrText keeps host's sentinel text resolve's, since errors
// from host reach callers with host's text and resolve's identity.
func TestPGConfigErrText(t *testing.T) {
	if host.ErrPGConfig.Error() != ErrPGConfig.Error() {
		t.Errorf("host.ErrPGConfig = %q, resolve.ErrPGConfig = %q", host.ErrPGConfig, ErrPGConfig)
	}
	_, err := ParsePGVersion("EnterpriseDB 16")
	if !errors.Is(err, ErrPGConfig) || IsTemporary(err) {
		t.Errorf("err = %v: want ErrPGConfig, not temporary", err)
	}
	if pgConfigErr(nil) != nil {
		t.Error("pgConfigErr(nil) != nil")
	}
}
