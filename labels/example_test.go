package labels_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"pgoci/labels"
)

func ExampleParse() {
	m, err := labels.Parse(map[string]string{
		labels.KeySchemaVersion:                          "1",
		labels.KeyPackageName:                            "vector",
		labels.KeyPackageVersion:                         "0.8.1",
		labels.KeyExtensions:                             "vector",
		labels.KeyPGMajor:                                "18",
		labels.KeyLibcFamily:                             "glibc",
		labels.KeyLibcVersion:                            "2.41",
		labels.ExtensionKey("vector", labels.ExtTrusted): "false",
		"com.example.team":                               "databases",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Package.Name, m.Package.Version, "for PostgreSQL", m.PG.Major)
	fmt.Println("libc:", m.Libc.Family, m.Libc.Version)
	e, _ := m.Extension("vector")
	fmt.Println("trusted:", *e.Trusted)
	fmt.Println("kept:", m.Extra["com.example.team"])
	// Output:
	// vector 0.8.1 for PostgreSQL 18
	// libc: glibc 2.41
	// trusted: false
	// kept: databases
}

func ExampleParse_errors() {
	_, err := labels.Parse(map[string]string{
		labels.KeySchemaVersion:  "1",
		labels.KeyPackageName:    "vector",
		labels.KeyPackageVersion: "0.8.1",
		labels.KeyPGMajor:        "eighteen",
		labels.KeyRestart:        "yes",
	})
	var lerr *labels.Error
	if errors.As(err, &lerr) {
		for _, p := range lerr.Problems {
			fmt.Println(p.Key, "-", p.Reason)
		}
	}
	fmt.Println(errors.Is(err, labels.ErrInvalidValue))
	// Output:
	// org.pgoci.pg.major - an integer from 10 to 999
	// org.pgoci.restart - "true" or "false"
	// true
}

func ExampleMetadata_Annotations() {
	restart := false
	m := labels.Metadata{
		Package:    labels.Package{Name: "hstore", Version: "1.8"},
		Extensions: []labels.Extension{{Name: "hstore", Version: "1.8"}},
		PG:         labels.PG{Major: 18, VersionNum: 180004},
		Restart:    &restart,
		Licenses:   "PostgreSQL",
	}
	a := m.Annotations()
	for _, k := range slices.Sorted(maps.Keys(a)) {
		fmt.Printf("%s=%s\n", k, a[k])
	}
	// Output:
	// org.opencontainers.image.licenses=PostgreSQL
	// org.pgoci.extension.hstore.version=1.8
	// org.pgoci.extensions=hstore
	// org.pgoci.package.name=hstore
	// org.pgoci.package.version=1.8
	// org.pgoci.pg.major=18
	// org.pgoci.pg.version_num=180004
	// org.pgoci.restart=false
	// org.pgoci.schema.version=1
}

// A CloudNativePG extension image carries no pgoci keys; its labels still
// describe the server it was built for.
func ExampleMetadata_Target_cloudNativePG() {
	m, err := labels.Parse(map[string]string{
		"io.cloudnativepg.image.base.name":    "ghcr.io/cloudnative-pg/postgresql:18-minimal-trixie",
		"io.cloudnativepg.image.base.pgmajor": "18",
		"io.cloudnativepg.image.base.os":      "trixie",
		"io.cloudnativepg.image.sql.version":  "0.8.1",
		"org.opencontainers.image.version":    "0.8.1",
		"org.opencontainers.image.base.name":  "scratch",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	t, err := m.Target()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("PostgreSQL", t.PGMajor, "on", t.DistroID, t.DistroVersion, "("+t.DistroCodename+"),", t.LibcFamily, t.LibcVersion)
	fmt.Println("built on", t.BaseName)
	fmt.Println("pg.major from", m.Source(labels.KeyPGMajor))
	fmt.Println("package version", m.Package.Version, "from", m.Source(labels.KeyPackageVersion))
	// Output:
	// PostgreSQL 18 on debian 13 (trixie), glibc 2.41
	// built on ghcr.io/cloudnative-pg/postgresql:18-minimal-trixie
	// pg.major from cloudnativepg
	// package version 0.8.1 from oci
}

func ExampleMetadata_SelectionAnnotations() {
	m := labels.Metadata{
		Package:  labels.Package{Name: "vector", Version: "0.8.1"},
		PG:       labels.PG{Major: 18},
		Libc:     labels.Libc{Family: "glibc", Version: "2.41"},
		Distro:   labels.Distro{ID: "debian", Version: "13"},
		Compiler: "gcc 14.2.0",
	}
	a := m.SelectionAnnotations()
	for _, k := range slices.Sorted(maps.Keys(a)) {
		fmt.Printf("%s=%s\n", k, a[k])
	}
	// Output:
	// org.pgoci.distro.id=debian
	// org.pgoci.distro.version=13
	// org.pgoci.libc.family=glibc
	// org.pgoci.libc.version=2.41
	// org.pgoci.package.name=vector
	// org.pgoci.package.version=0.8.1
	// org.pgoci.pg.major=18
	// org.pgoci.schema.version=1
}
