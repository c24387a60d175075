package catalog_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pgoci/catalog"
)

func TestParseDocument(t *testing.T) {
	data, err := os.ReadFile("testdata/catalog-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := catalog.ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Repositories) != 3 || d.Repositories[1].Tags[0].Manifests[0].Dirs[2] != "system" ||
		d.Repositories[0].Tags[0].Manifests[1].Platform.Variant != "v8" || d.Repositories[2].Tags == nil {
		t.Errorf("parsed %+v", d)
	}
	again := roundTrip(t, d)
	if diff := cmp.Diff(d, again); diff != "" {
		t.Errorf("marshal and parse again (-first +second):\n%s", diff)
	}
}

func roundTrip(t *testing.T, d *catalog.Document) *catalog.Document {
	t.Helper()
	b, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := catalog.ParseDocument(b)
	if err != nil {
		t.Fatalf("parse of the marshalled document: %v\n%s", err, b)
	}
	return again
}

const (
	dg  = `"sha256:1edc3015e57820e0e1943c2dab1092353d9bf43a0f646881276093fbe0e5314f"`
	man = `{"digest":` + dg + `,"size":10,"platform":{"os":"linux","architecture":"amd64"}}`
	tag = `{"tag":"1.0","digest":` + dg + `,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + man + `]}`
)

func doc(repos string) string { return `{"schemaVersion":1,"repositories":[` + repos + `]}` }
func repo(tags string) string { return `{"name":"a","tags":[` + tags + `]}` }

func TestParseDocumentRefuses(t *testing.T) {
	withManifest := func(m string) string {
		return doc(repo(`{"tag":"1.0","digest":` + dg + `,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + m + `]}`))
	}
	tests := []struct{ name, doc, where string }{
		{"not JSON", `{"schemaVersion":1,`, "unexpected end"},
		{"an array", `[]`, `want "{"`},
		{"trailing data", doc("") + `{}`, "data after the document"},
		{"trailing garbage", doc("") + `x`, "data after the document"},
		{"unknown member", `{"schemaVersion":1,"repositories":[],"extra":1}`, `unknown member "extra"`},
		{"duplicate member", `{"schemaVersion":1,"schemaVersion":1,"repositories":[]}`, `duplicate member "schemaVersion"`},
		{"missing repositories", `{"schemaVersion":1}`, "want the members"},
		{"schema 2", `{"schemaVersion":2,"repositories":[]}`, "schema version 2"},
		{"schema as string", `{"schemaVersion":"1","repositories":[]}`, "want an integer"},
		{"schema huge", `{"schemaVersion":1e999,"repositories":[]}`, "want an integer"},
		{"null repositories", `{"schemaVersion":1,"repositories":null}`, `want "["`},
		{"empty repository", doc(`{}`), "repositories[0]: want the members name and tags"},
		{"bad name", doc(`{"name":"A/b","tags":[]}`), "repositories[0].name: repository path"},
		{"absolute name", doc(`{"name":"/a","tags":[]}`), "repositories[0].name"},
		{"repeated repository", doc(repo("") + "," + repo("")), `repository "a" listed twice`},
		{"bad tag", doc(repo(strings.Replace(tag, `"1.0"`, `"-1"`, 1))), "repositories[0].tags[0].tag"},
		{"repeated tag", doc(repo(tag + "," + tag)), `tag "1.0" listed twice`},
		{"bad digest", doc(repo(strings.Replace(tag, dg, `"sha256:abc"`, 1))), "repositories[0].tags[0].digest"},
		{"unknown media type", doc(repo(strings.Replace(tag, "image.index", "image.layer", 1))), "mediaType"},
		{"no manifests", doc(repo(strings.Replace(tag, man, "", 1))), "at least one manifest"},
		{"manifest tag listing another", doc(repo(strings.Replace(strings.Replace(tag, "image.index", "image.manifest", 1), dg+`,"size"`, `"sha256:580d60cd55e6123786e18b7447fae6c5a0515ec83a7b47f6e337df8652c89475","size"`, 1))), "names a manifest"},
		{"size zero", withManifest(strings.Replace(man, `"size":10`, `"size":0`, 1)), "size"},
		{"size negative", withManifest(strings.Replace(man, `"size":10`, `"size":-1`, 1)), "size"},
		{"size over 4 MiB", withManifest(strings.Replace(man, `"size":10`, `"size":4194305`, 1)), "size"},
		{"size fraction", withManifest(strings.Replace(man, `"size":10`, `"size":1.5`, 1)), "size"},
		{"platform without architecture", withManifest(strings.Replace(man, `,"architecture":"amd64"`, ``, 1)), "want the members os and architecture"},
		{"platform upper case", withManifest(strings.Replace(man, `"amd64"`, `"AMD64"`, 1)), "architecture"},
		{"platform unknown member", withManifest(strings.Replace(man, `"os":"linux"`, `"os":"linux","os.version":"1"`, 1)), `unknown member "os.version"`},
		{"label not a string", withManifest(strings.Replace(man, `}}`, `},"labels":{"a":1}}`, 1)), `labels["a"]`},
		{"label key empty", withManifest(strings.Replace(man, `}}`, `},"labels":{"":"x"}}`, 1)), "label key"},
		{"label repeated", withManifest(strings.Replace(man, `}}`, `},"labels":{"a":"x","a":"y"}}`, 1)), `duplicate member "a"`},
		{"unknown dir", withManifest(strings.Replace(man, `}}`, `},"dirs":["etc"]}`, 1)), `directory "etc"`},
		{"repeated dir", withManifest(strings.Replace(man, `}}`, `},"dirs":["lib","lib"]}`, 1)), `directory "lib"`},
		{"dirsComplete not a bool", withManifest(strings.Replace(man, `}}`, `},"dirsComplete":"yes"}`, 1)), "want true or false"},
		{"empty manifest", withManifest(`{}`), "want the members digest, size and platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.ParseDocument([]byte(tt.doc))
			var de *catalog.DocumentError
			if !errors.Is(err, catalog.ErrDocument) || !errors.As(err, &de) || !strings.Contains(err.Error(), tt.where) {
				t.Errorf("%s: %v, want ErrDocument mentioning %q", tt.doc, err, tt.where)
			}
		})
	}
}

