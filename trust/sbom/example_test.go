package sbom_test

import (
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"pgoci/trust/sbom"
)

// An SBOM for a package, reproducible: no wall-clock time.
func ExampleBuild() {
	f, err := sbom.HashFile("share/extension/demo.control", strings.NewReader("default_version = '1.0'\n"))
	if err != nil {
		log.Fatal(err)
	}
	doc, err := sbom.Build(sbom.Package{
		Name: "demo", Version: "1.0.0", Licenses: "PostgreSQL", PostgreSQL: "18.4",
		Files: []sbom.File{f}, Libraries: []string{"libc.so.6"},
	})
	if err != nil {
		log.Fatal(err)
	}
	var d struct {
		SPDXVersion  string `json:"spdxVersion"`
		CreationInfo struct {
			Created string `json:"created"`
		} `json:"creationInfo"`
		Packages []struct {
			Name        string `json:"name"`
			VersionInfo string `json:"versionInfo"`
		} `json:"packages"`
		Files []struct {
			FileName string `json:"fileName"`
		} `json:"files"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.SPDXVersion, d.CreationInfo.Created)
	for _, p := range d.Packages {
		fmt.Println(strings.TrimSpace("package " + p.Name + " " + p.VersionInfo))
	}
	fmt.Println("file", d.Files[0].FileName)
	// Output:
	// SPDX-2.3 1970-01-01T00:00:00Z
	// package demo 1.0.0
	// package postgresql 18.4
	// package libc.so.6
	// file ./share/extension/demo.control
}
