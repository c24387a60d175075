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
