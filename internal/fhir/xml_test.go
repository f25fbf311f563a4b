package fhir

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
)

// fixtureDir holds the official E-Rezept examples (see ../shared/fixtures/erezept/MANIFEST.md).
const fixtureDir = "../../../shared/fixtures/erezept"

const fhirNS = `xmlns="http://hl7.org/fhir"`

// trickyXML are valid documents that exercise the corners of the scanner: references,
// line ends in attributes, comments, processing instructions and narrative anywhere.
var trickyXML = []string{
	`<Patient ` + fhirNS + `><id value="a&amp;b&lt;c&gt;d&quot;e&apos;f"/></Patient>`,
	`<Patient ` + fhirNS + `><id value="&#65;&#x42;&#x1F600;&#0000067;&#xd;&#10;&#9;&#xE9;"/></Patient>`,
	"<Patient " + fhirNS + "><id value=\"a\r\nb\rc\nd\te\r\r\nf\"/></Patient>",
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Patient " + fhirNS + ">\r\n  <id value=\"1\"/>\r\n</Patient>\r\n",
	`<?xml version='1.0' encoding='utf-8' standalone='yes'?><!-- vor --><Patient ` + fhirNS + `><!-- in --><id value="1"/><!----><!-- - --><name><!-- x --><family value="M"/></name><!-- nach --></Patient><!-- Ende -->`,
	`<!-- vor der Deklaration --><?xml version="1.0"?><Patient ` + fhirNS + `/>`,
	`<?xml-stylesheet href="a.xsl" type="text/xsl"?><Patient ` + fhirNS + `><?pi mitten drin?><id value="1"/><?x?></Patient><?danach ?>`,
	`<Patient ` + fhirNS + `><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Text <b>fett</b> &amp; &#160; &lt;<![CDATA[<x>&foo;]]></p>` +
		`<x:y xmlns:x="urn:x" x:a="1"><x:z/></x:y><h:br xmlns:h="urn:h"/><!-- k --><?p i?><table><tr><td>1</td></tr></table></div></text><id value="p"/></Patient>`,
	`<Patient ` + fhirNS + `><text><h:div xmlns:h="http://www.w3.org/1999/xhtml"><h:p>x</h:p><p>ohne Namensraum</p></h:div></text></Patient>`,
	`<f:Patient xmlns:f="http://hl7.org/fhir"><f:id value="1"/><f:name><f:family value="M"/></f:name></f:Patient>`,
	`<Bundle ` + fhirNS + `><id xmlns="http://hl7.org/fhir" value="x"/><entry xmlns:f="http://hl7.org/fhir"><f:fullUrl value="u"/></entry></Bundle>`,
	`<Patient xmlns="http://hl7.org/&#102;hir"><id value="1"/></Patient>`,
	"<Patient\t" + fhirNS + "\n><id  value = \"1\" \n/><active\r\nvalue='true'/></Patient  \n>",
	`<Patient ` + fhirNS + `><id value='single "quoted"'/><name value="double 'quoted'"/></Patient>`,
	`<Patient ` + fhirNS + `><id value="Müller – 日本 😀"/><gender value=""/></Patient>`,
	`<Patient ` + fhirNS + ` id="p"><extension url="https://example.org/x"><valueString value="v"/></extension><birthDate value="1970" id="b"><extension url="u"/></birthDate></Patient>`,
	`<Patient ` + fhirNS + `><id value="a]]>b>c"/></Patient>`,
	"<Patient " + fhirNS + ">\u00a0&#32;&#x3000;<id value=\"1\"/>\u2003</Patient>",
	"<Patient " + fhirNS + "><text><![CDATA[ \n ]]></text></Patient>",
	`<Patient ` + fhirNS + `><id value="1"id="x"/></Patient>`,
	`<Patient ` + fhirNS + `><a:b xmlns:a="http://hl7.org/fhir" xmlns:b="http://www.w3.org/1999/xhtml"><b:c><a:d/></b:c></a:b></Patient>`,
	`<Patient ` + fhirNS + `><name xmlns:n="http://hl7.org/fhir"><n:family value="1"/></name><n:given xmlns:n="http://hl7.org/fhir" value="2"/></Patient>`,
	`<Patient ` + fhirNS + `><id x:value="1"/></Patient>`, // encoding/xml matched attributes by local name
	`<Patient ` + fhirNS + `/>` + "\n\n",
	"<Patient " + fhirNS + ">&#x85;\u0085<id value=\"1\"/></Patient>",
	`<Patient ` + fhirNS + `><?xml version="1.0"?><id value="1"/></Patient>`,
	`<Patient ` + fhirNS + ` xmlns:f="http://hl7.org/fhir"><name xmlns:f="urn:x"/><f:id value="1"/></Patient>`,
	`<Patient ` + fhirNS + ` a="1" b="2" c="3" d="4" e="5" f="6" g="7" h="8" i="9" j="10" value="v" k:l="11" url="u"/>`,
	`<f:Patient xmlns:f="http://hl7.org/fhir" xmlns="urn:anderer"><f:id value="1"/></f:Patient>`,
	`<Bundle ` + fhirNS + `>` + strings.Repeat(`<a>`, MaxDepth-1) + strings.Repeat(`</a>`, MaxDepth-1) + `</Bundle>`,
}

