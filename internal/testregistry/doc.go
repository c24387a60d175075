// Package testregistry is an in-process, in-memory OCI distribution
// registry for tests, with fault injection and a request log.
//
// It implements the OCI distribution specification v1.1
// (https://github.com/opencontainers/distribution-spec/blob/v1.1.1/spec.md)
// and passes the specification's conformance suite with every API and
// data set enabled, sha512 included (see TestConformance). It imports no
// pgoci package, so it can test any of them.
//
// # What it serves
//
//   - Pull: GET and HEAD of manifests by tag or digest, and of blobs,
//     with Range requests.
//   - Push: monolithic POST then PUT, single-request POST ?digest=,
//     chunked PATCH with Content-Range (416 and a Range header when a
//     chunk is out of order), streamed PATCH, upload status (GET) and
//     cancel (DELETE), cross-repository and anonymous mounts.
//   - Manifests are checked on push: at most [Options.MaxManifestSize]
//     (4 MiB by default), valid JSON, schemaVersion 2, a media type that
//     matches the Content-Type, and for image manifests a config and
//     layers that exist in the repository (non-distributable layers
//     excepted). Digests are verified on every upload and push.
//   - Tags list and catalog with n/last pagination and Link headers;
//     referrers with the artifactType filter; OCI-Subject on pushes of
//     manifests with a subject; tag parameters (?tag=) with OCI-Tag.
//   - Deletion of tags, manifests and blobs, effective immediately.
//
// # Faults, auth and counting
//
// [Registry.AddFault] makes the next matching requests fail with a
// status, lose their connection, receive a truncated or corrupted body,
// or wait. [Registry.SetAuth] switches between no authentication, Basic
// and the Bearer token flow (a /token endpoint answering the
// WWW-Authenticate challenge, usable by oras-go's auth.Client).
// [Registry.Requests] returns the method, path, query and status of every
// request, so a test can assert how many round trips an operation made.
// All of these are safe to call while requests are being served.
//
// # How do I use this package?
//
// Start a server, point the code under test at its host, and inspect or
// perturb it:
//
//	srv, err := testregistry.Serve(testregistry.Options{})
//	if err != nil { ... }
//	defer srv.Close()
//	repo, _ := remote.NewRepository(srv.Host() + "/ext/hstore")
//	repo.PlainHTTP = true
//	// push, resolve, install ...
//	_ = srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Status: 503, Path: "/manifests/"})
//	n := len(srv.Requests())
//
// [Serve] needs no testing.TB, so TestMain and Example functions can use
// it. To mount the registry in your own server, use [New]: a [Registry]
// is an [net/http.Handler].
package testregistry
