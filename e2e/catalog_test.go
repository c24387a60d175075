//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.yaml.in/yaml/v3"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/catalog"
	"pgoci/extension"
	"pgoci/internal/imagefixture"
	"pgoci/labels"
	"pgoci/resolve"
)

// cnpgVersion is the CloudNativePG release whose CRDs the --cnpg output
// is checked against, read from the Go module cache (go mod download).
// PGOCI_E2E_CNPG_VERSION overrides it.
const cnpgVersion = "v1.29.1"

// catalogWorld pushes to the real registry, under a prefix of its own:
//
//	pgoci_demo          the demo package, 1.0.0 for PostgreSQL 17 and 18 (amd64, arm64), 1.1.0 for 18
//	postgis             an image that bundles system/ libraries, 3.5.2 for 18 (amd64, arm64)
//	cnpg/pgvector       an image labelled by CloudNativePG keys alone, 0.8.1-18-trixie
//
// and returns the prefix.
func catalogWorld(t *testing.T) string {
	t.Helper()
	host := registry(t)
	prefix := host + "/catalog-e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ctx := context.Background()
	repo := func(name string) *remote.Repository {
		r, err := remote.NewRepository(prefix + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		r.PlainHTTP = true
		return r
	}
	work := t.TempDir()
	archs := []string{"amd64", "arm64"}
	if _, err := imagefixture.Demo(ctx, repo("pgoci_demo"), work, "1.0.0", []int{17, 18}, archs, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := imagefixture.Demo(ctx, repo("pgoci_demo"), work, "1.1.0", []int{18}, archs, "1.1.0", "latest"); err != nil {
		t.Fatal(err)
	}
	var postgis []imagefixture.Image
	for _, arch := range archs {
		m := labels.Metadata{
			Package:    labels.Package{Name: "postgis", Version: "3.5.2"},
			Extensions: []labels.Extension{{Name: "postgis", Version: "3.5.2"}},
			PG:         labels.PG{Major: 18},
			Libc:       labels.Libc{Family: "glibc", Version: "2.36"},
			Modules:    []string{"postgis-3"},
			Objects:    []labels.Object{{Path: "lib/postgis-3.so", Arch: arch}, {Path: "system/libgeos_c.so.1", Arch: arch}},
		}
		postgis = append(postgis, imagefixture.Image{Platform: ocispec.Platform{OS: "linux", Architecture: arch},
			Annotations: m.Annotations(), IndexAnnotations: m.SelectionAnnotations()})
	}
	if _, _, err := imagefixture.Handmade(ctx, repo("postgis"), postgis, "3.5.2"); err != nil {
		t.Fatal(err)
	}
	cnpg := map[string]string{labels.KeyCNPGBasePGMajor: "18", labels.KeyCNPGBaseOS: "trixie"}
	if _, _, err := imagefixture.Handmade(ctx, repo("cnpg/pgvector"), []imagefixture.Image{
		{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, Annotations: cnpg, IndexAnnotations: cnpg}}, "0.8.1-18-trixie"); err != nil {
		t.Fatal(err)
	}
	return prefix
}

func catalogTarget(major int) resolve.Target {
	return resolve.Target{PG: labels.PG{Major: major}, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Libc: labels.Libc{Family: "glibc", Version: "2.41"}, Distro: labels.Distro{ID: "debian", Version: "13", Codename: "trixie"}}
}

// catalogVersions is every version of a listing, as both sources tell it.
func catalogVersions(l *catalog.Listing) map[string][]string {
	out := map[string][]string{}
	for _, r := range l.Repositories {
		for _, v := range r.Versions {
			out[r.Path] = append(out[r.Path], fmt.Sprint(v.Tag, " ", v.Version, " ", v.Fits, " ", v.Reference, " ", v.Index, " ",
				resolve.PlatformString(v.Platform), " ", v.Dirs, " ", v.Why))
		}
		if r.Err != nil {
			out[r.Path] = append(out[r.Path], "error: "+r.Error)
		}
	}
	return out
}

// TestCatalogRegistry lists the real registry through its /v2/_catalog,
// publishes the catalog artifact, and lists it again from the artifact
// alone: the same versions, the same choices, the same reasons.
func TestCatalogRegistry(t *testing.T) {
	prefix := catalogWorld(t)
	ctx := context.Background()
	rejected := catalog.Options{Versions: extension.ListVersionsOptions{Rejected: true}}

	c, err := catalog.Open(ctx, prefix, rejected)
	if err != nil {
		t.Fatal(err)
	}
	if c.From != catalog.FromRegistry || !slices.Equal(c.Repositories, []string{"cnpg/pgvector", "pgoci_demo", "postgis"}) {
		t.Fatalf("from %s: %q", c.From, c.Repositories)
	}
	var fromRegistry []map[string][]string
	for _, major := range []int{17, 18} {
		l, err := c.List(ctx, catalogTarget(major))
		if err != nil {
			t.Fatal(err)
		}
		fromRegistry = append(fromRegistry, catalogVersions(l))
	}
	if got := fromRegistry[1]["postgis"]; len(got) != 1 || !strings.Contains(got[0], "3.5.2 3.5.2 true") || !strings.Contains(got[0], "[share lib system]") {
		t.Errorf("postgis for 18: %q", got)
	}
	if got := fromRegistry[0]["pgoci_demo"]; len(got) != 2 || !strings.Contains(got[0], "1.1.0 1.1.0 false") || !strings.Contains(got[1], "1.0.0 1.0.0 true") {
		t.Errorf("pgoci_demo for 17: %q", got)
	}

	pub, err := catalog.Publish(ctx, prefix, catalog.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("published %s: %d repositories, %d tags, %d manifests", pub.Reference, pub.Repositories, pub.Tags, pub.Manifests)
	if pub.Repositories != 3 || pub.Tags != 4 || pub.Manifests != 9 || len(pub.Skipped) != 0 {
		t.Errorf("published %+v", pub)
	}
	// The registry lists the catalog repository now; the catalog does not.
	c, err = catalog.Open(ctx, prefix, rejected)
	if err != nil || len(c.Repositories) != 3 {
		t.Fatalf("after publishing: %v %q", err, c.Repositories)
	}
	fromArtifact := rejected
	fromArtifact.From = catalog.FromArtifact
	a, err := catalog.Open(ctx, prefix, fromArtifact)
	if err != nil {
		t.Fatal(err)
	}
	if a.Artifact.Digest != pub.Manifest.Digest {
		t.Errorf("read artifact %s, published %s", a.Artifact.Digest, pub.Manifest.Digest)
	}
	for i, major := range []int{17, 18} {
		l, err := a.List(ctx, catalogTarget(major))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(fromRegistry[i], catalogVersions(l)); diff != "" {
			t.Errorf("PostgreSQL %d: artifact and registry differ (-registry +artifact):\n%s", major, diff)
		}
	}

	// The CLI, from either source.
	for _, from := range []string{"registry", "artifact"} {
		out := pgociStdout(t, "catalog", prefix, "--from", from, "--pg-major", "18", "--platform", "linux/arm64", "--libc", "glibc-2.41")
		want := []string{prefix + "/cnpg/pgvector\t-\t-\t-", prefix + "/pgoci_demo\t1.1.0\t1.1.0\tsha256:", prefix + "/postgis\t3.5.2\t3.5.2\tsha256:"}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 {
			t.Fatalf("--from %s:\n%s", from, out)
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("--from %s line %d: %q, want %q...", from, i, lines[i], w)
			}
		}
	}
}

// TestCatalogCNPGSchema checks pgoci catalog --cnpg against the
// CloudNativePG CRDs of cnpgVersion, ImageCatalog and
// ClusterImageCatalog, with a structural-schema checker (below) that is
// itself checked to refuse documents the schema forbids.
func TestCatalogCNPGSchema(t *testing.T) {
	prefix := catalogWorld(t)
	dir := cnpgModule(t)
	for _, tc := range []struct {
		crd, kind string
		flags     []string
	}{
		{"postgresql.cnpg.io_imagecatalogs.yaml", catalog.KindImageCatalog, nil},
		{"postgresql.cnpg.io_clusterimagecatalogs.yaml", catalog.KindClusterImageCatalog, []string{"--cluster-wide"}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			group, version, kind, schema := readCRD(t, filepath.Join(dir, "config", "crd", "bases", tc.crd))
			if kind != tc.kind || group+"/"+version != catalog.CNPGAPIVersion {
				t.Fatalf("%s defines %s/%s %s, want %s %s", tc.crd, group, version, kind, catalog.CNPGAPIVersion, tc.kind)
			}
			args := append([]string{"catalog", prefix, "--cnpg", "--platform", "linux/amd64", "--libc", "glibc-2.41", "--distro", "debian-13",
				"--postgres-image", "18=ghcr.io/cloudnative-pg/postgresql:18.4-minimal-trixie",
				"--postgres-image", "17=ghcr.io/cloudnative-pg/postgresql:17.6-minimal-trixie", "--cnpg-namespace", "db"}, tc.flags...)
			out := pgociStdout(t, args...)
			t.Logf("pgoci %s:\n%s", strings.Join(args, " "), out)
			var doc any
			if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("the output is not YAML: %v", err)
			}
			m, _ := doc.(map[string]any)
			if m["apiVersion"] != group+"/"+version || m["kind"] != kind {
				t.Errorf("apiVersion %v kind %v, want %s/%s %s", m["apiVersion"], m["kind"], group, version, kind)
			}
			checkMetadata(t, m["metadata"])
			if errs := validate(schema, doc, ""); len(errs) > 0 {
				t.Errorf("the output does not satisfy the %s %s schema:\n%s", kind, cnpgVersion, strings.Join(errs, "\n"))
			}
			images, _ := m["spec"].(map[string]any)["images"].([]any)
			if len(images) != 2 {
				t.Fatalf("%d images, want 2", len(images))
			}
			var names []string
			for _, im := range images {
				for _, e := range im.(map[string]any)["extensions"].([]any) {
					names = append(names, fmt.Sprint(im.(map[string]any)["major"], " ", e.(map[string]any)["name"]))
				}
			}
			if diff := cmp.Diff([]string{"17 pgoci_demo", "18 pgvector", "18 pgoci_demo", "18 postgis"}, names); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			// The checker refuses what the schema forbids: it proves
			// nothing if it accepts everything.
			for what, mutate := range map[string]func(m map[string]any){
				"an extra member":        func(m map[string]any) { m["spec"].(map[string]any)["extra"] = 1 },
				"no images":              func(m map[string]any) { m["spec"].(map[string]any)["images"] = []any{} },
				"major 9":                func(m map[string]any) { firstImage(m)["major"] = 9 },
				"major as a string":      func(m map[string]any) { firstImage(m)["major"] = "18" },
				"no image":               func(m map[string]any) { delete(firstImage(m), "image") },
				"an upper-case name":     func(m map[string]any) { firstExtension(m)["name"] = "PgVector" },
				"a name ending in -":     func(m map[string]any) { firstExtension(m)["name"] = "pgvector-" },
				"two of one name":        func(m map[string]any) { dupExtension(m) },
				"two of one major":       func(m map[string]any) { im := m["spec"].(map[string]any)["images"].([]any); im[1] = im[0] },
				"paths as a string":      func(m map[string]any) { firstExtension(m)["ld_library_path"] = "system" },
				"an unknown image key":   func(m map[string]any) { firstExtension(m)["image"].(map[string]any)["digest"] = "x" },
				"nine images":            func(m map[string]any) { nineImages(m) },
				"no spec":                func(m map[string]any) { delete(m, "spec") },
				"an extension sans name": func(m map[string]any) { delete(firstExtension(m), "name") },
			} {
				var copyOf any
				if err := yaml.Unmarshal([]byte(out), &copyOf); err != nil {
					t.Fatal(err)
				}
				mutate(copyOf.(map[string]any))
				if errs := validate(schema, copyOf, ""); len(errs) == 0 {
					t.Errorf("the checker accepts %s", what)
				}
			}
		})
	}
}

