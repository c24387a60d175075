// Package e2e holds pgoci's end-to-end tests: they run against real
// components (the CNCF distribution registry, skopeo, umoci, crane, oras),
// which .ci/e2e.sh installs and starts. The tests are behind the build tag
// e2e, so `go test ./...` does not build them; run them with
//
//	bash .ci/e2e.sh
package e2e
