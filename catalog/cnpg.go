package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"pgoci/layout"
)

// The CloudNativePG API an [ImageCatalog] renders to.
const (
	// CNPGAPIVersion is the apiVersion of CloudNativePG's image catalogs.
	CNPGAPIVersion = "postgresql.cnpg.io/v1"
	// KindImageCatalog is a namespaced catalog; KindClusterImageCatalog
	// the cluster-wide one. Both have the same spec.
	KindImageCatalog        = "ImageCatalog"
	KindClusterImageCatalog = "ClusterImageCatalog"
	// DefaultCatalogName is metadata.name when the options give none.
	DefaultCatalogName = "pgoci-extensions"
)

// Bounds of CloudNativePG's CRD (version 1.29): spec.images holds 1 to 8
// images of distinct majors (each at least 10), and an extension's name
// is at most 59 bytes of lower-case letters, digits, "-" and "_",
// starting and ending with a letter or digit.
const (
	maxCatalogImages = 8
	minCatalogMajor  = 10
	maxExtensionName = 59
)

var extensionNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$`)

// ImageCatalog is a CloudNativePG ImageCatalog (or ClusterImageCatalog):
// for each PostgreSQL major, the PostgreSQL image and the extension
// images a Cluster of that major may name. The JSON names are the CRD's.
type ImageCatalog struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Metadata   ObjectMeta       `json:"metadata"`
	Spec       ImageCatalogSpec `json:"spec"`
}

// ObjectMeta is the part of Kubernetes' metadata a catalog sets.
type ObjectMeta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// ImageCatalogSpec is the catalog's spec.
type ImageCatalogSpec struct {
	Images []CatalogImage `json:"images"`
}

// CatalogImage is one PostgreSQL major: its image and its extensions.
type CatalogImage struct {
	Major      int                      `json:"major"`
	Image      string                   `json:"image"`
	Extensions []ExtensionConfiguration `json:"extensions,omitempty"`
}

// ExtensionConfiguration is CloudNativePG's description of one extension
// image: mounted read-only at /extensions/<name>, its directories
// (relative to that mount) added to the server's settings. A path list
// left out takes CloudNativePG's default: share for
// extension_control_path, lib for dynamic_library_path, none for
// ld_library_path and bin_path.
type ExtensionConfiguration struct {
	// Name identifies the extension in a Cluster's
	// spec.postgresql.extensions and names its mount.
	Name  string            `json:"name"`
	Image ImageVolumeSource `json:"image"`
	// ExtensionControlPath: the directories holding extension/*.control.
	ExtensionControlPath []string `json:"extension_control_path,omitempty"`
	// DynamicLibraryPath: the directories holding loadable modules.
	DynamicLibraryPath []string `json:"dynamic_library_path,omitempty"`
	// LDLibraryPath: the directories added to LD_LIBRARY_PATH.
	LDLibraryPath []string `json:"ld_library_path,omitempty"`
	// BinPath: the directories added to PATH.
	BinPath []string `json:"bin_path,omitempty"`
}

// ImageVolumeSource is Kubernetes' image volume source.
type ImageVolumeSource struct {
	Reference  string `json:"reference"`
	PullPolicy string `json:"pullPolicy,omitempty"`
}

// ImageCatalogOptions configures [NewImageCatalog].
type ImageCatalogOptions struct {
	// Name is metadata.name. Default: [DefaultCatalogName].
	Name string
	// Namespace is metadata.namespace. Default: none (kubectl's).
	Namespace string
	// Cluster renders a ClusterImageCatalog instead of an ImageCatalog.
	Cluster bool
	// PostgresImages gives, for each PostgreSQL major, the PostgreSQL
	// image of the catalog entry (CloudNativePG's spec.images[].image),
	// e.g. 18: "ghcr.io/cloudnative-pg/postgresql:18.4-minimal-trixie".
	// pgoci does not pick it: it is the server the extensions were
	// listed for, and must match the target (major, distribution,
	// architecture) each listing was made for. Required for every major.
	PostgresImages map[int]string
}

// NewImageCatalog renders listings, one per PostgreSQL major (each made
// for a target of that major, see [Catalog.List]), as a CloudNativePG
// ImageCatalog: per major, the PostgreSQL image opts gives and one
// extension entry per repository with a version that fits, its newest:
//
//   - name: the package name (org.pgoci.package.name) when it is a valid
//     CloudNativePG name (lower case, at most 59 bytes), else the last
//     element of the repository path; a repository whose name is neither,
//     or repeats one, is left out with a note;
//   - image.reference: "repository:tag@digest", pinned to the manifest
//     chosen for the target (not the index: a pgoci index may hold images
//     for several PostgreSQL majors, and the kubelet picks from an index
//     by platform alone);
//   - extension_control_path [share], dynamic_library_path [lib],
//     ld_library_path [system] and bin_path [bin], each when the image's
//     labels show that directory ([extension.ImageDirs]). When they cannot
//     show whether a system/ directory exists (an image labelled by
//     CloudNativePG keys alone), a note says so: add ld_library_path by
//     hand if it does.
//
// The notes are for a person: what was left out or unknown.
func NewImageCatalog(listings []*Listing, opts ImageCatalogOptions) (ImageCatalog, []string, error) {
	ic := ImageCatalog{APIVersion: CNPGAPIVersion, Kind: KindImageCatalog, Metadata: ObjectMeta{Name: opts.Name, Namespace: opts.Namespace}}
	if opts.Cluster {
		ic.Kind = KindClusterImageCatalog
	}
	if ic.Metadata.Name == "" {
		ic.Metadata.Name = DefaultCatalogName
	}
	switch {
	case len(listings) == 0:
		return ImageCatalog{}, nil, fmt.Errorf("%w: no listing: a catalog holds 1 to %d PostgreSQL majors", ErrImageCatalog, maxCatalogImages)
	case len(listings) > maxCatalogImages:
		return ImageCatalog{}, nil, fmt.Errorf("%w: %d majors, over CloudNativePG's limit of %d", ErrImageCatalog, len(listings), maxCatalogImages)
	}
	var notes []string
	for _, l := range listings {
		major := l.Target.PG.Major
		if major < minCatalogMajor {
			return ImageCatalog{}, nil, fmt.Errorf("%w: a listing for target %s: want a PostgreSQL major of at least %d", ErrImageCatalog, l.Target, minCatalogMajor)
		}
		if slices.ContainsFunc(ic.Spec.Images, func(i CatalogImage) bool { return i.Major == major }) {
			return ImageCatalog{}, nil, fmt.Errorf("%w: two listings for PostgreSQL %d", ErrImageCatalog, major)
		}
		image := opts.PostgresImages[major]
		if image == "" {
			return ImageCatalog{}, nil, fmt.Errorf("%w: no PostgreSQL image for major %d (ImageCatalogOptions.PostgresImages; pgoci: --postgres-image %d=IMAGE)", ErrImageCatalog, major, major)
		}
		ci := CatalogImage{Major: major, Image: image}
		for _, r := range l.Repositories {
			v, ok := r.Newest()
			if !ok {
				continue
			}
			name := extensionName(v.Metadata.Package.Name, r.Path)
			switch {
			case name == "":
				notes = append(notes, fmt.Sprintf("PostgreSQL %d: %s left out: neither its package name %q nor its repository name is a valid CloudNativePG extension name (%s, at most %d bytes)",
					major, r.Name, v.Metadata.Package.Name, extensionNameRE, maxExtensionName))
				continue
			case slices.ContainsFunc(ci.Extensions, func(e ExtensionConfiguration) bool { return e.Name == name }):
				notes = append(notes, fmt.Sprintf("PostgreSQL %d: %s left out: the name %q is already taken by another repository", major, r.Name, name))
				continue
			}
			e := ExtensionConfiguration{Name: name, Image: ImageVolumeSource{Reference: r.Name + ":" + v.Tag + "@" + v.Manifest.String()}}
			for _, d := range v.Dirs {
				switch d {
				case layout.DirShare:
					e.ExtensionControlPath = []string{d}
				case layout.DirLib:
					e.DynamicLibraryPath = []string{d}
				case layout.DirSystem:
					e.LDLibraryPath = []string{d}
				case layout.DirBin:
					e.BinPath = []string{d}
				}
			}
			if !v.DirsComplete && e.LDLibraryPath == nil {
				notes = append(notes, fmt.Sprintf("PostgreSQL %d: %s: its labels do not show whether the image has a system/ directory; if it does, add ld_library_path: [system] to %q",
					major, r.Name+":"+v.Tag, name))
			}
			ci.Extensions = append(ci.Extensions, e)
		}
		ic.Spec.Images = append(ic.Spec.Images, ci)
	}
	slices.SortFunc(ic.Spec.Images, func(a, b CatalogImage) int { return a.Major - b.Major })
	return ic, notes, nil
}

// extensionName is the catalog name of a package: its package name, or
// its repository's last path element, whichever first is a valid
// CloudNativePG name; "" when neither is.
func extensionName(pkg, path string) string {
	for _, n := range []string{pkg, path[strings.LastIndexByte(path, '/')+1:]} {
		if len(n) <= maxExtensionName && extensionNameRE.MatchString(n) {
			return n
		}
	}
	return ""
}

// YAML renders the catalog as a YAML document, ready for kubectl apply.
// Every string is double-quoted, with anything but printable ASCII
// escaped, so no value can change the document's structure or be read
// as another type.
func (ic ImageCatalog) YAML() ([]byte, error) {
	return toYAML(ic)
}