func firstImage(m map[string]any) map[string]any {
	return m["spec"].(map[string]any)["images"].([]any)[0].(map[string]any)
}

func firstExtension(m map[string]any) map[string]any {
	return firstImage(m)["extensions"].([]any)[0].(map[string]any)
}

func dupExtension(m map[string]any) {
	im := firstImage(m)
	exts := im["extensions"].([]any)
	im["extensions"] = append(exts, exts[0])
}

func nineImages(m map[string]any) {
	spec := m["spec"].(map[string]any)
	var images []any
	for major := 10; major < 19; major++ {
		images = append(images, map[string]any{"major": major, "image": "pg"})
	}
	spec["images"] = images
}

// cnpgModule downloads CloudNativePG's Go module (the release the CRDs
// come from) into the module cache and returns its directory. A failure
// fails the test: the check needs the real CRDs.
func cnpgModule(t *testing.T) string {
	t.Helper()
	v := cnpgVersion
	if env := os.Getenv("PGOCI_E2E_CNPG_VERSION"); env != "" {
		v = env
	}
	mod := "github.com/cloudnative-pg/cloudnative-pg@" + v
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(stdout.Bytes(), &info); err != nil || jerr != nil || info.Error != "" || info.Dir == "" {
		t.Fatalf("go mod download %s failed (the CloudNativePG CRDs are needed; check the network and GOPROXY): %v %v %s\n%s%s",
			mod, err, jerr, info.Error, stdout.String(), stderr.String())
	}
	return info.Dir
}

