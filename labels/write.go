package labels

import "strconv"

// Annotations returns m as annotations (or config labels): the pgoci keys
// of every set value, org.opencontainers.image.licenses, and the Anchors
// and Extra keys verbatim. It is the inverse of [Parse]: for a Metadata
// that Parse returned without error, Parse(m.Annotations()) equals m.
//
// A value whose Sources entry names an anchor schema is not written under
// its pgoci key: its anchor key, kept in Anchors, carries it. After
// changing such a value, delete its Sources entry so it is written.
// org.pgoci.schema.version is written whenever any org.pgoci.* key is, as
// m.SchemaVersion or, when that is 0, the current [SchemaVersion].
func (m Metadata) Annotations() map[string]string {
	out := make(map[string]string, len(m.Anchors)+len(m.Extra)+len(fields))
	for k, v := range m.Extra {
		out[k] = v
	}
	for k, v := range m.Anchors {
		out[k] = v
	}
	wrotePgoci := false
	put := func(key string, own Source, v string) {
		if src := m.Sources[key]; v == "" || (src != SourceNone && src != own) {
			return
		}
		out[key] = v
		wrotePgoci = wrotePgoci || own == SourcePgoci
	}
	for _, f := range fields {
		put(f.key, f.own, f.get(&m))
	}
	for i := range m.Extensions {
		e := &m.Extensions[i]
		for _, f := range extFields {
			put(ExtensionKey(e.Name, f.suffix), SourcePgoci, f.get(e))
		}
	}
	if wrotePgoci || m.SchemaVersion != 0 {
		out[KeySchemaVersion] = strconv.Itoa(cmpOr(m.SchemaVersion, SchemaVersion))
	}
	return out
}

// SelectionAnnotations returns the subset of keys that writers copy onto
// the descriptors of an image index, so that a resolver can pick a
// manifest without fetching it: schema version, package name and version,
// PG major and version_num, libc family and version, distro id, version
// and codename. Values are written under their pgoci keys whatever their
// source. Unset values are omitted.
func (m Metadata) SelectionAnnotations() map[string]string {
	out := make(map[string]string)
	for _, f := range fields {
		if !selectionKeys[f.key] {
			continue
		}
		if v := f.get(&m); v != "" {
			out[f.key] = v
		}
	}
	if len(out) > 0 {
		out[KeySchemaVersion] = strconv.Itoa(cmpOr(m.SchemaVersion, SchemaVersion))
	}
	return out
}

// selectionKeys are the keys SelectionAnnotations copies.
var selectionKeys = map[string]bool{
	KeyPackageName: true, KeyPackageVersion: true,
	KeyPGMajor: true, KeyPGVersionNum: true,
	KeyLibcFamily: true, KeyLibcVersion: true, KeyLibcRequires: true,
	KeyDistroID: true, KeyDistroVersion: true, KeyDistroCodename: true,
}

// Validate reports whether m would parse back without problems: it is
// Parse(m.Annotations()) without the result.
func (m Metadata) Validate() error {
	_, err := Parse(m.Annotations())
	return err
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}
