package catalog_test

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/catalog"
)

// FuzzParseDocument: on any bytes ParseDocument returns a document or an
// error, never panics, and a document it returns marshals to bytes it
// parses back to the same document. Seeds: testdata/catalog-v1.json and
// testdata/fuzz/FuzzParseDocument.
func FuzzParseDocument(f *testing.F) {
	seed, err := os.ReadFile("testdata/catalog-v1.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(doc(repo(tag))))
	f.Add([]byte(`{"schemaVersion":1,"repositories":[{"name":"a","tags":[]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := catalog.ParseDocument(data)
		if err != nil {
			if d != nil {
				t.Fatalf("a document and an error: %v", err)
			}
			return
		}
		b, err := d.Marshal()
		if err != nil {
			t.Fatalf("marshal a parsed document: %v", err)
		}
		again, err := catalog.ParseDocument(b)
		if err != nil {
			t.Fatalf("parse a marshalled document: %v\n%s", err, b)
		}
		if diff := cmp.Diff(d, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
