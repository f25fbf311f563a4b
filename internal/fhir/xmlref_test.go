package fhir

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/tresen/tresen/internal/errs"
)

// parseXMLReference is the encoding/xml reader that parseXML replaced, kept as the
// reference the scanner is checked against (TestXMLDifferential, FuzzXMLDifferential).
func parseXMLReference(data []byte) (*Node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	// No entity beyond XML's five predefined ones is known, and DTDs are refused below,
	// so neither external entities nor entity expansion can happen.
	d.Entity = nil
	var stack []*Node
	var root *Node
	skip := 0 // depth inside narrative XHTML, which carries no data
	var count counter
	fail := func(format string, args ...any) error {
		line, _ := d.InputPos()
		return errs.E(errs.Invalid, "XML Zeile %d: %s", line, fmt.Sprintf(format, args...))
	}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fail("%s", xmlReasonReference(err))
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, fail("DOCTYPE und Entitäten sind nicht erlaubt")
		case xml.StartElement:
			if skip > 0 || t.Name.Space == nsXHTML {
				skip++
				continue
			}
			if t.Name.Space != nsFHIR {
				return nil, fail("Element <%s> nicht im FHIR-Namensraum %s", clip(t.Name.Local), nsFHIR)
			}
			if len(stack) >= MaxDepth {
				return nil, fail("mehr als %d Ebenen verschachtelt", MaxDepth)
			}
			if err := count.add(); err != nil {
				return nil, fail("%v", err)
			}
			n := &Node{Name: t.Name.Local}
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "value":
					n.Value = a.Value
				case "url":
					n.URL = a.Value
				}
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fail("mehr als ein Wurzelelement")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if skip == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, fail("Text außerhalb eines value-Attributs")
			}
		}
	}
	if root == nil {
		return nil, errs.E(errs.Invalid, "XML ohne Wurzelelement")
	}
	return root, nil
}

// xmlReasonReference words a decoder error without the input that caused it.
func xmlReasonReference(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return "ungültiges XML (" + clip(se.Msg) + ")"
	}
	return "ungültiges XML"
}
