// Package registry is pgoci's registry transport: it configures an
// oras-go repository to be talked to (credentials from the Docker
// configuration, token and basic authentication, retries, plain HTTP to
// loopback hosts, the user agent) and reads a repository through its
// mirrors before the registry itself.
//
// It has that one job. Package resolve uses it behind Remote and Open,
// and keeps the exported options, error types and sentinels; what a
// mirror's failure is called, how content is verified and which errors
// are temporary are resolve's decisions, handed in as [Hooks]. Error
// texts keep the "resolve:" prefix they had there: they reach resolve's
// callers unchanged.
package registry
