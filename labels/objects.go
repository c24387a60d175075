package labels

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Object records what one ELF file of an image needs to load, as read from
// the binary at pack time (KeyObjects): the facts a server is checked
// against before install, and what `pgoci inspect` shows per module.
type Object struct {
	// Path is the file's path in the image root layout ("lib/postgis-3.so").
	Path string `json:"path"`
	// Arch is the OCI architecture of its machine ("amd64").
	Arch string `json:"arch,omitempty"`
	// Class is 32 or 64.
	Class int `json:"class,omitempty"`
	// Libc is the C library family it is built for: "glibc" or "musl".
	Libc string `json:"libc,omitempty"`
	// Glibc is the highest GLIBC_x.y symbol version it requires.
	Glibc string `json:"glibc,omitempty"`
	// Needs are its DT_NEEDED sonames, in file order.
	Needs []string `json:"needs,omitempty"`
	// RunPath and RPath are its DT_RUNPATH and DT_RPATH entries.
	RunPath []string `json:"runpath,omitempty"`
	RPath   []string `json:"rpath,omitempty"`
}

// Bounds on KeyObjects: an image with more objects than that records none
// (writers leave the key out rather than truncate it).
const (
	maxObjectsBytes = 64 << 10
	maxObjects      = 1024
	maxObjectList   = 256 // needs, runpath or rpath entries of one object
)

const objectsReason = "a JSON array of objects {path, arch, class, libc, glibc, needs, runpath, rpath}, at most 1024 objects and 64 KiB"

// checkObjects accepts the JSON of KeyObjects and returns it in canonical
// form (compact, fields in a fixed order, unknown fields refused).
func checkObjects(v string) (string, string) {
	objs, ok := decodeObjects(v)
	if !ok {
		return "", objectsReason
	}
	return encodeObjects(objs), ""
}

func decodeObjects(v string) ([]Object, bool) {
	if v == "" || len(v) > maxObjectsBytes {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	var objs []Object
	if dec.Decode(&objs) != nil || dec.More() || len(objs) == 0 || len(objs) > maxObjects {
		return nil, false
	}
	for _, o := range objs {
		if !validObject(o) {
			return nil, false
		}
	}
	return objs, true
}

func validObject(o Object) bool {
	if o.Path == "" || strings.HasPrefix(o.Path, "/") || (o.Class != 0 && o.Class != 32 && o.Class != 64) {
		return false
	}
	if o.Libc != "" && o.Libc != "glibc" && o.Libc != "musl" {
		return false
	}
	if o.Glibc != "" {
		if _, reason := checkLibcVersion(o.Glibc); reason != "" {
			return false
		}
	}
	for _, l := range [][]string{o.Needs, o.RunPath, o.RPath} {
		if len(l) > maxObjectList {
			return false
		}
	}
	return true
}

func encodeObjects(objs []Object) string {
	if len(objs) == 0 {
		return ""
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(objs) // cannot fail: plain strings and ints
	return strings.TrimSuffix(b.String(), "\n")
}

func setObjects(m *Metadata, v string) {
	m.Objects, _ = decodeObjects(v)
}
