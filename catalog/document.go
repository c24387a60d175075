package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/internal/registry"
	"pgoci/layout"
	"pgoci/resolve"
)

// Media types and names of the catalog artifact.
const (
	// ArtifactType is the artifactType of the catalog artifact's
	// manifest (its config is the OCI empty descriptor).
	ArtifactType = "application/vnd.pgoci.catalog.v1+json"
	// DocumentMediaType is the media type of its one layer, the
	// [Document] as JSON.
	DocumentMediaType = "application/vnd.pgoci.catalog.v1+json"
	// RepositoryName is the repository, under the prefix, that holds the
	// catalog artifact: PREFIX/catalog. No extension repository may use
	// it.
	RepositoryName = "catalog"
	// Tag is the tag of the current catalog artifact.
	Tag = "latest"
	// SchemaVersion is the version of the document format this package
	// writes and reads.
	SchemaVersion = 1
)

// Bounds of a catalog document. A document that exceeds one is refused
// while it is read ([ErrDocument]); none is a memory cost the input does
// not pay for byte by byte.
const (
	// DefaultMaxDocumentSize is the largest document read, checked
	// against the layer's descriptor before a byte is fetched; raise it
	// with [Options].MaxDocumentSize.
	DefaultMaxDocumentSize = 16 << 20
	// MaxRepositories is the most repositories a document lists.
	MaxRepositories = 10_000
	// MaxTags is the most tags a document lists per repository.
	MaxTags = 1000
	// MaxManifests is the most manifests a document lists per tag.
	MaxManifests = 256
	// MaxLabels is the most labels a document lists per manifest.
	MaxLabels = 512
	// maxLabelKey and maxLabelValue bound one label.
	maxLabelKey   = 256
	maxLabelValue = 32 << 10
	// maxName is the longest repository path (the distribution spec's
	// limit on a whole name is 255 bytes, host included).
	maxName = 255
	// maxPlatformField bounds an os, architecture or variant.
	maxPlatformField = 64
)

// Document is the catalog artifact's content: every repository under a
// prefix, its version tags, what each tag names (an index or a manifest),
// and for each manifest its platform, the labels a resolver selects on,
// and the image root directories its labels show.
//
// As JSON (member names below; every member not marked optional is
// required, unknown members are an error):
//
//	{
//	  "schemaVersion": 1,
//	  "repositories": [{
//	    "name": "pgvector",                        // the path below the prefix
//	    "tags": [{
//	      "tag": "0.8.1-18-trixie",
//	      "digest": "sha256:...",                  // what the tag names
//	      "mediaType": "application/vnd.oci.image.index.v1+json",
//	      "manifests": [{
//	        "digest": "sha256:...", "size": 1234,
//	        "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
//	        "labels": {"org.pgoci.pg.major": "18", ...},   // optional
//	        "dirs": ["share", "lib"],                      // optional
//	        "dirsComplete": true                           // optional
//	      }]
//	    }]
//	  }]
//	}
type Document struct {
	SchemaVersion int               `json:"schemaVersion"`
	Repositories  []RepositoryEntry `json:"repositories"`
}

// RepositoryEntry is one repository of a [Document].
type RepositoryEntry struct {
	// Name is the repository's path below the prefix: "pgvector", or
	// "contrib/hstore".
	Name string `json:"name"`
	// Tags are its version tags, newest first (see [resolve.SelectTags]).
	Tags []TagEntry `json:"tags"`
}

// TagEntry is one tag of a repository and what it names.
type TagEntry struct {
	Tag string `json:"tag"`
	// Digest and MediaType describe what the tag names: an image index,
	// or a single manifest (then Manifests holds that one).
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	// Manifests are the images of the index (attestations left out).
	Manifests []ManifestEntry `json:"manifests"`
}

