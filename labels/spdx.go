package labels

import "strings"

const (
	maxLicenseLen   = 1024
	maxLicenseDepth = 16
)

// checkLicenses accepts an SPDX license expression, loosely: license ids
// and LicenseRef-/DocumentRef- references made of letters, digits, '.',
// '-', ':' and an optional trailing '+', joined by AND / OR (upper or lower
// case), with WITH <exception> and balanced parentheses. It does not check
// ids against the SPDX list, so new licenses are not refused.
func checkLicenses(v string) (string, string) {
	const reason = "an SPDX license expression such as \"PostgreSQL\" or \"(MIT OR Apache-2.0) AND BSD-3-Clause\""
	if v == "" || len(v) > maxLicenseLen || v != strings.TrimSpace(v) {
		return "", reason
	}
	p := spdxParser{toks: spdxTokens(v)}
	if p.toks == nil || !p.expr(0) || p.i != len(p.toks) {
		return "", reason
	}
	return v, ""
}

type spdxParser struct {
	toks []string
	i    int
}

func (p *spdxParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

// expr := term { (AND|OR) term }
func (p *spdxParser) expr(depth int) bool {
	if !p.term(depth) {
		return false
	}
	for isOp(p.peek(), "AND") || isOp(p.peek(), "OR") {
		p.i++
		if !p.term(depth) {
			return false
		}
	}
	return true
}

// term := "(" expr ")" | id [WITH id]
func (p *spdxParser) term(depth int) bool {
	t := p.peek()
	if t == "(" {
		if depth >= maxLicenseDepth {
			return false
		}
		p.i++
		if !p.expr(depth+1) || p.peek() != ")" {
			return false
		}
		p.i++
		return true
	}
	if !isLicenseID(t) {
		return false
	}
	p.i++
	if isOp(p.peek(), "WITH") {
		p.i++
		if !isLicenseID(p.peek()) || strings.HasSuffix(p.peek(), "+") {
			return false
		}
		p.i++
	}
	return true
}

func isOp(t, op string) bool { return t == op || t == strings.ToLower(op) }

func isLicenseID(t string) bool {
	if t == "" || isOp(t, "AND") || isOp(t, "OR") || isOp(t, "WITH") {
		return false
	}
	t = strings.TrimSuffix(t, "+")
	if t == "" || !(isLetter(t[0]) || isDigit(t[0])) {
		return false
	}
	return allBytes(t, func(c byte) bool { return isLetter(c) || isDigit(c) || c == '.' || c == '-' || c == ':' })
}

// spdxTokens splits on single spaces and around parentheses; nil on any
// other whitespace or character outside the grammar's alphabet.
func spdxTokens(v string) []string {
	var toks []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			toks = append(toks, v[start:end])
			start = -1
		}
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == ' ':
			flush(i)
		case c == '(' || c == ')':
			flush(i)
			toks = append(toks, v[i:i+1])
		case isLetter(c) || isDigit(c) || c == '.' || c == '-' || c == ':' || c == '+':
			if start < 0 {
				start = i
			}
		default:
			return nil
		}
	}
	flush(len(v))
	return toks
}