// rejectedXML are documents both readers refuse, with a fragment of the new reader's
// message.
var rejectedXML = []struct{ name, in, want string }{
	{"doctype", `<!DOCTYPE Patient><Patient ` + fhirNS + `/>`, "DOCTYPE"},
	{"entity declaration", `<Patient ` + fhirNS + `><!ENTITY x "y"></Patient>`, "DOCTYPE"},
	{"doctype in narrative", `<Patient ` + fhirNS + `><text><div xmlns="http://www.w3.org/1999/xhtml"><!DOCTYPE x></div></text></Patient>`, "DOCTYPE"},
	{"unknown entity", `<Patient ` + fhirNS + `><id value="&nbsp;"/></Patient>`, "unbekannte Entität"},
	{"unknown entity in narrative", `<Patient ` + fhirNS + `><text><div xmlns="http://www.w3.org/1999/xhtml">&nbsp;</div></text></Patient>`, "unbekannte Entität"},
	{"entity without semicolon", `<Patient ` + fhirNS + `><id value="&amp"/></Patient>`, "unbekannte Entität"},
	{"reference without semicolon", `<Patient ` + fhirNS + `><id value="&#65"/></Patient>`, "Zeichenreferenz"},
	{"empty reference", `<Patient ` + fhirNS + `><id value="&#x;"/></Patient>`, "Zeichenreferenz"},
	{"reference upper X", `<Patient ` + fhirNS + `><id value="&#X41;"/></Patient>`, "Zeichenreferenz"},
	{"reference to NUL", `<Patient ` + fhirNS + `><id value="&#0;"/></Patient>`, "Steuerzeichen"},
	{"reference to FFFE", `<Patient ` + fhirNS + `><id value="&#xFFFE;"/></Patient>`, "Steuerzeichen"},
	{"reference too big", `<Patient ` + fhirNS + `><id value="&#x110000;"/></Patient>`, "Zeichenreferenz"},
	{"reference overflow", `<Patient ` + fhirNS + `><id value="&#99999999999999999999999;"/></Patient>`, "Zeichenreferenz"},
	{"control character", "<Patient " + fhirNS + "><id value=\"a\x01b\"/></Patient>", "Steuerzeichen"},
	{"control character in narrative", "<Patient " + fhirNS + "><text><div xmlns=\"http://www.w3.org/1999/xhtml\">\x1b</div></text></Patient>", "Steuerzeichen"},
	{"U+FFFF", "<Patient " + fhirNS + "><id value=\"\uffff\"/></Patient>", "U+FFFF"},
	{"invalid UTF-8", "<Patient " + fhirNS + "><id value=\"\xff\"/></Patient>", "UTF-8"},
	{"unquoted attribute", `<Patient ` + fhirNS + `><id value=1/></Patient>`, "Anführungszeichen"},
	{"attribute without value", `<Patient ` + fhirNS + `><id value/></Patient>`, "ohne ="},
	{"less-than in attribute", `<Patient ` + fhirNS + `><id value="a<b"/></Patient>`, "<"},
	{"mismatched tags", `<Patient ` + fhirNS + `><name></nam></Patient>`, "<name> mit </nam> geschlossen"},
	{"mismatched prefix", `<f:Patient xmlns:f="http://hl7.org/fhir" xmlns:g="http://hl7.org/fhir"></g:Patient>`, "geschlossen"},
	{"mismatched narrative", `<Patient ` + fhirNS + `><text><div xmlns="http://www.w3.org/1999/xhtml"><p></b></div></text></Patient>`, "geschlossen"},
	{"unclosed", `<Patient ` + fhirNS + `><name>`, "nicht geschlossen"},
	{"unclosed narrative", `<Patient ` + fhirNS + `><text><div xmlns="http://www.w3.org/1999/xhtml"><p>`, "nicht geschlossen"},
	{"stray end tag", `<Patient ` + fhirNS + `/></Patient>`, "ohne Anfang"},
	{"two roots", `<Patient ` + fhirNS + `/><Patient ` + fhirNS + `/>`, "Wurzelelement"},
	{"no root", `<!-- nur ein Kommentar -->`, "ohne Wurzelelement"},
	{"only narrative", `<div xmlns="http://www.w3.org/1999/xhtml"/>`, "Wurzelelement"},
	{"foreign element", `<Patient ` + fhirNS + `><x xmlns="urn:x"/></Patient>`, "Element <x> nicht im FHIR-Namensraum"},
	{"unbound prefix", `<Patient ` + fhirNS + `><x:a/></Patient>`, "Element <a> nicht im FHIR-Namensraum"},
	{"xml prefix", `<Patient ` + fhirNS + ` xmlns:xml="http://hl7.org/fhir"><xml:a/></Patient>`, "nicht im FHIR-Namensraum"},
	{"element named xmlns", `<Patient ` + fhirNS + `><xmlns/></Patient>`, "nicht im FHIR-Namensraum"},
	{"undeclared default", `<Patient ` + fhirNS + `><a xmlns=""/></Patient>`, "nicht im FHIR-Namensraum"},
	{"prefix rebound", `<Patient ` + fhirNS + ` xmlns:f="http://hl7.org/fhir"><name xmlns:f="urn:x"><f:id/></name></Patient>`, "Element <id> nicht im FHIR-Namensraum"},
	{"namespace with reference", `<Patient xmlns="http://hl7.org/fhir&#13;"/>`, "nicht im FHIR-Namensraum"},
	{"scope ends", `<Patient ` + fhirNS + `><a xmlns:f="http://hl7.org/fhir"/><f:b/></Patient>`, "nicht im FHIR-Namensraum"},
	{"text", `<Patient ` + fhirNS + `>Hallo</Patient>`, "Text außerhalb"},
	{"text before root", `x<Patient ` + fhirNS + `/>`, "Text außerhalb"},
	{"text after root", `<Patient ` + fhirNS + `/>x`, "Text außerhalb"},
	{"referenced text", `<Patient ` + fhirNS + `>&amp;</Patient>`, "Text außerhalb"},
	{"CDATA text", `<Patient ` + fhirNS + `><![CDATA[x]]></Patient>`, "Text außerhalb"},
	{"CDATA end in text", `<Patient ` + fhirNS + `><text><div xmlns="http://www.w3.org/1999/xhtml">]]></div></text></Patient>`, "]]>"},
	{"unclosed CDATA", `<Patient ` + fhirNS + `><![CDATA[ `, "Ende"},
	{"double hyphen in comment", `<Patient ` + fhirNS + `><!-- a -- b --></Patient>`, "--"},
	{"comment ending in three hyphens", `<Patient ` + fhirNS + `><!-- a ---></Patient>`, "--"},
	{"unclosed comment", `<Patient ` + fhirNS + `><!-- `, "Ende"},
	{"bad bang", `<Patient ` + fhirNS + `><!-x--></Patient>`, "ungültiges XML"},
	{"XML 1.1", `<?xml version="1.1"?><Patient ` + fhirNS + `/>`, "XML 1.0"},
	{"Latin-1", `<?xml version="1.0" encoding="ISO-8859-1"?><Patient ` + fhirNS + `/>`, "UTF-8"},
	{"unclosed PI", `<?xml version="1.0"`, "Ende"},
	{"PI without target", `<? x?><Patient ` + fhirNS + `/>`, "Name erwartet"},
	{"space after <", `< Patient ` + fhirNS + `/>`, "Name erwartet"},
	{"name starts with digit", `<1Patient ` + fhirNS + `/>`, "ungültiger Name"},
	{"two colons", `<a:b:c ` + fhirNS + `/>`, "Doppelpunkten"},
	{"slash without >", `<Patient ` + fhirNS + `/ >`, "/ ohne >"},
	{"junk in end tag", `<Patient ` + fhirNS + `></Patient x>`, "Zeichen nach"},
	{"lone <", `<Patient ` + fhirNS + `/><`, "Ende"},
	{"deep", `<Bundle ` + fhirNS + `>` + strings.Repeat(`<a>`, MaxDepth) + strings.Repeat(`</a>`, MaxDepth) + `</Bundle>`, "mehr als 64 Ebenen"},
}

