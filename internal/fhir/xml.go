package fhir

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/errs"
)

// FHIR XML is read by a scanner written for it rather than by encoding/xml, which took
// eight times as long and ten allocations per element. It accepts what encoding/xml in
// strict mode accepted and builds the same tree: xmlref_test.go keeps the encoding/xml
// reader as the reference, and a fuzz test compares the two. It refuses some input that
// encoding/xml let through and that no FHIR document contains; the reasons below name
// those classes, and the fuzz test knows them.
const (
	reasonUTF8          = "ungültiges UTF-8"                    // also in comments and processing instructions
	reasonSurrogate     = "Zeichenreferenz auf ein Surrogat"    // encoding/xml made U+FFFD of it
	reasonNonASCIIName  = "Name mit Zeichen außerhalb ASCII"    // FHIR and XHTML names are ASCII
	reasonDuplicateAttr = "doppeltes Attribut"                  // encoding/xml kept the last one
	reasonRoots         = "mehr als ein Wurzelelement"          // encoding/xml let XHTML be a second root
	reasonSyntax        = "ungültiges XML"                      // prefix of the syntax errors
	reasonEOF           = reasonSyntax + " (unerwartetes Ende)" // inside markup
)

// space is the namespace of an element, as far as FHIR XML cares.
type space uint8

const (
	spaceOther space = iota // none, unknown or an unbound prefix
	spaceFHIR
	spaceXHTML
)

func spaceOf(uri []byte) space {
	switch string(uri) {
	case nsFHIR:
		return spaceFHIR
	case nsXHTML:
		return spaceXHTML
	}
	return spaceOther
}

// xmlParser reads one document. Elements in the FHIR namespace become Nodes; XHTML
// narrative is checked for well-formedness and skipped.
type xmlParser struct {
	data  []byte
	pos   int
	root  *Node
	roots int // top-level elements seen

	open  []span  // names of all open elements as written, to match end tags
	fhir  []frame // the open FHIR elements; open elements beyond them are XHTML
	kids  []*Node // children of the open FHIR elements, gathered until their end tags
	count counter // FHIR elements
	attrs []attr  // attributes of the start tag being read
	seen  map[string]bool
	buf   []byte // scratch for values with references

	// Prefixed namespace declarations in scope (rare in FHIR), and what to restore when
	// the element that declared them ends.
	prefixes map[string]space
	undo     []binding

	// Nodes and child lists are cut from chunks rather than allocated one by one.
	nodes    []Node
	ptrs     []*Node
	ptrsUsed int

	// First backing arrays of the stacks, enough for most documents.
	openBuf  [32]span
	fhirBuf  [24]frame
	kidsBuf  [64]*Node
	attrsBuf [4]attr
}

type frame struct {
	node *Node
	kids int   // where the node's children begin in kids
	undo int   // length of undo before the element's declarations
	def  space // default namespace inside the element
}

// span is a part of the document. Spans rather than slices keep the parser's own
// records free of pointers, which the garbage collector would otherwise watch.
type span struct{ start, end int }

func (p *xmlParser) bytes(s span) []byte { return p.data[s.start:s.end] }

type attr struct {
	name  span
	colon int // as in qname
	value span
	plain bool // value needs no decoding
}

type binding struct {
	prefix string
	old    space
	had    bool
}

// parseXML reads FHIR XML: elements in the FHIR namespace with value and url attributes,
// narrative XHTML (skipped), comments and processing instructions (skipped). Anything
// else, DTDs in particular, is refused.
func parseXML(data []byte) (*Node, error) {
	p := &xmlParser{data: data}
	p.open, p.fhir, p.kids, p.attrs = p.openBuf[:0], p.fhirBuf[:0], p.kidsBuf[:0], p.attrsBuf[:0]
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		p.pos = i
		return nil, p.fail(reasonUTF8)
	}
	for p.pos < len(data) {
		if data[p.pos] != '<' {
			if err := p.text(); err != nil {
				return nil, err
			}
			continue
		}
		p.pos++
		if p.pos == len(data) {
			return nil, p.fail(reasonEOF)
		}
		var err error
		switch data[p.pos] {
		case '/':
			err = p.endTag()
		case '?':
			err = p.procInst()
		case '!':
			err = p.bang()
		default:
			err = p.startTag()
		}
		if err != nil {
			return nil, err
		}
	}
	if len(p.open) > 0 {
		return nil, p.fail("%s (Element <%s> nicht geschlossen)", reasonSyntax, clip(string(p.bytes(p.open[len(p.open)-1]))))
	}
	if p.root == nil {
		return nil, errs.E(errs.Invalid, "XML ohne Wurzelelement")
	}
	return p.root, nil
}