// ManifestEntry is one image of a tag.
type ManifestEntry struct {
	Digest   digest.Digest `json:"digest"`
	Size     int64         `json:"size"`
	Platform Platform      `json:"platform"`
	// Labels are the labels a resolver needs, merged from the index
	// descriptor, the config (when it was read) and the manifest: the
	// selection subset of labels/SPEC.md, the extensions and their
	// default versions, modules, programs, preload, restart, base image,
	// ICU major, compiler, and the CloudNativePG, PGXN and OCI anchor
	// keys that give these values. The ELF objects and the licenses are
	// left out.
	Labels map[string]string `json:"labels,omitempty"`
	// Dirs and DirsComplete are extension.ImageDirs of the image's full
	// labels, taken when the catalog was published.
	Dirs         []string `json:"dirs,omitempty"`
	DirsComplete bool     `json:"dirsComplete,omitempty"`
}

// Platform is an image's OCI platform.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// OCI returns p as an OCI platform.
func (p Platform) OCI() ocispec.Platform {
	return ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
}

// Marshal renders d as compact JSON, the way [Publish] stores it.
func (d *Document) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("catalog: encode the document: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// ParseDocument decodes a catalog document strictly: exactly one JSON
// object, no unknown or duplicate member, every value of its type and
// within its bounds (repositories, tags, manifests, labels, string
// lengths; names, tags, digests and platforms by their grammars), and
// nothing after it. Elements are checked as they are read, so a
// document of millions of empty objects is refused at the first one.
// Errors are *[DocumentError], wrapping [ErrDocument].
func ParseDocument(data []byte) (*Document, error) {
	p := &parser{dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	d, err := p.document()
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, &DocumentError{Reason: "data after the document"}
	}
	return d, nil
}

// parser reads a document token by token.
type parser struct {
	dec  *json.Decoder
	path []string
}

func (p *parser) fail(format string, a ...any) error {
	return &DocumentError{Path: strings.TrimPrefix(strings.Join(p.path, ""), "."), Reason: fmt.Sprintf(format, a...)}
}

func (p *parser) push(s string) { p.path = append(p.path, s) }
func (p *parser) pop()          { p.path = p.path[:len(p.path)-1] }

func (p *parser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, p.fail("unexpected end of the document")
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, p.fail("bad JSON at byte %d: %v", se.Offset, err)
		}
		return nil, p.fail("bad JSON: %v", err)
	}
	return t, nil
}

func (p *parser) delim(want json.Delim) error {
	t, err := p.token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return p.fail("want %q, found %s", want, describe(t))
	}
	return nil
}

// object reads an object, calling member for each member name, which
// must read the value. Duplicate names are an error.
func (p *parser) object(member func(name string) error) error {
	if err := p.delim('{'); err != nil {
		return err
	}
	var seen []string
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		if slices.Contains(seen, name) {
			return p.fail("duplicate member %q", truncate(name))
		}
		seen = append(seen, name)
		if err := member(name); err != nil {
			return err
		}
	}
	return p.delim('}')
}

// array reads an array of at most max elements.
func (p *parser) array(max int, elem func(i int) error) error {
	if err := p.delim('['); err != nil {
		return err
	}
	n := 0
	for p.dec.More() {
		if n >= max {
			return p.fail("more than %d elements", max)
		}
		p.push("[" + strconv.Itoa(n) + "]")
		if err := elem(n); err != nil {
			return err
		}
		p.pop()
		n++
	}
	return p.delim(']')
}

func (p *parser) str(max int) (string, error) {
	t, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", p.fail("want a string, found %s", describe(t))
	}
	if len(s) > max {
		return "", p.fail("a string of %d bytes, over %d", len(s), max)
	}
	return s, nil
}

func (p *parser) int(lo, hi int64) (int64, error) {
	t, err := p.token()
	if err != nil {
		return 0, err
	}
	num, ok := t.(json.Number)
	if !ok {
		return 0, p.fail("want an integer, found %s", describe(t))
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, p.fail("want an integer from %d to %d, found %s", lo, hi, truncate(string(num)))
	}
	return n, nil
}

func (p *parser) bool() (bool, error) {
	t, err := p.token()
	if err != nil {
		return false, err
	}
	b, ok := t.(bool)
	if !ok {
		return false, p.fail("want true or false, found %s", describe(t))
	}
	return b, nil
}

func (p *parser) unknown(name string) error {
	return p.fail("unknown member %q", truncate(name))
}

// field reads the value of member name into one of the document's
// fields, with p.path naming it.
func (p *parser) field(name string, read func() error) error {
	p.push("." + name)
	if err := read(); err != nil {
		return err
	}
	p.pop()
	return nil
}