// stricterXML are documents that encoding/xml accepted and the scanner refuses, one per
// class that stricter names.
var stricterXML = []struct{ name, in, want string }{
	{"duplicate attribute", `<Patient ` + fhirNS + `><id value="x" value="y"/></Patient>`, reasonDuplicateAttr},
	{"duplicate attribute in narrative", `<Patient ` + fhirNS + `><text><div xmlns="http://www.w3.org/1999/xhtml"><p class="a" class="b"/></div></text></Patient>`, reasonDuplicateAttr},
	{"many attributes", `<Patient ` + fhirNS + ` a="" b="" c="" d="" e="" f="" g="" h="" i="" j="" a=""/>`, reasonDuplicateAttr},
	{"surrogate", `<Patient ` + fhirNS + `><id value="&#xD800;"/></Patient>`, reasonSurrogate},
	{"non-ASCII name", `<Patient ` + fhirNS + `><text><div xmlns="http://www.w3.org/1999/xhtml"><größe/></div></text></Patient>`, reasonNonASCIIName},
	{"invalid UTF-8 in comment", "<Patient " + fhirNS + "><!-- \xff --></Patient>", reasonUTF8},
	{"narrative after the root", `<Patient ` + fhirNS + `/><div xmlns="http://www.w3.org/1999/xhtml"/>`, reasonRoots},
	{"narrative before the root", `<div xmlns="http://www.w3.org/1999/xhtml"/><Patient ` + fhirNS + `/>`, reasonRoots},
}

func fixtureFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*", "*.xml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no fixtures under %s: %v", fixtureDir, err)
	}
	return files
}

func TestXMLDifferential(t *testing.T) {
	type doc struct {
		name string
		data []byte
	}
	var docs []doc
	for _, f := range fixtureFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc{filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f), bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))})
	}
	for i, s := range trickyXML {
		docs = append(docs, doc{"tricky " + strconv.Itoa(i), []byte(s)})
	}
	for _, d := range docs {
		want, err := parseXMLReference(d.data)
		if err != nil {
			t.Errorf("%s: encoding/xml: %v", d.name, err)
			continue
		}
		got, err := parseXML(d.data)
		if err != nil {
			t.Errorf("%s: %v", d.name, err)
			continue
		}
		if diff := cmp.Diff(dump(want), dump(got)); diff != "" {
			t.Errorf("%s: tree (-encoding/xml +scanner):\n%s", d.name, diff)
		}
	}
}

func TestXMLRejects(t *testing.T) {
	for _, tc := range rejectedXML {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseXMLReference([]byte(tc.in)); err == nil {
				t.Errorf("encoding/xml accepts it")
			}
			_, err := parseXML([]byte(tc.in))
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "XML ") {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestXMLStricter(t *testing.T) {
	for _, tc := range stricterXML {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseXMLReference([]byte(tc.in)); err != nil {
				t.Errorf("encoding/xml refuses it: %v", err)
			}
			_, err := parseXML([]byte(tc.in))
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if got := stricter([]byte(tc.in)); !strings.Contains(strings.Join(got, "|"), tc.want) {
				t.Errorf("stricter says %q", got)
			}
		})
	}
}

