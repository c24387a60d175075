package sbom

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"pgoci/internal/verify"
	"pgoci/trust/referrers"
)

// Package describes what [Build] writes: one extension package, its
// files and what it needs at run time.
type Package struct {
	// Name and Version of the package (labels.Package). Name is required.
	Name    string
	Version string
	// Licenses is the package's SPDX license expression
	// (labels.Metadata.Licenses); "" is NOASSERTION.
	Licenses string
	// PostgreSQL is the server version the package was built for ("18.4",
	// or the major "18"); recorded as a dependency package "postgresql".
	PostgreSQL string
	// Supplier is the SPDX supplier ("Organization: Acme"); "" is
	// NOASSERTION.
	Supplier string
	// Files are the package's files, at their paths in the image.
	Files []File
	// Libraries are the shared libraries the modules need (DT_NEEDED
	// sonames such as "libssl.so.3"), and OSPackages the OS packages
	// (labels.Metadata.OSRequires); each becomes a package the extension
	// DEPENDS_ON.
	Libraries  []string
	OSPackages []string
	// Created is the document's creation time. Default: the Unix epoch,
	// so that the document is reproducible (Pack passes its
	// SOURCE_DATE_EPOCH mtime).
	Created time.Time
}

// File is one file of the package.
type File struct {
	// Path is the file's path in the image ("share/extension/x.control").
	Path string
	// SHA256 is the hex SHA-256 of the content. Required.
	SHA256 string
	// SHA1 is the hex SHA-1 of the content. SPDX 2.3 wants a SHA1
	// checksum for every file, and the package verification code is made
	// of them: give it (see [HashFile]) for a document strict validators
	// accept. Without it on every file, the package is written with
	// filesAnalyzed false.
	SHA1 string
}

// HashFile reads r to the end and returns the File for path,
// with both checksums.
func HashFile(path string, r io.Reader) (File, error) {
	h1, h256 := sha1.New(), sha256.New()
	if _, err := io.Copy(io.MultiWriter(h1, h256), r); err != nil {
		return File{}, fmt.Errorf("sbom: hash %s: %w", path, err)
	}
	return File{Path: path, SHA256: hex.EncodeToString(h256.Sum(nil)), SHA1: hex.EncodeToString(h1.Sum(nil))}, nil
}

// ArtifactType is the artifact type (and layer media type) of an SPDX
// JSON SBOM referrer.
const ArtifactType = referrers.ArtifactTypeSPDX

// ErrInvalid: a package description that cannot be written (no name, a
// malformed checksum, a path listed twice).
var ErrInvalid = errors.New("sbom: invalid package description")