// fail reports a problem at the current position.
func (p *xmlParser) fail(format string, args ...any) error {
	line := bytes.Count(p.data[:min(p.pos, len(p.data))], []byte("\n")) + 1
	return errs.E(errs.Invalid, "XML Zeile %d: %s", line, fmt.Sprintf(format, args...))
}

func (p *xmlParser) inXHTML() bool { return len(p.open) > len(p.fhir) }

// text reads character data up to the next '<'. Outside XHTML it must be white space,
// as unicode.IsSpace has it (encoding/xml's reader used bytes.TrimSpace).
func (p *xmlParser) text() error {
	d, i := p.data, p.pos
	xhtml := p.inXHTML()
	for i < len(d) {
		c := d[i]
		switch {
		case c == '<':
			p.pos = i
			return nil
		case c == ' ' || c == '\n' || c == '\t' || c == '\r':
			i++
			continue
		case c == '&':
			r, n, reason := reference(d[i+1:])
			if reason != "" {
				p.pos = i
				return p.fail("%s", reason)
			}
			if !xhtml && !unicode.IsSpace(r) {
				p.pos = i
				return p.fail("Text außerhalb eines value-Attributs")
			}
			i += 1 + n
			continue
		case c < 0x20:
			p.pos = i
			return p.fail("%s (Steuerzeichen)", reasonSyntax)
		case c == ']' && bytes.HasPrefix(d[i:], []byte("]]>")):
			p.pos = i
			return p.fail("%s (]]> außerhalb von CDATA)", reasonSyntax)
		case c < utf8.RuneSelf:
			if !xhtml {
				p.pos = i
				return p.fail("Text außerhalb eines value-Attributs")
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(d[i:])
		if r == 0xFFFE || r == 0xFFFF {
			p.pos = i
			return p.fail("%s (Zeichen U+%04X)", reasonSyntax, r)
		}
		if !xhtml && !unicode.IsSpace(r) {
			p.pos = i
			return p.fail("Text außerhalb eines value-Attributs")
		}
		i += size
	}
	p.pos = i
	return nil
}

// bang reads what follows "<!": a comment or a CDATA section. Anything else is a
// declaration (DOCTYPE, ENTITY …), and those are refused.
func (p *xmlParser) bang() error {
	d := p.data[p.pos:]
	switch {
	case bytes.HasPrefix(d, []byte("!--")):
		body := p.pos + 3
		k := bytes.Index(p.data[body:], []byte("--"))
		if k < 0 {
			p.pos = len(p.data)
			return p.fail(reasonEOF)
		}
		p.pos = body + k + 2
		if p.pos == len(p.data) {
			return p.fail(reasonEOF)
		}
		if p.data[p.pos] != '>' {
			return p.fail("%s (-- in einem Kommentar)", reasonSyntax)
		}
		p.pos++
		return nil
	case bytes.HasPrefix(d, []byte("![CDATA[")):
		body := p.pos + 8
		k := bytes.Index(p.data[body:], []byte("]]>"))
		if k < 0 {
			p.pos = len(p.data)
			return p.fail(reasonEOF)
		}
		xhtml := p.inXHTML()
		for i := body; i < body+k; {
			r, size := rune(p.data[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRune(p.data[i:])
			}
			if !isXMLChar(r) {
				p.pos = i
				return p.fail("%s (Steuerzeichen)", reasonSyntax)
			}
			if !xhtml && !unicode.IsSpace(r) {
				p.pos = i
				return p.fail("Text außerhalb eines value-Attributs")
			}
			i += size
		}
		p.pos = body + k + 3
		return nil
	case len(d) < 9 && (bytes.HasPrefix([]byte("!--"), d) || bytes.HasPrefix([]byte("![CDATA["), d)):
		p.pos = len(p.data)
		return p.fail(reasonEOF)
	case bytes.HasPrefix(d, []byte("!-")) || bytes.HasPrefix(d, []byte("![")):
		return p.fail("%s (<!- oder <![)", reasonSyntax)
	}
	return p.fail("DOCTYPE und Entitäten sind nicht erlaubt")
}

// procInst reads a processing instruction after "<". Only the XML declaration means
// anything: it must not ask for another version or encoding.
func (p *xmlParser) procInst() error {
	p.pos++
	target, err := p.name()
	if err != nil {
		return err
	}
	p.skipSpace()
	k := bytes.Index(p.data[p.pos:], []byte("?>"))
	if k < 0 {
		p.pos = len(p.data)
		return p.fail(reasonEOF)
	}
	content := p.data[p.pos : p.pos+k]
	if string(target) == "xml" {
		if v := declParam(content, "version="); len(v) > 0 && string(v) != "1.0" {
			return p.fail("%s (nur XML 1.0)", reasonSyntax)
		}
		if e := declParam(content, "encoding="); len(e) > 0 && !bytes.EqualFold(e, []byte("utf-8")) {
			return p.fail("%s (nur UTF-8)", reasonSyntax)
		}
	}
	p.pos += k + 2
	return nil
}

// declParam finds key (`version=`) in an XML declaration and returns the quoted value
// after it, or nil, the way encoding/xml looks for it: the first key followed by a quote.
func declParam(s []byte, key string) []byte {
	for i := 0; i < len(s); {
		k := bytes.Index(s[i:], []byte(key))
		if k < 0 || i+k+len(key) >= len(s) {
			return nil
		}
		q := s[i+k+len(key)]
		i += k + len(key) + 1
		if q == '"' || q == '\'' {
			j := bytes.IndexByte(s[i:], q)
			if j < 0 {
				return nil
			}
			return s[i : i+j]
		}
	}
	return nil
}

// startTag reads a start tag after "<" and opens the element.
func (p *xmlParser) startTag() error {
	nameSpan, colon, err := p.qname()
	if err != nil {
		return err
	}
	name := p.bytes(nameSpan)
	p.attrs = p.attrs[:0]
	empty := false
	for {
		p.skipSpace()
		if p.pos == len(p.data) {
			return p.fail(reasonEOF)
		}
		if c := p.data[p.pos]; c == '>' {
			p.pos++
			break
		} else if c == '/' {
			p.pos++
			if p.pos == len(p.data) {
				return p.fail(reasonEOF)
			}
			if p.data[p.pos] != '>' {
				return p.fail("%s (/ ohne > in <%s>)", reasonSyntax, clip(string(name)))
			}
			p.pos++
			empty = true
			break
		}
		if err := p.attr(name); err != nil {
			return err
		}
	}

	if len(p.open) == 0 {
		p.roots++
		if p.roots > 1 {
			return p.fail(reasonRoots)
		}
	}
	if p.inXHTML() {
		if !empty {
			p.open = append(p.open, nameSpan)
		}
		return nil
	}
	local := name
	if colon >= 0 {
		local = name[colon+1:]
	}
	switch p.elementSpace(name, colon) {
	case spaceXHTML:
		if !empty {
			p.open = append(p.open, nameSpan)
		}
		return nil
	case spaceOther:
		return p.fail("Element <%s> nicht im FHIR-Namensraum %s", clip(string(local)), nsFHIR)
	}
	if len(p.fhir) >= MaxDepth {
		return p.fail("mehr als %d Ebenen verschachtelt", MaxDepth)
	}
	if err := p.count.add(); err != nil {
		return p.fail("%v", err)
	}

	n := p.node()
	n.Name = intern(local)
	// As with encoding/xml, value and url count by their local name, and the last wins.
	var value, url *attr
	for i := range p.attrs {
		a := &p.attrs[i]
		switch string(p.bytes(a.name)[a.colon+1:]) {
		case "value":
			value = a
		case "url":
			url = a
		}
	}
	if value != nil {
		n.Value = p.str(value)
	}
	if url != nil {
		n.URL = p.str(url)
	}
	if len(p.fhir) == 0 {
		p.root = n
	} else {
		p.kids = append(p.kids, n)
	}

	f := frame{node: n, kids: len(p.kids), undo: len(p.undo), def: spaceOther}
	if len(p.fhir) > 0 {
		f.def = p.fhir[len(p.fhir)-1].def
	}
	for i := range p.attrs {
		a := &p.attrs[i]
		name := p.bytes(a.name)
		switch {
		case a.colon < 0 && string(name) == "xmlns":
			f.def = p.declared(a)
		case a.colon >= 0 && string(name[:a.colon]) == "xmlns":
			prefix := string(name[a.colon+1:])
			old, had := p.prefixes[prefix]
			p.undo = append(p.undo, binding{prefix, old, had})
			if p.prefixes == nil {
				p.prefixes = map[string]space{}
			}
			p.prefixes[prefix] = p.declared(a)
		}
	}
	if empty {
		p.unbind(f.undo)
		return nil
	}
	p.fhir = append(p.fhir, f)
	p.open = append(p.open, nameSpan)
	return nil
}

// attr reads one attribute of the start tag of element.
func (p *xmlParser) attr(element []byte) error {
	nameSpan, colon, err := p.qname()
	if err != nil {
		return err
	}
	name := p.bytes(nameSpan)
	if len(p.attrs) < 8 {
		for _, a := range p.attrs {
			if bytes.Equal(p.bytes(a.name), name) {
				return p.fail("%s in <%s>", reasonDuplicateAttr, clip(string(element)))
			}
		}
	} else {
		if len(p.attrs) == 8 {
			if p.seen == nil {
				p.seen = map[string]bool{}
			}
			clear(p.seen)
			for _, a := range p.attrs {
				p.seen[string(p.bytes(a.name))] = true
			}
		}
		if p.seen[string(name)] {
			return p.fail("%s in <%s>", reasonDuplicateAttr, clip(string(element)))
		}
		p.seen[string(name)] = true
	}
	p.skipSpace()
	if p.pos == len(p.data) {
		return p.fail(reasonEOF)
	}
	if p.data[p.pos] != '=' {
		return p.fail("%s (Attribut ohne = in <%s>)", reasonSyntax, clip(string(element)))
	}
	p.pos++
	p.skipSpace()
	value, plain, err := p.attrValue()
	if err != nil {
		return err
	}
	p.attrs = append(p.attrs, attr{name: nameSpan, colon: colon, value: value, plain: plain})
	return nil
}

// attrValue reads a quoted attribute value and returns it as written, and whether it is
// plain: free of references and carriage returns, so that it needs no decoding.
func (p *xmlParser) attrValue() (value span, plain bool, err error) {
	d := p.data
	if p.pos == len(d) {
		return span{}, false, p.fail(reasonEOF)
	}
	q := d[p.pos]
	if q != '"' && q != '\'' {
		return span{}, false, p.fail("%s (Attributwert ohne Anführungszeichen)", reasonSyntax)
	}
	start := p.pos + 1
	end := bytes.IndexByte(d[start:], q)
	if end < 0 {
		p.pos = len(d)
		return span{}, false, p.fail(reasonEOF)
	}
	end += start
	v := d[start:end]
	plain = true
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x20 && c != '<' && c != '&' && c != 0xEF || c == '\t' || c == '\n' {
			continue
		}
		switch {
		case c == '\r':
			plain = false
		case c == '&':
			_, n, reason := reference(v[i+1:])
			if reason != "" {
				p.pos = start + i
				return span{}, false, p.fail("%s", reason)
			}
			plain = false
			i += n
		case c == '<':
			p.pos = start + i
			return span{}, false, p.fail("%s (< in einem Attributwert)", reasonSyntax)
		case c == 0xEF:
			if i+2 < len(v) && v[i+1] == 0xBF && (v[i+2] == 0xBE || v[i+2] == 0xBF) { // U+FFFE, U+FFFF
				p.pos = start + i
				return span{}, false, p.fail("%s (Zeichen U+FFFE oder U+FFFF)", reasonSyntax)
			}
		default:
			p.pos = start + i
			return span{}, false, p.fail("%s (Steuerzeichen)", reasonSyntax)
		}
	}
	p.pos = end + 1
	return span{start, end}, plain, nil
}

// str returns an attribute's value decoded: references replaced, and line ends
// normalised as encoding/xml did: CR LF and CR become LF, tabs and LF stay. (XML would
// make a space of each; values keep what they were with encoding/xml.)
func (p *xmlParser) str(a *attr) string {
	if a.plain {
		return string(p.bytes(a.value))
	}
	return string(p.decode(p.bytes(a.value)))
}

func (p *xmlParser) decode(v []byte) []byte {
	b := p.buf[:0]
	for i := 0; i < len(v); {
		switch c := v[i]; c {
		case '\r':
			b = append(b, '\n')
			i++
			if i < len(v) && v[i] == '\n' {
				i++
			}
		case '&':
			r, n, _ := reference(v[i+1:]) // checked by attrValue
			b = utf8.AppendRune(b, r)
			i += 1 + n
		default:
			b = append(b, c)
			i++
		}
	}
	p.buf = b
	return b
}

// declared returns the namespace an xmlns attribute declares.
func (p *xmlParser) declared(a *attr) space {
	if a.plain {
		return spaceOf(p.bytes(a.value))
	}
	return spaceOf(p.decode(p.bytes(a.value)))
}

// elementSpace resolves the namespace of an element name, with the declarations of its own
// start tag (in p.attrs) and those in scope, as encoding/xml does: the prefixes xml and
// xmlns and an element named xmlns are never FHIR.
func (p *xmlParser) elementSpace(name []byte, colon int) space {
	if colon < 0 {
		if string(name) == "xmlns" {
			return spaceOther
		}
		for i := range p.attrs {
			if a := &p.attrs[i]; a.colon < 0 && string(p.bytes(a.name)) == "xmlns" {
				return p.declared(a)
			}
		}
		if len(p.fhir) == 0 {
			return spaceOther
		}
		return p.fhir[len(p.fhir)-1].def
	}
	prefix := name[:colon]
	if string(prefix) == "xml" || string(prefix) == "xmlns" {
		return spaceOther
	}
	for i := range p.attrs {
		a := &p.attrs[i]
		if name := p.bytes(a.name); a.colon >= 0 && string(name[:a.colon]) == "xmlns" && bytes.Equal(name[a.colon+1:], prefix) {
			return p.declared(a)
		}
	}
	return p.prefixes[string(prefix)]
}

// unbind restores the prefixed namespace bindings to the first mark entries of undo.
func (p *xmlParser) unbind(mark int) {
	for i := len(p.undo) - 1; i >= mark; i-- {
		b := p.undo[i]
		if b.had {
			p.prefixes[b.prefix] = b.old
		} else {
			delete(p.prefixes, b.prefix)
		}
	}
	p.undo = p.undo[:mark]
}

// endTag reads an end tag after "<" and closes the element.
func (p *xmlParser) endTag() error {
	p.pos++
	nameSpan, _, err := p.qname()
	if err != nil {
		return err
	}
	name := p.bytes(nameSpan)
	p.skipSpace()
	if p.pos == len(p.data) {
		return p.fail(reasonEOF)
	}
	if p.data[p.pos] != '>' {
		return p.fail("%s (Zeichen nach </%s)", reasonSyntax, clip(string(name)))
	}
	p.pos++
	if len(p.open) == 0 {
		return p.fail("%s (</%s> ohne Anfang)", reasonSyntax, clip(string(name)))
	}
	if top := p.bytes(p.open[len(p.open)-1]); !bytes.Equal(top, name) {
		return p.fail("%s (<%s> mit </%s> geschlossen)", reasonSyntax, clip(string(top)), clip(string(name)))
	}
	p.open = p.open[:len(p.open)-1]
	if len(p.open) < len(p.fhir) {
		f := p.fhir[len(p.fhir)-1]
		p.fhir = p.fhir[:len(p.fhir)-1]
		if kids := p.kids[f.kids:]; len(kids) > 0 {
			f.node.Children = p.children(kids)
			p.kids = p.kids[:f.kids]
		}
		p.unbind(f.undo)
	}
	return nil
}

// qname reads a name and returns where the colon between prefix and local name is, or -1
// for a name without prefix. Like encoding/xml, it takes a name with a colon at its start
// or end as unprefixed, and refuses more than one colon.
func (p *xmlParser) qname() (s span, colon int, err error) {
	start := p.pos
	name, err := p.name()
	if err != nil {
		return span{}, 0, err
	}
	colon = bytes.IndexByte(name, ':')
	if colon >= 0 && bytes.IndexByte(name[colon+1:], ':') >= 0 {
		return span{}, 0, p.fail("%s (Name mit mehreren Doppelpunkten)", reasonSyntax)
	}
	if colon == 0 || colon == len(name)-1 {
		colon = -1
	}
	return span{start, start + len(name)}, colon, nil
}

// name reads an XML name. Only ASCII names are accepted: encoding/xml's tables of
// letters beyond ASCII are not exported, and neither FHIR nor XHTML needs them.
func (p *xmlParser) name() ([]byte, error) {
	d, start := p.data, p.pos
	i := start
	for i < len(d) && isNameByte(d[i]) {
		i++
	}
	p.pos = i
	switch {
	case i < len(d) && d[i] >= utf8.RuneSelf:
		return nil, p.fail(reasonNonASCIIName)
	case i == len(d):
		return nil, p.fail(reasonEOF)
	case i == start:
		return nil, p.fail("%s (Name erwartet)", reasonSyntax)
	}
	if c := d[start]; c >= '0' && c <= '9' || c == '-' || c == '.' {
		p.pos = start
		return nil, p.fail("%s (ungültiger Name)", reasonSyntax)
	}
	return d[start:i], nil
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

func (p *xmlParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\n', '\t', '\r':
			p.pos++
		default:
			return
		}
	}
}

// reference reads an entity or character reference after its '&' and returns the
// character, the bytes it took up to and including ';', or why it is refused. Only XML's
// five entities are known: DTDs are refused, so there are no others.
func reference(b []byte) (r rune, n int, reason string) {
	if len(b) > 0 && b[0] == '#' {
		base, i := rune(10), 1
		if len(b) > 1 && b[1] == 'x' {
			base, i = 16, 2
		}
		start := i
		for ; i < len(b); i++ {
			var d rune
			switch c := rune(b[i]); {
			case '0' <= c && c <= '9':
				d = c - '0'
			case base == 16 && 'a' <= c && c <= 'f':
				d = c - 'a' + 10
			case base == 16 && 'A' <= c && c <= 'F':
				d = c - 'A' + 10
			default:
				d = -1
			}
			if d < 0 {
				break
			}
			if r <= unicode.MaxRune {
				r = r*base + d
			}
		}
		switch {
		case i == start || i == len(b) || b[i] != ';' || r > unicode.MaxRune:
			return 0, 0, reasonSyntax + " (ungültige Zeichenreferenz)"
		case 0xD800 <= r && r <= 0xDFFF:
			return 0, 0, reasonSurrogate
		case !isXMLChar(r):
			return 0, 0, reasonSyntax + " (Zeichenreferenz auf ein Steuerzeichen)"
		}
		return r, i + 1, ""
	}
	for _, e := range [...]struct {
		name string
		r    rune
	}{{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}} {
		if bytes.HasPrefix(b, []byte(e.name)) {
			return e.r, len(e.name), ""
		}
	}
	return 0, 0, reasonSyntax + " (unbekannte Entität)"
}

// isXMLChar reports whether r is a character XML documents may contain.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// node returns a new Node from the current chunk.
func (p *xmlParser) node() *Node {
	if len(p.nodes) == 0 {
		p.nodes = make([]Node, p.chunk(p.count.n-1))
	}
	n := &p.nodes[0]
	p.nodes = p.nodes[1:]
	return n
}

// children returns a copy of kids cut from the current chunk of pointers, with no room
// to grow, so that appending to one node's children cannot overwrite another's.
func (p *xmlParser) children(kids []*Node) []*Node {
	if len(p.ptrs) < len(kids) {
		p.ptrs = make([]*Node, max(len(kids), p.chunk(p.ptrsUsed)))
	}
	c := p.ptrs[:len(kids):len(kids)]
	copy(c, kids)
	p.ptrs = p.ptrs[len(kids):]
	p.ptrsUsed += len(kids)
	return c
}

// chunk returns how many nodes or child pointers to allocate at once when used of them
// were needed so far: the rate so far, extrapolated to the rest of the document, and at
// the start a guess from its size (E-Rezept documents take 45 to 85 bytes an element).
func (p *xmlParser) chunk(used int) int {
	n := len(p.data) / 64
	if used > 0 {
		n = int(int64(used) * int64(len(p.data)-p.pos) / int64(p.pos))
	}
	return min(n+n/8+8, 1024)
}

// intern returns the element names of FHIR resources used in E-Rezept documents without
// allocating: as constants of the switch.
func intern(b []byte) string {
	switch string(b) {
	case "Binary":
		return "Binary"
	case "Bundle":
		return "Bundle"
	case "Composition":
		return "Composition"
	case "Coverage":
		return "Coverage"
	case "Device":
		return "Device"
	case "Invoice":
		return "Invoice"
	case "List":
		return "List"
	case "Medication":
		return "Medication"
	case "MedicationDispense":
		return "MedicationDispense"
	case "MedicationRequest":
		return "MedicationRequest"
	case "Organization":
		return "Organization"
	case "Parameters":
		return "Parameters"
	case "Patient":
		return "Patient"
	case "Practitioner":
		return "Practitioner"
	case "actor":
		return "actor"
	case "address":
		return "address"
	case "allowedBoolean":
		return "allowedBoolean"
	case "amount":
		return "amount"
	case "author":
		return "author"
	case "authoredOn":
		return "authoredOn"
	case "authorizingPrescription":
		return "authorizingPrescription"
	case "batch":
		return "batch"
	case "beneficiary":
		return "beneficiary"
	case "birthDate":
		return "birthDate"
	case "chargeItemCodeableConcept":
		return "chargeItemCodeableConcept"
	case "city":
		return "city"
	case "code":
		return "code"
	case "coding":
		return "coding"
	case "contact":
		return "contact"
	case "contained":
		return "contained"
	case "contentType":
		return "contentType"
	case "country":
		return "country"
	case "currency":
		return "currency"
	case "custodian":
		return "custodian"
	case "data":
		return "data"
	case "date":
		return "date"
	case "denominator":
		return "denominator"
	case "deviceName":
		return "deviceName"
	case "dispenseRequest":
		return "dispenseRequest"
	case "display":
		return "display"
	case "dosageInstruction":
		return "dosageInstruction"
	case "doseAndRate":
		return "doseAndRate"
	case "doseQuantity":
		return "doseQuantity"
	case "end":
		return "end"
	case "entry":
		return "entry"
	case "event":
		return "event"
	case "extension":
		return "extension"
	case "factor":
		return "factor"
	case "family":
		return "family"
	case "form":
		return "form"
	case "frequency":
		return "frequency"
	case "fullUrl":
		return "fullUrl"
	case "function":
		return "function"
	case "given":
		return "given"
	case "id":
		return "id"
	case "identifier":
		return "identifier"
	case "ingredient":
		return "ingredient"
	case "insurance":
		return "insurance"
	case "intent":
		return "intent"
	case "issuer":
		return "issuer"
	case "item":
		return "item"
	case "itemCodeableConcept":
		return "itemCodeableConcept"
	case "lastUpdated":
		return "lastUpdated"
	case "line":
		return "line"
	case "lineItem":
		return "lineItem"
	case "link":
		return "link"
	case "lotNumber":
		return "lotNumber"
	case "medicationCodeableConcept":
		return "medicationCodeableConcept"
	case "medicationReference":
		return "medicationReference"
	case "meta":
		return "meta"
	case "mode":
		return "mode"
	case "modifierExtension":
		return "modifierExtension"
	case "name":
		return "name"
	case "note":
		return "note"
	case "numerator":
		return "numerator"
	case "parameter":
		return "parameter"
	case "part":
		return "part"
	case "patientInstruction":
		return "patientInstruction"
	case "payor":
		return "payor"
	case "performer":
		return "performer"
	case "period":
		return "period"
	case "periodUnit":
		return "periodUnit"
	case "postalCode":
		return "postalCode"
	case "prefix":
		return "prefix"
	case "priceComponent":
		return "priceComponent"
	case "profile":
		return "profile"
	case "qualification":
		return "qualification"
	case "quantity":
		return "quantity"
	case "reference":
		return "reference"
	case "relation":
		return "relation"
	case "repeat":
		return "repeat"
	case "requester":
		return "requester"
	case "resource":
		return "resource"
	case "section":
		return "section"
	case "sequence":
		return "sequence"
	case "serialNumber":
		return "serialNumber"
	case "sigFormat":
		return "sigFormat"
	case "signature":
		return "signature"
	case "start":
		return "start"
	case "status":
		return "status"
	case "strength":
		return "strength"
	case "subject":
		return "subject"
	case "substitution":
		return "substitution"
	case "system":
		return "system"
	case "tag":
		return "tag"
	case "telecom":
		return "telecom"
	case "text":
		return "text"
	case "timestamp":
		return "timestamp"
	case "timing":
		return "timing"
	case "title":
		return "title"
	case "totalGross":
		return "totalGross"
	case "type":
		return "type"
	case "unit":
		return "unit"
	case "url":
		return "url"
	case "use":
		return "use"
	case "value":
		return "value"
	case "valueBoolean":
		return "valueBoolean"
	case "valueCanonical":
		return "valueCanonical"
	case "valueCode":
		return "valueCode"
	case "valueCodeableConcept":
		return "valueCodeableConcept"
	case "valueCoding":
		return "valueCoding"
	case "valueDate":
		return "valueDate"
	case "valueDateTime":
		return "valueDateTime"
	case "valueDecimal":
		return "valueDecimal"
	case "valueId":
		return "valueId"
	case "valueIdentifier":
		return "valueIdentifier"
	case "valueInstant":
		return "valueInstant"
	case "valueInteger":
		return "valueInteger"
	case "valueMarkdown":
		return "valueMarkdown"
	case "valueMoney":
		return "valueMoney"
	case "valuePeriod":
		return "valuePeriod"
	case "valuePositiveInt":
		return "valuePositiveInt"
	case "valueQuantity":
		return "valueQuantity"
	case "valueRatio":
		return "valueRatio"
	case "valueReference":
		return "valueReference"
	case "valueString":
		return "valueString"
	case "valueTime":
		return "valueTime"
	case "valueUnsignedInt":
		return "valueUnsignedInt"
	case "valueUri":
		return "valueUri"
	case "valueUrl":
		return "valueUrl"
	case "version":
		return "version"
	case "versionId":
		return "versionId"
	case "wasSubstituted":
		return "wasSubstituted"
	case "when":
		return "when"
	case "whenHandedOver":
		return "whenHandedOver"
	case "whenPrepared":
		return "whenPrepared"
	case "who":
		return "who"
	}
	return string(b)
}

// clip shortens a name for an error message.
func clip(s string) string {
	if len(s) > 60 {
		s = s[:60]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s + "…"
	}
	return s
}