func TestXMLLines(t *testing.T) {
	in := "<Patient " + fhirNS + ">\n  <id value=\"1\"/>\r\n  <name>\n    <family value=\"&bad;\"/>\n  </name>\n</Patient>\n"
	_, err := parseXML([]byte(in))
	if err == nil || !strings.HasPrefix(err.Error(), "XML Zeile 4: ") {
		t.Fatalf("error %v, want it on line 4", err)
	}
	if strings.Contains(err.Error(), "bad") {
		t.Errorf("error %v quotes the document", err)
	}
	long := strings.Repeat("x", 100)
	_, err = parseXML([]byte("<Patient " + fhirNS + ">\n<" + long + " xmlns=\"urn:x\"/></Patient>"))
	if err == nil || !strings.HasPrefix(err.Error(), "XML Zeile 2: Element <"+long[:60]+"…> nicht im FHIR-Namensraum") {
		t.Errorf("error %v", err)
	}
}

func TestXMLMaxElements(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<Bundle ` + fhirNS + `>`)
	for range MaxElements - 1 {
		b.WriteString(`<a/>`)
	}
	ok := b.String() + `</Bundle>`
	if _, err := parseXML([]byte(ok)); err != nil {
		t.Errorf("%d elements: %v", MaxElements, err)
	}
	_, err := parseXML([]byte(b.String() + `<a/></Bundle>`))
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "mehr als 500000 Elemente") {
		t.Errorf("%d elements: %v", MaxElements+1, err)
	}
}

// The children of a node are cut from a shared chunk; appending to them must not
// overwrite the next node's.
func TestXMLChildrenSeparate(t *testing.T) {
	root, err := parseXML([]byte(`<Patient ` + fhirNS + `><a><x/></a><b><y/></b></Patient>`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := root.Child("a"), root.Child("b")
	a.Children = append(a.Children, &Node{Name: "z"})
	if b.Children[0].Name != "y" || root.Children[1] != b {
		t.Errorf("append to one node's children changed another's")
	}
}

// dump writes a tree one node a line, for comparing trees with cmp.Diff: on the trees
// themselves its diff takes time exponential in their depth.
func dump(n *Node) string {
	var b strings.Builder
	var walk func(n *Node, depth int)
	walk = func(n *Node, depth int) {
		fmt.Fprintf(&b, "%s%q value=%q url=%q", strings.Repeat(" ", depth), n.Name, n.Value, n.URL)
		if n.Children != nil && len(n.Children) == 0 {
			b.WriteString(" children=[]")
		}
		b.WriteByte('\n')
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

var charRef = regexp.MustCompile(`&#(x[0-9a-fA-F]+|[0-9]+);`)

// stricter returns the reasons for which parseXML refuses data that encoding/xml
// accepts, found in data with encoding/xml's own tokens (names as written, attributes
// as written), so that the fuzz test does not take the scanner's word for it.
func stricter(data []byte) []string {
	var out []string
	if !utf8.Valid(data) {
		out = append(out, reasonUTF8)
	}
	for _, m := range charRef.FindAllSubmatch(data, -1) {
		s, base := string(m[1]), 10
		if s[0] == 'x' {
			s, base = s[1:], 16
		}
		if n, err := strconv.ParseUint(s, base, 64); err == nil && 0xD800 <= n && n <= 0xDFFF {
			out = append(out, reasonSurrogate)
			break
		}
	}
	nonASCII := func(n xml.Name) bool {
		return !isASCII(n.Space) || !isASCII(n.Local)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	depth, roots := 0, 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			seen := map[xml.Name]bool{}
			for _, a := range t.Attr {
				if seen[a.Name] {
					out = append(out, reasonDuplicateAttr)
				}
				seen[a.Name] = true
				if nonASCII(a.Name) {
					out = append(out, reasonNonASCIIName)
				}
			}
			if nonASCII(t.Name) {
				out = append(out, reasonNonASCIIName)
			}
		case xml.EndElement:
			depth--
			if nonASCII(t.Name) {
				out = append(out, reasonNonASCIIName)
			}
		case xml.ProcInst:
			if !isASCII(t.Target) {
				out = append(out, reasonNonASCIIName)
			}
		}
	}
	if roots > 1 {
		out = append(out, reasonRoots)
	}
	return out
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FuzzXMLDifferential checks the scanner against encoding/xml: for any input both refuse
// it, or both build the same tree. The scanner may refuse more, for the reasons stricter
// finds in the input.
func FuzzXMLDifferential(f *testing.F) {
	for _, file := range fixtureFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range trickyXML {
		f.Add([]byte(s))
	}
	for _, tc := range rejectedXML {
		f.Add([]byte(tc.in))
	}
	for _, tc := range stricterXML {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstReference(t, data)
	})
}