func (p *parser) document() (*Document, error) {
	d := &Document{}
	var haveVersion, haveRepos bool
	err := p.object(func(name string) error {
		switch name {
		case "schemaVersion":
			haveVersion = true
			return p.field(name, func() error {
				n, err := p.int(1, 999)
				if err == nil && n != SchemaVersion {
					err = p.fail("schema version %d; this reader knows %d", n, SchemaVersion)
				}
				d.SchemaVersion = int(n)
				return err
			})
		case "repositories":
			haveRepos = true
			return p.field(name, func() error {
				d.Repositories = []RepositoryEntry{}
				seen := map[string]bool{}
				return p.array(MaxRepositories, func(int) error {
					r, err := p.repository()
					if err != nil {
						return err
					}
					if seen[r.Name] {
						return p.fail("repository %q listed twice", r.Name)
					}
					seen[r.Name] = true
					d.Repositories = append(d.Repositories, r)
					return nil
				})
			})
		}
		return p.unknown(name)
	})
	if err != nil {
		return nil, err
	}
	if !haveVersion || !haveRepos {
		return nil, p.fail("want the members schemaVersion and repositories")
	}
	return d, nil
}

func (p *parser) repository() (RepositoryEntry, error) {
	var r RepositoryEntry
	var haveTags bool
	err := p.object(func(name string) error {
		switch name {
		case "name":
			return p.field(name, func() error {
				s, err := p.str(maxName)
				if err == nil {
					err = p.check(checkRepositoryPath(s))
				}
				r.Name = s
				return err
			})
		case "tags":
			haveTags = true
			return p.field(name, func() error {
				r.Tags = []TagEntry{}
				seen := map[string]bool{}
				return p.array(MaxTags, func(int) error {
					t, err := p.tag()
					if err != nil {
						return err
					}
					if seen[t.Tag] {
						return p.fail("tag %q listed twice", t.Tag)
					}
					seen[t.Tag] = true
					r.Tags = append(r.Tags, t)
					return nil
				})
			})
		}
		return p.unknown(name)
	})
	if err == nil && (r.Name == "" || !haveTags) {
		err = p.fail("want the members name and tags")
	}
	return r, err
}

func (p *parser) check(err error) error {
	if err != nil {
		return p.fail("%v", err)
	}
	return nil
}

func (p *parser) tag() (TagEntry, error) {
	var t TagEntry
	err := p.object(func(name string) error {
		switch name {
		case "tag":
			return p.field(name, func() error {
				s, err := p.str(128)
				if err == nil && !registry.ValidTag(s) {
					err = p.fail("tag %q: want [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}", s)
				}
				t.Tag = s
				return err
			})
		case "digest":
			return p.field(name, func() error {
				var err error
				t.Digest, err = p.digest()
				return err
			})
		case "mediaType":
			return p.field(name, func() error {
				s, err := p.str(256)
				if err == nil && !resolve.IsIndexMediaType(s) && !resolve.IsManifestMediaType(s) {
					err = p.fail("media type %q: want an image index or manifest", s)
				}
				t.MediaType = s
				return err
			})
		case "manifests":
			return p.field(name, func() error {
				t.Manifests = []ManifestEntry{}
				return p.array(MaxManifests, func(int) error {
					m, err := p.manifest()
					t.Manifests = append(t.Manifests, m)
					return err
				})
			})
		}
		return p.unknown(name)
	})
	if err != nil {
		return t, err
	}
	switch {
	case t.Tag == "" || t.Digest == "" || t.MediaType == "" || len(t.Manifests) == 0:
		return t, p.fail("want the members tag, digest, mediaType and at least one manifest")
	case resolve.IsManifestMediaType(t.MediaType) && (len(t.Manifests) != 1 || t.Manifests[0].Digest != t.Digest):
		return t, p.fail("tag %s names a manifest: want that manifest alone in manifests", t.Tag)
	}
	return t, nil
}

func (p *parser) digest() (digest.Digest, error) {
	s, err := p.str(256)
	if err != nil {
		return "", err
	}
	d, err := digest.Parse(s)
	if err != nil {
		return "", p.fail("digest %q: %v", truncate(s), err)
	}
	return d, nil
}