// SPDX 2.3 JSON, the parts written here.
type spdxDocument struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreationInfo   `json:"creationInfo"`
	DocumentDescribes []string           `json:"documentDescribes"`
	Packages          []spdxPackage      `json:"packages"`
	Files             []spdxFile         `json:"files,omitempty"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID                string            `json:"SPDXID"`
	Name                  string            `json:"name"`
	VersionInfo           string            `json:"versionInfo,omitempty"`
	Supplier              string            `json:"supplier,omitempty"`
	DownloadLocation      string            `json:"downloadLocation"`
	FilesAnalyzed         bool              `json:"filesAnalyzed"`
	VerificationCode      *spdxVerification `json:"packageVerificationCode,omitempty"`
	LicenseConcluded      string            `json:"licenseConcluded"`
	LicenseDeclared       string            `json:"licenseDeclared"`
	CopyrightText         string            `json:"copyrightText"`
	PrimaryPackagePurpose string            `json:"primaryPackagePurpose,omitempty"`
	Comment               string            `json:"comment,omitempty"`
	HasFiles              []string          `json:"hasFiles,omitempty"`
	ExternalRefs          []spdxExternalRef `json:"externalRefs,omitempty"`
	LicenseInfoFromFiles  []string          `json:"licenseInfoFromFiles,omitempty"`
}

type spdxVerification struct {
	Value string `json:"packageVerificationCodeValue"`
}

type spdxExternalRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxFile struct {
	SPDXID            string         `json:"SPDXID"`
	FileName          string         `json:"fileName"`
	Checksums         []spdxChecksum `json:"checksums"`
	LicenseConcluded  string         `json:"licenseConcluded"`
	CopyrightText     string         `json:"copyrightText"`
	LicenseInfoInFile []string       `json:"licenseInfoInFiles,omitempty"`
}

type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

var (
	hexRe     = regexp.MustCompile(`^[0-9a-f]+$`)
	spdxIDBad = regexp.MustCompile(`[^A-Za-z0-9.-]+`)
)

// maxSBOMFiles bounds the files of one document.
const maxSBOMFiles = 100000

// Build writes an SPDX 2.3 JSON document for s: the package (name,
// version, declared licenses, a purl pkg:generic/NAME@VERSION), a
// "postgresql" package at the server version it was built for, every file
// with its checksums (CONTAINS), and a package per shared library or OS
// package it DEPENDS_ON.
//
// The output is reproducible: the same input gives the same bytes. The
// creation time is s.Created (default the Unix epoch, never the wall
// clock); the document namespace is "urn:uuid:" and a UUID (version 5
// layout) derived from the SHA-256 of the canonical input, so two
// different packages never share one and the same package always gets the
// same.
func Build(s Package) ([]byte, error) {
	if s.Name == "" {
		return nil, fmt.Errorf("%w: the package name is empty", ErrInvalid)
	}
	if len(s.Files) > maxSBOMFiles {
		return nil, fmt.Errorf("%w: %d files, over %d", ErrInvalid, len(s.Files), maxSBOMFiles)
	}
	files := slices.Clone(s.Files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	for i, f := range files {
		if f.Path == "" {
			return nil, fmt.Errorf("%w: file %d has no path", ErrInvalid, i)
		}
		if i > 0 && files[i-1].Path == f.Path {
			return nil, fmt.Errorf("%w: file %s listed twice", ErrInvalid, verify.Truncate(f.Path))
		}
		if len(f.SHA256) != 64 || !hexRe.MatchString(f.SHA256) {
			return nil, fmt.Errorf("%w: file %s: sha256 %q is not 64 lowercase hex digits", ErrInvalid, verify.Truncate(f.Path), verify.Truncate(f.SHA256))
		}
		if f.SHA1 != "" && (len(f.SHA1) != 40 || !hexRe.MatchString(f.SHA1)) {
			return nil, fmt.Errorf("%w: file %s: sha1 %q is not 40 lowercase hex digits", ErrInvalid, verify.Truncate(f.Path), verify.Truncate(f.SHA1))
		}
	}
	created := s.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	lic := s.Licenses
	if lic == "" {
		lic = "NOASSERTION"
	}
	supplier := s.Supplier
	if supplier == "" {
		supplier = "NOASSERTION"
	}
	pkgID := "SPDXRef-Package-" + spdxID(s.Name)
	pkg := spdxPackage{
		SPDXID: pkgID, Name: s.Name, VersionInfo: s.Version, Supplier: supplier,
		DownloadLocation: "NOASSERTION", LicenseConcluded: "NOASSERTION", LicenseDeclared: lic,
		CopyrightText: "NOASSERTION", PrimaryPackagePurpose: "LIBRARY",
		Comment: "PostgreSQL extension package",
	}
	if s.Version != "" {
		pkg.ExternalRefs = []spdxExternalRef{{Category: "PACKAGE-MANAGER", Type: "purl", Locator: purl(s.Name, s.Version)}}
	}
	doc := spdxDocument{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name:              strings.TrimSuffix(s.Name+"-"+s.Version, "-"),
		CreationInfo:      spdxCreationInfo{Created: created.UTC().Format(time.RFC3339), Creators: []string{"Tool: pgoci"}},
		DocumentDescribes: []string{pkgID},
		Relationships:     []spdxRelationship{{"SPDXRef-DOCUMENT", "DESCRIBES", pkgID}},
	}
	allSHA1 := len(files) > 0
	var sha1s []string
	for i, f := range files {
		id := fmt.Sprintf("SPDXRef-File-%d-%s", i+1, spdxID(f.Path))
		sf := spdxFile{SPDXID: id, FileName: "./" + strings.TrimPrefix(f.Path, "/"), LicenseConcluded: "NOASSERTION", CopyrightText: "NOASSERTION"}
		if f.SHA1 != "" {
			sf.Checksums = append(sf.Checksums, spdxChecksum{"SHA1", f.SHA1})
			sha1s = append(sha1s, f.SHA1)
		} else {
			allSHA1 = false
		}
		sf.Checksums = append(sf.Checksums, spdxChecksum{"SHA256", f.SHA256})
		doc.Files = append(doc.Files, sf)
		doc.Relationships = append(doc.Relationships, spdxRelationship{pkgID, "CONTAINS", id})
	}
	if allSHA1 {
		// SPDX 2.3 clause 7.9: SHA1 of the sorted, concatenated file SHA1s.
		slices.Sort(sha1s)
		sum := sha1.Sum([]byte(strings.Join(sha1s, "")))
		pkg.FilesAnalyzed = true
		pkg.VerificationCode = &spdxVerification{Value: hex.EncodeToString(sum[:])}
		pkg.LicenseInfoFromFiles = []string{"NOASSERTION"}
		for _, f := range doc.Files {
			pkg.HasFiles = append(pkg.HasFiles, f.SPDXID)
		}
	}
	doc.Packages = append(doc.Packages, pkg)
	dep := func(kind, name, version, comment string) {
		id := "SPDXRef-" + kind + "-" + spdxID(name)
		for _, p := range doc.Packages {
			if p.SPDXID == id {
				return
			}
		}
		doc.Packages = append(doc.Packages, spdxPackage{
			SPDXID: id, Name: name, VersionInfo: version, DownloadLocation: "NOASSERTION",
			LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", CopyrightText: "NOASSERTION",
			Comment: comment,
		})
		doc.Relationships = append(doc.Relationships, spdxRelationship{pkgID, "DEPENDS_ON", id})
	}
	if s.PostgreSQL != "" {
		dep("PostgreSQL", "postgresql", s.PostgreSQL, "the PostgreSQL server version the package was built for")
	}
	for _, l := range sortedUnique(s.Libraries) {
		dep("Library", l, "", "a shared library the modules need (DT_NEEDED)")
	}
	for _, p := range sortedUnique(s.OSPackages) {
		dep("OSPackage", p, "", "an OS package the modules need at run time")
	}
	c := s
	c.Files, c.Libraries, c.OSPackages = nil, sortedUnique(s.Libraries), sortedUnique(s.OSPackages)
	canon, err := json.Marshal(struct {
		S     Package
		Files []File
	}{c, files})
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	doc.DocumentNamespace = "urn:uuid:" + uuidFrom(canon)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	return append(out, '\n'), nil
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.DeleteFunc(slices.Compact(out), func(s string) bool { return s == "" })
}

// spdxID makes s usable in an SPDX identifier (letters, digits, '.', '-').
func spdxID(s string) string {
	s = spdxIDBad.ReplaceAllString(s, "-")
	if len(s) > 64 {
		sum := sha256.Sum256([]byte(s))
		s = s[:48] + "-" + hex.EncodeToString(sum[:4])
	}
	return strings.Trim(s, "-")
}

func purl(name, version string) string {
	esc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_~+", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	return "pkg:generic/" + esc(name) + "@" + esc(version)
}

// uuidFrom lays the first 16 bytes of SHA-256(b) out as a version 5
// style UUID (RFC 9562 layout, name-based).
func uuidFrom(b []byte) string {
	sum := sha256.Sum256(b)
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Attach pushes sbom (SPDX JSON) as a referrer of subject (the image
// manifest Pack wrote) in dst: a manifest of artifact type
// [ArtifactType] with one application/spdx+json layer, what Trivy's
// `--sbom-sources oci` finds. The manifest's created annotation is
// created (zero: none), so attaching is reproducible. A registry without
// the referrers API gets the sha256-<hex> tag index (oras-go maintains
// it).
func Attach(ctx context.Context, dst content.Pusher, subject ocispec.Descriptor, sbom []byte, created time.Time) (ocispec.Descriptor, error) {
	var annots map[string]string
	if !created.IsZero() {
		annots = map[string]string{ocispec.AnnotationCreated: created.UTC().Format(time.RFC3339)}
	}
	return referrers.Push(ctx, dst, subject, ArtifactType, ArtifactType, sbom, annots)
}