// readCRD reads a CustomResourceDefinition: its group, the served
// version, the kind and that version's openAPIV3Schema.
func readCRD(t *testing.T, path string) (group, version, kind string, schema map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Group string `yaml:"group"`
			Names struct {
				Kind string `yaml:"kind"`
			} `yaml:"names"`
			Versions []struct {
				Name   string `yaml:"name"`
				Served bool   `yaml:"served"`
				Schema struct {
					OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &crd); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if crd.Kind != "CustomResourceDefinition" || len(crd.Spec.Versions) != 1 || !crd.Spec.Versions[0].Served || crd.Spec.Versions[0].Schema.OpenAPIV3Schema == nil {
		t.Fatalf("%s: not the CRD expected (one served version with a schema)", path)
	}
	v := crd.Spec.Versions[0]
	return crd.Spec.Group, v.Name, crd.Spec.Names.Kind, v.Schema.OpenAPIV3Schema
}

var (
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// checkMetadata checks what Kubernetes checks of the metadata the CRD
// leaves to it: a DNS-1123 subdomain name, a DNS-1123 label namespace.
func checkMetadata(t *testing.T, v any) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("metadata %v is not a mapping", v)
	}
	for k := range m {
		if k != "name" && k != "namespace" {
			t.Errorf("metadata.%s: pgoci writes only name and namespace", k)
		}
	}
	if n, _ := m["name"].(string); len(n) > 253 || !dnsSubdomain.MatchString(n) {
		t.Errorf("metadata.name %q is not a DNS-1123 subdomain", n)
	}
	if ns, ok := m["namespace"].(string); ok && (len(ns) > 63 || !dnsLabel.MatchString(ns)) {
		t.Errorf("metadata.namespace %q is not a DNS-1123 label", ns)
	}
}

