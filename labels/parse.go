package labels

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Parse reads the labels or annotations of one image and returns its
// validated Metadata. It reads pgoci keys and the anchor keys (see SPEC.md
// for the mapping), records where each value came from in
// [Metadata.Sources], and keeps every key it does not map, verbatim.
//
// When several keys carry the same value, pgoci's key wins, then
// CloudNativePG's, PGXN's and OCI's; any that disagree with the winner are
// an [ErrConflict] problem. When any org.pgoci.* key is present, the
// required keys must be known (from pgoci or anchor keys).
//
// On failure the error is an *[Error] listing every problem, and the
// returned Metadata holds the values that were valid (best effort, not to
// be trusted for installing).
func Parse(annotations map[string]string) (Metadata, error) {
	p := parser{in: annotations, pg: make(map[string]string)}
	p.run()
	if len(p.problems) > 0 {
		return p.m, p.err()
	}
	return p.m, nil
}

type parser struct {
	in       map[string]string
	pg       map[string]string // org.pgoci.* keys not yet consumed
	m        Metadata
	problems []Problem
	seen     map[string]bool // pgoci keys some candidate was given for
}

// A candidate is one key's claim on a pgoci value.
type candidate struct {
	key   string // the key read
	raw   string // its value
	value string // the value it gives the target key (derived or raw)
	src   Source
}

func (p *parser) run() {
	p.classify()
	pgociMode := len(p.pg) > 0
	newer := false
	if pgociMode {
		newer = p.schema()
	}
	p.seen = make(map[string]bool)
	for _, f := range fields {
		p.resolveField(f)
	}
	p.extensionKeys()
	p.leftovers(newer)
	if pgociMode {
		p.required()
	}
	p.consistency()
}

// classify sorts the input into pgoci keys, anchors and extras.
func (p *parser) classify() {
	for k, v := range p.in {
		switch {
		case strings.HasPrefix(k, Namespace):
			p.pg[k] = v
		case k == KeyLicenses:
			// owned by the Licenses field
		case isAnchorKey(k):
			setMap(&p.m.Anchors, k, v)
		default:
			setMap(&p.m.Extra, k, v)
		}
	}
}

// schema reads the schema version and reports whether it is newer than
// this package's.
func (p *parser) schema() bool {
	v, ok := p.pg[KeySchemaVersion]
	delete(p.pg, KeySchemaVersion)
	if !ok {
		p.add(KeySchemaVersion, "", "required when any org.pgoci.* key is present", ErrMissingKey)
		return false
	}
	canon, reason := checkSchemaVersion(v)
	if reason != "" {
		p.add(KeySchemaVersion, v, reason, ErrInvalidValue)
		return false
	}
	p.m.SchemaVersion = atoi(canon)
	setMap(&p.m.Sources, KeySchemaVersion, SourcePgoci)
	return p.m.SchemaVersion > SchemaVersion
}

func (p *parser) resolveField(f field) {
	var cands []candidate
	if f.own == SourcePgoci {
		if v, ok := p.pg[f.key]; ok {
			delete(p.pg, f.key)
			cands = append(cands, candidate{f.key, v, v, SourcePgoci})
		}
	} else if v, ok := p.in[f.key]; ok {
		cands = append(cands, candidate{f.key, v, v, f.own})
	}
	cands = append(cands, p.anchorCandidates(f.key)...)
	if v, src, ok := p.choose(f.key, f.check, cands); ok {
		f.set(&p.m, v)
		setMap(&p.m.Sources, f.key, src)
	}
}

func (p *parser) anchorCandidates(target string) []candidate {
	var cands []candidate
	for _, a := range anchorMaps {
		raw, ok := p.in[a.key]
		if a.target != target || !ok {
			continue
		}
		v := raw
		if a.conv != nil {
			if v, ok = a.conv(raw); !ok {
				continue
			}
		}
		cands = append(cands, candidate{a.key, raw, v, a.src})
	}
	return cands
}

// choose validates every candidate, picks the first valid one and reports
// the others that disagree with it.
func (p *parser) choose(target string, check checker, cands []candidate) (string, Source, bool) {
	if len(cands) > 0 {
		p.seen[target] = true
	}
	var win *candidate
	var winValue string
	for i := range cands {
		c := &cands[i]
		v, reason := check(c.value)
		switch {
		case reason != "":
			p.add(c.key, c.raw, reason, ErrInvalidValue)
		case win == nil:
			win, winValue = c, v
		case v != winValue:
			p.add(c.key, c.raw, conflictReason(target, c, v, win), ErrConflict)
		}
	}
	if win == nil {
		return "", SourceNone, false
	}
	return winValue, win.src, true
}

