package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// toYAML renders v, through its JSON form, as a block-style YAML
// document: member order kept, two-space indentation, sequences
// indented under their key, every string double-quoted. JSON is a
// subset of YAML 1.2, but kubectl users and GitOps repositories expect
// block style; quoting every string keeps the emitter small and its
// output unambiguous under YAML 1.1 readers too ("no", "on", "1e3").
func toYAML(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return nil, fmt.Errorf("catalog: re-read the JSON: %w", err)
	}
	var b bytes.Buffer
	b.WriteString("---\n")
	writeNode(&b, n, 0)
	return b.Bytes(), nil
}

// node is a JSON value with its object members in order.
type node struct {
	kind    byte // 'o' object, 'a' array, 's' string, 'l' literal (number, bool, null)
	text    string
	keys    []string
	members []node
}

func readNode(dec *json.Decoder) (node, error) {
	t, err := dec.Token()
	if err != nil {
		return node{}, err
	}
	switch v := t.(type) {
	case json.Delim:
		n := node{kind: 'a'}
		if v == '{' {
			n.kind = 'o'
		}
		for dec.More() {
			if n.kind == 'o' {
				k, err := dec.Token()
				if err != nil {
					return node{}, err
				}
				n.keys = append(n.keys, k.(string))
			}
			m, err := readNode(dec)
			if err != nil {
				return node{}, err
			}
			n.members = append(n.members, m)
		}
		_, err := dec.Token() // the closing delimiter
		return n, err
	case string:
		return node{kind: 's', text: v}, nil
	case json.Number:
		return node{kind: 'l', text: v.String()}, nil
	case bool:
		return node{kind: 'l', text: strconv.FormatBool(v)}, nil
	case nil:
		return node{kind: 'l', text: "null"}, nil
	}
	return node{}, fmt.Errorf("unexpected token %v", t)
}

// writeNode writes n as the value of a block mapping or sequence entry
// at indent, the entry's key or dash already written when n is a
// scalar, or a line ended before it when n is a collection.
func writeNode(b *bytes.Buffer, n node, indent int) {
	pad := strings.Repeat(" ", indent)
	switch n.kind {
	case 'o':
		for i, k := range n.keys {
			b.WriteString(pad + yamlKey(k) + ":")
			writeValue(b, n.members[i], indent)
		}
	case 'a':
		for _, m := range n.members {
			b.WriteString(pad + "-")
			if m.kind == 'o' && len(m.members) > 0 {
				// The first member goes on the dash's line.
				var inner bytes.Buffer
				writeNode(&inner, m, indent+2)
				b.WriteString(" ")
				b.Write(bytes.TrimLeft(inner.Bytes(), " "))
				continue
			}
			writeValue(b, m, indent)
		}
	}
}

// writeValue writes n after "key:" or "-".
func writeValue(b *bytes.Buffer, n node, indent int) {
	switch {
	case n.kind == 's':
		b.WriteString(" " + yamlString(n.text) + "\n")
	case n.kind == 'l':
		b.WriteString(" " + n.text + "\n")
	case len(n.members) == 0 && n.kind == 'o':
		b.WriteString(" {}\n")
	case len(n.members) == 0:
		b.WriteString(" []\n")
	default:
		b.WriteString("\n")
		writeNode(b, n, indent+2)
	}
}

var plainKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// yamlKey writes a mapping key plain when it is an identifier YAML reads
// as that string (not a YAML 1.1 boolean or null), else quoted.
func yamlKey(k string) string {
	switch strings.ToLower(k) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~":
		return yamlString(k)
	}
	if plainKeyRE.MatchString(k) {
		return k
	}
	return yamlString(k)
}

// yamlString double-quotes s: printable ASCII as is (a quote and a
// backslash escaped), everything else as \xXX, \uXXXX or \UXXXXXXXX.
// Invalid UTF-8 has already become U+FFFD in encoding/json.
func yamlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02X`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04X`, r)
		case r <= utf8.MaxRune:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
