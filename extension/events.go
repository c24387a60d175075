package extension

import (
	"github.com/opencontainers/go-digest"
)

// EventKind says what an [Event] reports.
type EventKind int

// Event kinds, in the order an install goes through them. [Pack], [Copy],
// [Unpack] and a [Root]'s methods report with the same [Event]: each
// method's documentation says which kinds it sends.
const (
	// EventResolve: a reference was resolved to a manifest (Digest) for
	// the target.
	EventResolve EventKind = iota + 1
	// EventDependency: a required extension (Package) is not installed
	// and will be installed from Reference first.
	EventDependency
	// EventFetch: layer bytes were fetched and verified: Bytes of Total
	// (compressed), about every MiB and once at the end.
	EventFetch
	// EventUnpack: the layers are unpacked and verified in staging;
	// Files is the number of regular files.
	EventUnpack
	// EventCommit: the package is being published into the root (the
	// root's lock is held).
	EventCommit
	// EventDone: the package is installed (or upgraded): visible to the
	// server.
	EventDone
	// EventSkip: the package is already installed at this digest; nothing
	// was fetched or changed.
	EventSkip
	// EventRemove: a package was uninstalled.
	EventRemove
	// EventWarning: something the caller should know that does not stop
	// the operation (Message says what).
	EventWarning
	// EventPack: Pack wrote a layer (Digest, Bytes compressed, Files).
	EventPack
)

// String returns the kind's name, e.g. "fetch".
func (k EventKind) String() string {
	switch k {
	case EventResolve:
		return "resolve"
	case EventDependency:
		return "dependency"
	case EventFetch:
		return "fetch"
	case EventUnpack:
		return "unpack"
	case EventCommit:
		return "commit"
	case EventDone:
		return "done"
	case EventSkip:
		return "skip"
	case EventRemove:
		return "remove"
	case EventWarning:
		return "warning"
	case EventPack:
		return "pack"
	}
	return "unknown"
}

// Event reports progress: of a [Root]'s installs, removals and syncs to
// [RootOptions.Events], of [Pack], [Copy] and [Unpack] to their options'
// Events. The SDK never prints: a CLI renders these, a service logs them.
// Fields that do not apply to a kind are zero.
type Event struct {
	Kind EventKind
	// Package is the package name; at EventDependency it is the name of
	// the extension required.
	Package string
	// Version is the package version, when known.
	Version string
	// Reference is the reference being installed, as given.
	Reference string
	// Digest is the manifest digest.
	Digest digest.Digest
	// Bytes and Total are the compressed bytes fetched so far and
	// expected (EventFetch; Total 0 when unknown), or a layer's size
	// (EventPack).
	Bytes, Total int64
	// Files is the number of regular files unpacked (EventUnpack) or
	// installed (EventDone).
	Files int64
	// Message is the text of an EventWarning.
	Message string
}

// emit calls events with e when it is set.
func emit(events func(Event), e Event) {
	if events != nil {
		events(e)
	}
}