func conflictReason(target string, c *candidate, v string, win *candidate) string {
	means := ""
	if c.value != c.raw {
		means = fmt.Sprintf("means %s=%q, ", target, v)
	}
	return fmt.Sprintf("%sconflicts with %s=%q", means, win.key, win.raw)
}

// extensionKeys reads org.pgoci.extension.<name>.<suffix> keys, and
// CloudNativePG's sql.version when the package has exactly one extension.
func (p *parser) extensionKeys() {
	for i := range p.m.Extensions {
		e := &p.m.Extensions[i]
		for _, f := range extFields {
			key := ExtensionKey(e.Name, f.suffix)
			var cands []candidate
			if v, ok := p.pg[key]; ok {
				delete(p.pg, key)
				cands = append(cands, candidate{key, v, v, SourcePgoci})
			}
			if v, ok := p.in[KeyCNPGSQLVersion]; ok && f.suffix == ExtVersion && len(p.m.Extensions) == 1 {
				cands = append(cands, candidate{KeyCNPGSQLVersion, v, v, SourceCloudNativePG})
			}
			if v, src, ok := p.choose(key, f.check, cands); ok {
				f.set(e, v)
				setMap(&p.m.Sources, key, src)
			}
		}
	}
}

// leftovers handles the org.pgoci.* keys no field consumed: kept for a
// newer schema version, errors otherwise.
func (p *parser) leftovers(newer bool) {
	for k, v := range p.pg {
		if newer {
			setMap(&p.m.Extra, k, v)
			continue
		}
		reason := "not defined by schema version " + strconv.Itoa(SchemaVersion)
		if rest, ok := strings.CutPrefix(k, KeyExtensionPrefix); ok {
			if i := strings.LastIndexByte(rest, '.'); i > 0 {
				if _, known := findExtField(rest[i+1:]); known {
					reason = fmt.Sprintf("extension %q is not listed in %s", rest[:i], KeyExtensions)
				}
			}
		}
		p.add(k, v, reason, ErrUnknownKey)
	}
}

func (p *parser) required() {
	for _, f := range fields {
		if f.required && !p.seen[f.key] {
			p.add(f.key, "", "required when any org.pgoci.* key is present", ErrMissingKey)
		}
	}
}

// consistency checks values that must agree across keys: version_num
// 180004 belongs to major 18, and version "18.4" too.
func (p *parser) consistency() {
	major := p.m.PG.Major
	if major == 0 && p.m.PG.VersionNum >= 100000 {
		// No major label: version_num and version must still agree.
		major = p.m.PG.VersionNum / 10000
		if v := p.m.PG.Version; v != "" && leadingDigits(v) != strconv.Itoa(major) {
			p.add(p.sourceKey(KeyPGVersion), v,
				fmt.Sprintf("version %q is not of the PostgreSQL major %d that version_num %d says", v, major, p.m.PG.VersionNum), ErrConflict)
		}
		return
	}
	if major == 0 {
		return
	}
	if n := p.m.PG.VersionNum; n != 0 && n/10000 != major {
		p.add(p.sourceKey(KeyPGVersionNum), strconv.Itoa(n),
			fmt.Sprintf("version_num %d is not of PostgreSQL major %d", n, major), ErrConflict)
	}
	if v := p.m.PG.Version; v != "" && leadingDigits(v) != strconv.Itoa(major) {
		p.add(p.sourceKey(KeyPGVersion), v,
			fmt.Sprintf("version %q is not of PostgreSQL major %d", v, major), ErrConflict)
	}
}

// sourceKey returns the key a value was actually read from.
func (p *parser) sourceKey(target string) string {
	src := p.m.Sources[target]
	for _, a := range anchorMaps {
		if a.target == target && a.src == src {
			return a.key
		}
	}
	return target
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i]
}

func (p *parser) add(key, value, reason string, err error) {
	p.problems = append(p.problems, Problem{Key: key, Value: value, Reason: reason, Err: err})
}

// err sorts the problems by key, then kind, and drops repeats of the same
// kind on the same key (a base.os that contradicts several derived values).
func (p *parser) err() error {
	slices.SortStableFunc(p.problems, func(a, b Problem) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Err.Error(), b.Err.Error()))
	})
	p.problems = slices.CompactFunc(p.problems, func(a, b Problem) bool {
		return a.Key == b.Key && a.Err == b.Err
	})
	return &Error{Problems: p.problems}
}

func setMap[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = make(map[string]V)
	}
	(*m)[k] = v
}
