package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// RecordNames lists the names of the records in the records directory:
// regular files <name>.json with a valid name. A missing directory holds
// none.
func (d Dir) RecordNames() ([]string, error) {
	entries, err := os.ReadDir(d.Records())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !e.Type().IsRegular() || !ValidName(name) {
			continue
		}
		names = append(names, name)
	}
	return names, nil
}

// ReadRecord decodes name's record into rec. A missing record is an
// error matching fs.ErrNotExist; one that does not decode names its file.
// The caller checks what the record says.
func (d Dir) ReadRecord(name string, rec any) error {
	b, err := os.ReadFile(d.Record(name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, rec); err != nil {
		return fmt.Errorf("%s: %w", d.Record(name), err)
	}
	return nil
}

// WriteRecord replaces name's record durably (file and directory synced,
// whatever the installer's durability setting): records are small, and
// one lost to a power loss would leave files nobody owns.
func (d Dir) WriteRecord(name string, rec any) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(d.Record(name), append(b, '\n'), true)
}

// RemoveRecord removes name's record, durably.
func (d Dir) RemoveRecord(name string) error {
	if err := os.Remove(d.Record(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return SyncDir(d.Records())
}
