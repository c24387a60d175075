package sbom

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/testregistry"
	"pgoci/trust/referrers"
)

// sbomFiles are the files of a small extension, hashed.
func sbomFiles(t *testing.T) (map[string][]byte, []File) {
	t.Helper()
	contents := map[string][]byte{
		"share/extension/demo.control":     []byte("default_version = '1.0'\n"),
		"share/extension/demo--1.0.sql":    []byte("CREATE FUNCTION demo() RETURNS int LANGUAGE sql AS 'SELECT 1';\n"),
		"lib/demo.so":                      {0x7f, 'E', 'L', 'F', 0, 1, 2},
		"share/doc/extension/demo/LICENSE": []byte("MIT\n"),
	}
	var files []File
	for p, b := range contents {
		f, err := HashFile(p, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return contents, files
}

func TestBuild(t *testing.T) {
	contents, files := sbomFiles(t)
	in := Package{
		Name: "demo", Version: "1.0.0", Licenses: "MIT OR Apache-2.0", PostgreSQL: "18.4",
		Files: files, Libraries: []string{"libssl.so.3", "libc.so.6", "libssl.so.3"}, OSPackages: []string{"libssl3"},
	}
	doc, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("reproducible", func(t *testing.T) {
		shuffled := in
		shuffled.Files = slices.Clone(files)
		slices.Reverse(shuffled.Files)
		again, err := Build(shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(doc, again) {
			t.Error("the same input in another order gives another document")
		}
		other := in
		other.Version = "1.0.1"
		b, _ := Build(other)
		if namespace(t, b) == namespace(t, doc) {
			t.Error("two versions share a document namespace")
		}
	})
	t.Run("SPDX 2.3 required fields", func(t *testing.T) {
		var d map[string]any
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "demo-1.0.0"} {
			if d[k] != want {
				t.Errorf("%s = %v, want %s", k, d[k], want)
			}
		}
		if ns := d["documentNamespace"].(string); !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(ns) {
			t.Errorf("documentNamespace %q", ns)
		}
		ci := d["creationInfo"].(map[string]any)
		if ci["created"] != "1970-01-01T00:00:00Z" || len(ci["creators"].([]any)) == 0 {
			t.Errorf("creationInfo %v", ci)
		}
		pkgs := d["packages"].([]any)
		main := pkgs[0].(map[string]any)
		for k, want := range map[string]any{"name": "demo", "versionInfo": "1.0.0", "licenseDeclared": "MIT OR Apache-2.0", "downloadLocation": "NOASSERTION", "filesAnalyzed": true} {
			if main[k] != want {
				t.Errorf("package %s = %v, want %v", k, main[k], want)
			}
		}
		names := map[string]string{}
		for _, p := range pkgs[1:] {
			p := p.(map[string]any)
			v, _ := p["versionInfo"].(string)
			names[p["name"].(string)] = v
		}
		if names["postgresql"] != "18.4" || len(names) != 4 {
			t.Errorf("dependency packages = %v, want postgresql 18.4, libc.so.6, libssl.so.3, libssl3", names)
		}
		// The verification code is the SHA1 of the sorted file SHA1s.
		var sha1s []string
		for _, f := range files {
			sha1s = append(sha1s, f.SHA1)
		}
		slices.Sort(sha1s)
		sum := sha1.Sum([]byte(strings.Join(sha1s, "")))
		if vc := main["packageVerificationCode"].(map[string]any)["packageVerificationCodeValue"]; vc != hex.EncodeToString(sum[:]) {
			t.Errorf("verification code %v", vc)
		}
	})
	t.Run("file checksums match the files", func(t *testing.T) {
		var d struct {
			Files []struct {
				FileName  string `json:"fileName"`
				Checksums []struct {
					Algorithm string `json:"algorithm"`
					Value     string `json:"checksumValue"`
				} `json:"checksums"`
			} `json:"files"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Files) != len(contents) {
			t.Fatalf("%d files, want %d", len(d.Files), len(contents))
		}
		for _, f := range d.Files {
			body, ok := contents[strings.TrimPrefix(f.FileName, "./")]
			if !ok {
				t.Errorf("unknown file %s", f.FileName)
				continue
			}
			s256, s1 := sha256.Sum256(body), sha1.Sum(body)
			want := map[string]string{"SHA256": hex.EncodeToString(s256[:]), "SHA1": hex.EncodeToString(s1[:])}
			for _, c := range f.Checksums {
				if want[c.Algorithm] != c.Value {
					t.Errorf("%s %s = %s, want %s", f.FileName, c.Algorithm, c.Value, want[c.Algorithm])
				}
				delete(want, c.Algorithm)
			}
			if len(want) != 0 {
				t.Errorf("%s lacks %v", f.FileName, want)
			}
		}
	})
	t.Run("invalid input", func(t *testing.T) {
		for name, in := range map[string]Package{
			"no name":        {Files: files},
			"bad sha256":     {Name: "x", Files: []File{{Path: "a", SHA256: "zz"}}},
			"duplicate path": {Name: "x", Files: []File{files[0], files[0]}},
		} {
			if _, err := Build(in); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: err = %v, want ErrInvalid", name, err)
			}
		}
	})
	t.Run("without SHA1 the files are not analyzed", func(t *testing.T) {
		b, err := Build(Package{Name: "x", Files: []File{{Path: "a", SHA256: files[0].SHA256}}, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(`"filesAnalyzed": false`)) || !bytes.Contains(b, []byte(`"created": "2026-01-02T03:04:05Z"`)) {
			t.Errorf("document:\n%s", b)
		}
	})
}

func namespace(t *testing.T, doc []byte) string {
	t.Helper()
	var d struct {
		NS string `json:"documentNamespace"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	return d.NS
}

// TestAttachSBOM attaches an SBOM and finds it as a referrer of artifact
// type application/spdx+json, as Trivy looks for it.
func TestAttach(t *testing.T) {
	ctx := context.Background()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	repo, err := remote.NewRepository(srv.Host() + "/sbom/img")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	layer, err := oras.PushBytes(ctx, repo, "application/octet-stream", []byte("with sbom"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.example", oras.PackManifestOptions{Layers: []ocispec.Descriptor{layer}})
	if err != nil {
		t.Fatal(err)
	}
	_, files := sbomFiles(t)
	doc, err := Build(Package{Name: "demo", Version: "1.0", Files: files})
	if err != nil {
		t.Fatal(err)
	}
	d1, err := Attach(ctx, repo, img, doc, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := Attach(ctx, repo, img, doc, time.Time{})
	if err != nil || d1.Digest != d2.Digest {
		t.Errorf("attaching twice: %s then %s (%v): not reproducible", d1.Digest, d2.Digest, err)
	}
	refs, err := registry.Referrers(ctx, repo, img, ArtifactType)
	if err != nil || len(refs) != 1 || refs[0].Digest != d1.Digest {
		t.Fatalf("referrers = %v, %v", refs, err)
	}
	m, err := referrers.FetchManifest(ctx, repo, refs[0])
	if err != nil {
		t.Fatal(err)
	}
	rc, err := repo.Fetch(ctx, m.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if m.Layers[0].MediaType != ArtifactType || !bytes.Equal(got, doc) {
		t.Errorf("layer %s holds another document", m.Layers[0].MediaType)
	}
}