func (p *parser) manifest() (ManifestEntry, error) {
	var m ManifestEntry
	err := p.object(func(name string) error {
		switch name {
		case "digest":
			return p.field(name, func() error {
				var err error
				m.Digest, err = p.digest()
				return err
			})
		case "size":
			return p.field(name, func() error {
				n, err := p.int(1, resolve.MaxManifestSize)
				m.Size = n
				return err
			})
		case "platform":
			return p.field(name, func() error {
				var err error
				m.Platform, err = p.platform()
				return err
			})
		case "labels":
			return p.field(name, func() error {
				var err error
				m.Labels, err = p.labels()
				return err
			})
		case "dirs":
			return p.field(name, func() error {
				return p.array(4, func(int) error {
					s, err := p.str(16)
					if err != nil {
						return err
					}
					if !slices.Contains(knownDirs, s) || slices.Contains(m.Dirs, s) {
						return p.fail("directory %q: want each of %s at most once", truncate(s), strings.Join(knownDirs, ", "))
					}
					m.Dirs = append(m.Dirs, s)
					return nil
				})
			})
		case "dirsComplete":
			return p.field(name, func() error {
				var err error
				m.DirsComplete, err = p.bool()
				return err
			})
		}
		return p.unknown(name)
	})
	if err == nil && (m.Digest == "" || m.Size == 0 || m.Platform.OS == "") {
		err = p.fail("want the members digest, size and platform")
	}
	return m, err
}

// knownDirs are the image root directories a document may name, in the
// order they are written.
var knownDirs = []string{layout.DirShare, layout.DirLib, layout.DirSystem, layout.DirBin}

var platformRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

func (p *parser) platform() (Platform, error) {
	var pl Platform
	err := p.object(func(name string) error {
		var dst *string
		switch name {
		case "os":
			dst = &pl.OS
		case "architecture":
			dst = &pl.Architecture
		case "variant":
			dst = &pl.Variant
		default:
			return p.unknown(name)
		}
		return p.field(name, func() error {
			s, err := p.str(maxPlatformField)
			if err == nil && !platformRE.MatchString(s) {
				err = p.fail("%q: want [a-z0-9][a-z0-9._-]*", truncate(s))
			}
			*dst = s
			return err
		})
	})
	if err == nil && (pl.OS == "" || pl.Architecture == "") {
		err = p.fail("want the members os and architecture")
	}
	return pl, err
}

func (p *parser) labels() (map[string]string, error) {
	out := map[string]string{}
	err := p.object(func(name string) error {
		if len(out) >= MaxLabels {
			return p.fail("more than %d labels", MaxLabels)
		}
		if name == "" || len(name) > maxLabelKey {
			return p.fail("a label key of %d bytes: want 1 to %d", len(name), maxLabelKey)
		}
		p.push("[" + strconv.Quote(truncate(name)) + "]")
		v, err := p.str(maxLabelValue)
		if err != nil {
			return err
		}
		p.pop()
		out[name] = v
		return nil
	})
	if len(out) == 0 {
		out = nil // as Marshal leaves it out
	}
	return out, err
}

// describe names a JSON token in an error.
func describe(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		return strconv.Quote(v.String())
	case string:
		return "the string " + strconv.Quote(truncate(v))
	case json.Number:
		return "the number " + truncate(string(v))
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", t)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}

// pathComponentRE is one component of a repository name, as the
// distribution spec writes it.
var pathComponentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$`)

// checkRepositoryPath checks a repository path below a prefix (or a
// prefix's path): slash-separated components of the distribution spec's
// grammar, at most 255 bytes.
func checkRepositoryPath(s string) error {
	if s == "" || len(s) > maxName {
		return fmt.Errorf("repository path %q: want 1 to %d bytes", truncate(s), maxName)
	}
	for c := range strings.SplitSeq(s, "/") {
		if !pathComponentRE.MatchString(c) {
			return fmt.Errorf("repository path %q: component %q is not [a-z0-9]+ separated by . _ __ or -", truncate(s), truncate(c))
		}
	}
	return nil
}