// celRules are the x-kubernetes-validations rules of the CRDs, checked
// by hand: this checker does not run CEL. An unknown rule fails the
// test, so that a new CloudNativePG release is looked at, not ignored.
var celRules = map[string]func(v any) bool{
	"self.all(e, self.filter(f, f.major==e.major).size() == 1)": func(v any) bool { return uniqueBy(v, "major") },
	"self.all(e, self.filter(f, f.key==e.key).size() == 1)":     func(v any) bool { return uniqueBy(v, "key") },
}

func uniqueBy(v any, key string) bool {
	seen := map[string]bool{}
	list, _ := v.([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		k := fmt.Sprint(m[key])
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// validate checks v against a Kubernetes structural schema: type,
// required, properties (a member the schema does not name is an error
// unless additionalProperties or x-kubernetes-preserve-unknown-fields
// allows it; an object schema without properties, such as metadata,
// takes any member), items, enum, minimum and maximum, minLength and
// maxLength, pattern, minItems and maxItems, x-kubernetes-list-type map
// with its keys, and the CEL rules celRules knows. It returns every
// violation, each with its path.
func validate(schema map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, a ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, a...)) }
	if path == "" {
		path = "."
	}
	switch typ, _ := schema["type"].(string); typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			fail("want an object, found %T", v)
			return errs
		}
		for _, r := range list(schema["required"]) {
			if _, ok := m[r.(string)]; !ok {
				fail("required member %s is missing", r)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		additional, _ := schema["additionalProperties"].(map[string]any)
		preserve, _ := schema["x-kubernetes-preserve-unknown-fields"].(bool)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			sub := strings.TrimSuffix(path, ".") + "." + k
			switch p, ok := props[k].(map[string]any); {
			case ok:
				errs = append(errs, validate(p, m[k], sub)...)
			case additional != nil:
				errs = append(errs, validate(additional, m[k], sub)...)
			case props == nil || preserve:
			default:
				errs = append(errs, sub+": a member the schema does not define")
			}
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			fail("want an array, found %T", v)
			return errs
		}
		if n, ok := number(schema["minItems"]); ok && float64(len(l)) < n {
			fail("%d items, want at least %v", len(l), n)
		}
		if n, ok := number(schema["maxItems"]); ok && float64(len(l)) > n {
			fail("%d items, want at most %v", len(l), n)
		}
		items, _ := schema["items"].(map[string]any)
		for i, e := range l {
			if items != nil {
				errs = append(errs, validate(items, e, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
		if schema["x-kubernetes-list-type"] == "map" {
			for _, key := range list(schema["x-kubernetes-list-map-keys"]) {
				if !uniqueBy(l, key.(string)) {
					fail("two items with one %s (x-kubernetes-list-type map)", key)
				}
			}
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			fail("want a string, found %T", v)
			return errs
		}
		if n, ok := number(schema["minLength"]); ok && float64(len(s)) < n {
			fail("%q is shorter than %v", s, n)
		}
		if n, ok := number(schema["maxLength"]); ok && float64(len(s)) > n {
			fail("%q is longer than %v", s, n)
		}
		if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
			fail("%q does not match %s", s, p)
		}
	case "integer", "number":
		n, ok := number(v)
		if !ok || (typ == "integer" && n != float64(int64(n))) {
			fail("want an %s, found %T %v", typ, v, v)
			return errs
		}
		if lo, ok := number(schema["minimum"]); ok && n < lo {
			fail("%v is under the minimum %v", n, lo)
		}
		if hi, ok := number(schema["maximum"]); ok && n > hi {
			fail("%v is over the maximum %v", n, hi)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("want a boolean, found %T", v)
		}
	case "":
		if preserve, _ := schema["x-kubernetes-preserve-unknown-fields"].(bool); !preserve {
			fail("the schema has no type")
		}
	default:
		fail("type %q: the checker does not know it", typ)
	}
	if enum := list(schema["enum"]); enum != nil && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		fail("%v is not one of %v", v, enum)
	}
	for _, rule := range list(schema["x-kubernetes-validations"]) {
		r, _ := rule.(map[string]any)
		text, _ := r["rule"].(string)
		check, ok := celRules[text]
		switch {
		case !ok:
			fail("CEL rule %q: the checker does not know it", text)
		case !check(v):
			fail("%v (rule %s)", r["message"], text)
		}
	}
	return errs
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
