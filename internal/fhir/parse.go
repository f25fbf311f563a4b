package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tresen/tresen/internal/errs"
)

// Bounds of what Parse reads. An E-Rezept bundle has about 400 elements and 20 levels; a
// billing bundle a few thousand.
const (
	MaxSize     = 16 << 20
	MaxDepth    = 64
	MaxElements = 500_000
)

const (
	nsFHIR  = "http://hl7.org/fhir"
	nsXHTML = "http://www.w3.org/1999/xhtml"
)

// Parse reads one FHIR resource in XML or JSON, told apart by the first character. Errors
// are of kind errs.Invalid and say what is wrong and where (line or byte offset).
func Parse(data []byte) (*Node, error) {
	if len(data) > MaxSize {
		return nil, errs.E(errs.Invalid, "Datei zu groß (%d MiB, höchstens %d MiB)", len(data)>>20, MaxSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, errs.E(errs.Invalid, "Datei ist leer")
	case trimmed[0] == '<':
		return parseXML(data)
	case trimmed[0] == '{':
		return parseJSON(data)
	}
	return nil, errs.E(errs.Invalid, "weder FHIR-XML noch FHIR-JSON")
}

type counter struct{ n int }

func (c *counter) add() error {
	c.n++
	if c.n > MaxElements {
		return fmt.Errorf("mehr als %d Elemente", MaxElements)
	}
	return nil
}

func parseJSON(data []byte) (*Node, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	p := &jsonParser{d: d}
	tok, err := d.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, p.fail("kein JSON-Objekt")
	}
	root := &Node{}
	if err := p.object(root, 1); err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, p.fail("Daten nach dem Ende des Objekts")
	}
	return unwrapResource(root, p)
}

type jsonParser struct {
	d     *json.Decoder
	count counter
}

func (p *jsonParser) fail(format string, args ...any) error {
	return errs.E(errs.Invalid, "JSON Byte %d: %s", p.d.InputOffset(), fmt.Sprintf(format, args...))
}

// object reads the members of an object into n, after its '{'. FHIR JSON writes a
// primitive's extensions in a sibling "_name"; they are merged into the element.
func (p *jsonParser) object(n *Node, depth int) error {
	if depth > MaxDepth {
		return p.fail("mehr als %d Ebenen verschachtelt", MaxDepth)
	}
	var under []*Node // "_name" members, merged at the end
	for p.d.More() {
		tok, err := p.d.Token()
		if err != nil {
			return p.fail("ungültiges JSON")
		}
		key, ok := tok.(string)
		if !ok {
			return p.fail("ungültiges JSON")
		}
		switch key {
		case "resourceType":
			tok, err := p.d.Token()
			s, ok := tok.(string)
			if err != nil || !ok {
				return p.fail("resourceType ist kein Text")
			}
			n.Children = append(n.Children, &Node{Name: "resourceType", Value: s})
			continue
		case "url":
			if n.Name == "extension" || n.Name == "modifierExtension" {
				tok, err := p.d.Token()
				s, ok := tok.(string)
				if err != nil || !ok {
					return p.fail("url einer Extension ist kein Text")
				}
				n.URL = s
				continue
			}
		}
		name := strings.TrimPrefix(key, "_")
		if name == "" {
			return p.fail("leerer Name")
		}
		kids, err := p.value(name, depth)
		if err != nil {
			return err
		}
		if key[0] == '_' {
			under = append(under, kids...)
			continue
		}
		n.Children = append(n.Children, kids...)
	}
	if _, err := p.d.Token(); err != nil { // '}'
		return p.fail("ungültiges JSON")
	}
	// The k-th "_name" entry belongs to the k-th "name" element (arrays align, a null
	// stands for an element without extensions).
	seen := map[string]int{}
	for _, u := range under {
		k := seen[u.Name]
		seen[u.Name]++
		merged := false
		for _, c := range n.Children {
			if c.Name != u.Name {
				continue
			}
			if k > 0 {
				k--
				continue
			}
			if len(c.Children) == 0 {
				c.Children = u.Children
				merged = true
			}
			break
		}
		if !merged && len(u.Children) > 0 {
			n.Children = append(n.Children, u)
		}
	}
	for i, c := range n.Children {
		if w, err := unwrapResource(c, p); err != nil {
			return err
		} else if w != c {
			n.Children[i] = &Node{Name: c.Name, Children: []*Node{w}}
		}
	}
	return nil
}

// value reads one member value as nodes named name: one for a primitive or object, one
// per element for an array.
func (p *jsonParser) value(name string, depth int) ([]*Node, error) {
	tok, err := p.d.Token()
	if err != nil {
		return nil, p.fail("ungültiges JSON")
	}
	if err := p.count.add(); err != nil {
		return nil, p.fail("%v", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &Node{Name: name}
			return []*Node{n}, p.object(n, depth+1)
		case '[':
			var out []*Node
			for p.d.More() {
				kids, err := p.value(name, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, kids...)
			}
			if _, err := p.d.Token(); err != nil {
				return nil, p.fail("ungültiges JSON")
			}
			return out, nil
		}
		return nil, p.fail("ungültiges JSON")
	case string:
		return []*Node{{Name: name, Value: t}}, nil
	case json.Number:
		return []*Node{{Name: name, Value: t.String()}}, nil
	case bool:
		if t {
			return []*Node{{Name: name, Value: "true"}}, nil
		}
		return []*Node{{Name: name, Value: "false"}}, nil
	case nil:
		return []*Node{{Name: name}}, nil // a null in an array of primitives keeps the positions
	}
	return nil, p.fail("ungültiges JSON")
}

// unwrapResource turns an object with a resourceType into a node named after its type,
// as XML writes it.
func unwrapResource(n *Node, p *jsonParser) (*Node, error) {
	for i, c := range n.Children {
		if c.Name != "resourceType" {
			continue
		}
		if c.Value == "" || strings.ContainsAny(c.Value, " <>/") {
			return nil, p.fail("ungültiger resourceType")
		}
		r := &Node{Name: c.Value}
		r.Children = append(append([]*Node{}, n.Children[:i]...), n.Children[i+1:]...)
		return r, nil
	}
	return n, nil
}
