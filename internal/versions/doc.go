// Package versions groups a repository's tags by the version they name,
// for extension.ListVersions (tags read from a registry) and catalog
// (tags read from a catalog document), so that both list the same
// versions in the same order, with the same reasons.
package versions
