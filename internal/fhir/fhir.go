// Package fhir reads HL7 FHIR R4 resources, in XML or JSON, into one generic tree that
// the E-Rezept readers query by element name, whichever format the file came in. It knows
// FHIR's shape (primitive values, extensions, contained resources, bundles and their
// references), not any profile. Input from outside is bounded: size, depth and element
// count are limited, and XML documents with a DTD (entity tricks) are refused.
package fhir

import (
	"strings"
)

// Node is one FHIR element. A primitive has a Value (the XML value attribute, the JSON
// string, number or boolean as written); an extension has its URL; a resource is a Node
// named after its type ("Patient") inside the element that holds it ("resource",
// "contained").
type Node struct {
	Name     string
	Value    string
	URL      string // extension url
	Children []*Node
}

// Child returns the first child named name, or nil. A nil Node has no children, so that
// paths can be followed without checks.
func (n *Node) Child(name string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// All returns the children named name.
func (n *Node) All(name string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, c := range n.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Get follows a path of child names, taking the first match at each step.
func (n *Node) Get(path ...string) *Node {
	for _, p := range path {
		n = n.Child(p)
	}
	return n
}

// Str returns the value at path, or "".
func (n *Node) Str(path ...string) string {
	if m := n.Get(path...); m != nil {
		return m.Value
	}
	return ""
}

// Ext returns the first extension of n with the given URL, or nil.
func (n *Node) Ext(url string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name == "extension" && c.URL == url {
			return c
		}
	}
	return nil
}

// Exts returns the extensions of n with the given URL.
func (n *Node) Exts(url string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, c := range n.Children {
		if c.Name == "extension" && c.URL == url {
			out = append(out, c)
		}
	}
	return out
}

// ExtValue returns the value of an extension's value[x] element ("valueBoolean",
// "valueString", "valueCode" …), or "" when it has none or is no primitive. For a coding
// value it returns the code.
func (n *Node) ExtValue() string {
	if n == nil {
		return ""
	}
	for _, c := range n.Children {
		if !strings.HasPrefix(c.Name, "value") {
			continue
		}
		switch c.Name {
		case "valueCoding":
			return c.Str("code")
		case "valueCodeableConcept":
			return c.Str("coding", "code")
		case "valueIdentifier":
			return c.Str("value")
		case "valueMoney", "valueQuantity":
			return c.Str("value")
		case "valueReference":
			return c.Str("reference")
		}
		return c.Value
	}
	return ""
}

// Code returns the code of the first coding of a CodeableConcept node whose system is
// system ("" for any system).
func (n *Node) Code(system string) string {
	for _, c := range n.All("coding") {
		if system == "" || c.Str("system") == system {
			return c.Str("code")
		}
	}
	return ""
}

// Identifier returns the value of the first identifier of n with the given system.
func (n *Node) Identifier(system string) string {
	for _, id := range n.All("identifier") {
		if id.Str("system") == system {
			return id.Str("value")
		}
	}
	return ""
}

// Profile returns a resource's first profile, split into its URL and version
// ("https://fhir.kbv.de/StructureDefinition/KBV_PR_ERP_Bundle", "1.4").
func (n *Node) Profile() (url, version string) {
	p := n.Str("meta", "profile")
	url, version, _ = strings.Cut(p, "|")
	return url, version
}

// Resource returns the resource held by an element such as "resource" or "contained".
func (n *Node) Resource() *Node {
	if n == nil || len(n.Children) != 1 {
		return nil
	}
	return n.Children[0]
}
