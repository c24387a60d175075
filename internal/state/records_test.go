package state

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestRecords(t *testing.T) {
	d := Dir(t.TempDir() + "/" + DirName)
	if names, err := d.RecordNames(); err != nil || names != nil {
		t.Fatalf("RecordNames of a missing state = %v, %v; want none", names, err)
	}
	if err := d.Prepare(); err != nil {
		t.Fatal(err)
	}
	type rec struct{ Name string }
	if err := d.WriteRecord("cube", rec{"cube"}); err != nil {
		t.Fatal(err)
	}
	for _, junk := range []string{"notes.txt", "..x.json", ".tmp-cube.json-1"} {
		if err := os.WriteFile(d.Records()+"/"+junk, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names, err := d.RecordNames()
	if err != nil || !slices.Equal(names, []string{"cube"}) {
		t.Fatalf("RecordNames = %v, %v; want [cube]", names, err)
	}
	var got rec
	if err := d.ReadRecord("cube", &got); err != nil || got.Name != "cube" {
		t.Fatalf("ReadRecord = %+v, %v", got, err)
	}
	if err := d.RemoveRecord("cube"); err != nil {
		t.Fatal(err)
	}
	if err := d.ReadRecord("cube", &got); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadRecord of a removed record: %v, want fs.ErrNotExist", err)
	}
	if err := d.RemoveRecord("cube"); err != nil {
		t.Errorf("RemoveRecord of a missing record: %v", err)
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{"cube": true, "pg_ivm": true, "a..b": false, ".x": false, "": false, "a/b": false,
		"postgis-3": true, "libc++": true, "_x": true, "+x": false, "-x": false, "a b": false, "é": false, "x\n": false,
		strings.Repeat("a", 128): true, strings.Repeat("a", 129): false} {
		if ValidName(name) != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, !want, want)
		}
	}
}
