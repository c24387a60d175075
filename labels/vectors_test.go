package labels_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/labels"
)

var update = flag.Bool("update", false, "rewrite the expected values of the valid conformance vectors")

// vector is one conformance vector; SPEC.md documents the format.
type vector struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Input       map[string]string `json:"input"`
	Expected    json.RawMessage   `json:"expected,omitempty"`
	Errors      []vectorError     `json:"errors,omitempty"`
}

type vectorError struct {
	Key  string `json:"key"`
	Kind string `json:"kind"`
}

// kinds maps the vector error kinds to the sentinels.
var kinds = map[string]error{
	"invalid":  labels.ErrInvalidValue,
	"missing":  labels.ErrMissingKey,
	"unknown":  labels.ErrUnknownKey,
	"conflict": labels.ErrConflict,
}

func TestVectors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "vectors", "*.json"))
	if err != nil || len(files) < 25 {
		t.Fatalf("want at least 25 vectors, found %d (%v)", len(files), err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			runVector(t, file)
		})
	}
}

func runVector(t *testing.T, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	m, err := labels.Parse(v.Input)
	if v.Errors != nil {
		checkVectorErrors(t, v, err)
		return
	}
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		v.Expected = got
		writeVector(t, file, v)
		return
	}
	var gotAny, wantAny any
	if err := json.Unmarshal(got, &gotAny); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(v.Expected, &wantAny); err != nil {
		t.Fatalf("expected: %v (run go test -run TestVectors -update)", err)
	}
	if diff := cmp.Diff(wantAny, gotAny); diff != "" {
		t.Errorf("parsed value differs (-want +got):\n%s", diff)
	}
	checkRoundTrip(t, m)
}

func checkVectorErrors(t *testing.T, v vector, err error) {
	t.Helper()
	var lerr *labels.Error
	if !errors.As(err, &lerr) {
		t.Fatalf("Parse error = %v, want *labels.Error with %v", err, v.Errors)
	}
	var got []vectorError
	for _, p := range lerr.Problems {
		kind := ""
		for k, s := range kinds {
			if errors.Is(&p, s) {
				kind = k
			}
		}
		got = append(got, vectorError{p.Key, kind})
	}
	want := slices.Clone(v.Errors)
	byKey := func(a, b vectorError) int { return strings.Compare(a.Key+" "+a.Kind, b.Key+" "+b.Kind) }
	slices.SortFunc(got, byKey)
	slices.SortFunc(want, byKey)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems differ (-want +got):\n%s\nerror: %v", diff, err)
	}
}

func checkRoundTrip(t *testing.T, m labels.Metadata) {
	t.Helper()
	again, err := labels.Parse(m.Annotations())
	if err != nil {
		t.Fatalf("Parse(Annotations()): %v", err)
	}
	if diff := cmp.Diff(m, again); diff != "" {
		t.Errorf("round trip differs (-parsed +reparsed):\n%s", diff)
	}
}

func writeVector(t *testing.T, file string, v vector) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