// TestParseDocumentBounds: lists over their bounds are refused at the
// element past the bound, and a large document of elements that are not
// valid costs one element.
func TestParseDocumentBounds(t *testing.T) {
	many := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, ",")
	}
	tests := []struct {
		name, doc, where string
	}{
		{"repositories", doc(many(catalog.MaxRepositories+1, func(i int) string { return fmt.Sprintf(`{"name":"r%d","tags":[]}`, i) })),
			fmt.Sprintf("repositories: more than %d", catalog.MaxRepositories)},
		{"tags", doc(repo(many(catalog.MaxTags+1, func(i int) string { return strings.Replace(tag, `"1.0"`, fmt.Sprintf(`"1.%d"`, i), 1) }))),
			fmt.Sprintf("tags: more than %d", catalog.MaxTags)},
		{"manifests", doc(repo(strings.Replace(tag, man, many(catalog.MaxManifests+1, func(int) string { return man }), 1))),
			fmt.Sprintf("manifests: more than %d", catalog.MaxManifests)},
		{"labels", doc(repo(strings.Replace(tag, man, strings.Replace(man, `}}`, `},"labels":{`+many(catalog.MaxLabels+1, func(i int) string { return fmt.Sprintf(`"k%d":"v"`, i) })+`}}`, 1), 1))),
			fmt.Sprintf("more than %d labels", catalog.MaxLabels)},
		{"long label", doc(repo(strings.Replace(tag, man, strings.Replace(man, `}}`, `},"labels":{"k":"`+strings.Repeat("v", 33<<10)+`"}}`, 1), 1))),
			"over 32768"},
	}
	for _, tt := range tests {
		_, err := catalog.ParseDocument([]byte(tt.doc))
		if !errors.Is(err, catalog.ErrDocument) || !strings.Contains(err.Error(), tt.where) {
			t.Errorf("%s: %v, want ErrDocument mentioning %q", tt.name, err, tt.where)
		}
	}
	// 16 MiB of empty objects: refused at the first, at once.
	var b bytes.Buffer
	b.WriteString(`{"schemaVersion":1,"repositories":[`)
	for b.Len() < catalog.DefaultMaxDocumentSize-8 {
		b.WriteString(`{},`)
	}
	b.WriteString(`{}]}`)
	start := time.Now()
	_, err := catalog.ParseDocument(b.Bytes())
	if !errors.Is(err, catalog.ErrDocument) || !strings.Contains(err.Error(), "repositories[0]") {
		t.Errorf("16 MiB of {}: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("16 MiB of {}: refused after %v", d)
	}
}
