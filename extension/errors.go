package extension

import "errors"

// Errors returned by packing. Wrapped errors name the file, key or digest
// involved; test with [errors.Is].
var (
	// ErrUnknownCompression: a [Compression] other than zstd or gzip.
	ErrUnknownCompression = errors.New("extension: unknown compression")
	// ErrUnsupportedFile: the tree holds a device, fifo or socket.
	ErrUnsupportedFile = errors.New("extension: unsupported file type")
	// ErrSourceChanged: a file changed while it was being packed.
	ErrSourceChanged = errors.New("extension: source changed during packing")
	// ErrInvalidBuild: the stated build and the tree do not give valid
	// labels (the wrapped *labels.Error names each key), or the platform
	// or SOURCE_DATE_EPOCH is missing or malformed.
	ErrInvalidBuild = errors.New("extension: invalid build description")
)

// Errors returned by installing, uninstalling, listing and verifying.
var (
	// ErrLocation: the options name neither an install root nor a
	// pg_config, or a root for a server older than PostgreSQL 18.
	ErrLocation = errors.New("extension: no usable install location")
	// ErrConflict: a package would overwrite a file it does not own; the
	// error is a *[ConflictError].
	ErrConflict = errors.New("extension: file conflict")
	// ErrDependencyCycle: packages require each other; the error is a
	// *[DependencyError] whose chain shows the cycle.
	ErrDependencyCycle = errors.New("extension: dependency cycle")
	// ErrMissingDependency: a required extension is not installed and
	// could not be resolved; the error is a *[DependencyError].
	ErrMissingDependency = errors.New("extension: missing dependency")
	// ErrInUse: an uninstall was refused because other installed packages
	// require the package; the error is an *[InUseError].
	ErrInUse = errors.New("extension: package in use")
	// ErrNoState: the location holds no pgoci state (no <root>/.pgoci, no
	// PostgreSQL 17 state directory): nothing was ever installed there,
	// or the path is wrong. [Root.List], [Root.Verify], [Root.Uninstall] and [Root.Repair]
	// return it rather than report an empty location.
	ErrNoState = errors.New("extension: no pgoci state")
	// ErrDesired: a [Desired] list that cannot be planned (an entry
	// without a usable name, listed twice, with neither an image nor a
	// repository to find it in, or with a bad version constraint).
	ErrDesired = errors.New("extension: invalid desired list")
	// ErrNotInstalled: no package of that name is installed.
	ErrNotInstalled = errors.New("extension: package not installed")
	// ErrPinned: the digest the lock file pins for a reference no longer
	// fits the target (or can no longer be fetched).
	ErrPinned = errors.New("extension: pinned digest unusable")
	// ErrNotInstallable: the image holds something the install mode
	// cannot place (system libraries or programs in PostgreSQL 17 mode,
	// no package name, files outside the image root layout).
	ErrNotInstallable = errors.New("extension: image cannot be installed")
	// ErrState: a state file under the state directory is unreadable or
	// corrupt.
	ErrState = errors.New("extension: corrupt install state")
)

// Errors returned by inspecting and copying.
var (
	// ErrTooManyManifests: an index lists more manifests and nested
	// indexes than InspectOptions.MaxManifests allows, or than Copy reads
	// (256).
	ErrTooManyManifests = errors.New("extension: too many manifests")
	// ErrNoPlatform: no manifest matches CopyOptions.Platforms.
	ErrNoPlatform = errors.New("extension: no manifest for the selected platforms")
	// ErrCopyReference: a copy source or destination that cannot be
	// used: a destination with a digest, a source without tag or digest
	// given to Copy, or two sources of CopyAll that map to the same
	// mirror repository.
	ErrCopyReference = errors.New("extension: invalid copy reference")
)