// TestXMLGeneratedDifferential compares the two readers on random documents built from
// the pieces that matter: namespace declarations and prefixes, narrative, references,
// line ends, comments, CDATA and processing instructions in between.
func TestXMLGeneratedDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		var b strings.Builder
		b.WriteString(pick(r, "", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", "<!-- x -->"))
		b.WriteString(`<Bundle ` + fhirNS + `>`)
		for range r.IntN(4) {
			randomElement(r, &b, 0)
		}
		b.WriteString(`</Bundle>`)
		checkAgainstReference(t, []byte(b.String()))
	}
}

func randomElement(r *rand.Rand, b *strings.Builder, depth int) {
	name := pick(r, "a", "f:a", "h:p", "div", "b", "x:c", "id", "value", ":z", "q:")
	b.WriteString("<" + name)
	for range r.IntN(4) {
		b.WriteString(pick(r, " ", "\n", "\t", "\r\n"))
		b.WriteString(pick(r, `xmlns="http://hl7.org/fhir"`, `xmlns:f="http://hl7.org/fhir"`, `xmlns="http://www.w3.org/1999/xhtml"`,
			`xmlns:h="http://www.w3.org/1999/xhtml"`, `xmlns:f="urn:x"`, `xmlns=""`, `value="x&amp;y"`, `value='q"'`, `url="u&#10;"`,
			"value=\"a\r\n\tb\r\"", `f:value="z"`, `id="i"`, `xmlns:x="http://hl7.org/&#102;hir"`, `value="&#x1F600;&#160;"`, `url = 'v'`,
			`xmlns:h="http://hl7.org/fhir"`, `value="&#xD800;"`, `value="x" value="y"`))
	}
	if r.IntN(3) == 0 || depth > 5 {
		b.WriteString(pick(r, "/>", " />"))
		return
	}
	b.WriteString(">")
	for range r.IntN(4) {
		switch r.IntN(8) {
		case 0:
			b.WriteString(pick(r, " ", "\n  ", "\r\n", "&#32;", "\u00a0", "x", "&amp;", "&#x85;", "]]>", "&nbsp;"))
		case 1:
			b.WriteString(pick(r, "<!-- c -->", "<?p x?>", "<![CDATA[ ]]>", "<![CDATA[<x>]]>", "<?xml version='1.0'?>", "<!---->"))
		default:
			randomElement(r, b, depth+1)
		}
	}
	b.WriteString("</" + name + pick(r, ">", " >", ">", ">"))
}

func pick(r *rand.Rand, s ...string) string { return s[r.IntN(len(s))] }

// checkAgainstReference fails unless parseXML and parseXMLReference both refuse data or
// build the same tree from it, or parseXML refuses it for a reason stricter finds in it.
func checkAgainstReference(t testing.TB, data []byte) {
	t.Helper()
	want, wantErr := parseXMLReference(data)
	got, err := parseXML(data)
	if err != nil && !errs.Is(err, errs.Invalid) {
		t.Fatalf("%q: error of kind %v: %v", data, errs.KindOf(err), err)
	}
	switch {
	case wantErr != nil && err != nil:
		return
	case wantErr != nil:
		t.Fatalf("%q: accepted what encoding/xml refuses (%v)", data, wantErr)
	case err != nil:
		for _, reason := range stricter(data) {
			if strings.Contains(err.Error(), reason) {
				return
			}
		}
		t.Fatalf("%q: refused what encoding/xml accepts: %v", data, err)
	}
	if diff := cmp.Diff(dump(want), dump(got)); diff != "" {
		t.Fatalf("%q: tree (-encoding/xml +scanner):\n%s", data, diff)
	}
}

func benchmarkXML(b *testing.B, parse func([]byte) (*Node, error)) {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "kbv-1.4_dav-2026-07-01", "PZN_Nr1_VerordnungArzt.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseXML(b *testing.B) { benchmarkXML(b, parseXML) }

// BenchmarkParseXMLReference is the encoding/xml reader that parseXML replaced.
func BenchmarkParseXMLReference(b *testing.B) { benchmarkXML(b, parseXMLReference) }
