package fhir

import (
	"strings"

	"github.com/tresen/tresen/internal/errs"
)

// Bundle is a FHIR Bundle with its entries, for resolving references between them.
type Bundle struct {
	Root    *Node
	entries []entry
}

type entry struct {
	fullURL string
	res     *Node
}

// NewBundle indexes the entries of a Bundle node.
func NewBundle(root *Node) (*Bundle, error) {
	if root == nil || root.Name != "Bundle" {
		return nil, errs.E(errs.Invalid, "kein FHIR-Bundle")
	}
	b := &Bundle{Root: root}
	for _, e := range root.All("entry") {
		if r := e.Child("resource").Resource(); r != nil {
			b.entries = append(b.entries, entry{fullURL: e.Str("fullUrl"), res: r})
		}
	}
	return b, nil
}

// OfType returns the bundle's resources of a type ("MedicationRequest"), in order.
func (b *Bundle) OfType(name string) []*Node {
	var out []*Node
	for _, e := range b.entries {
		if e.res.Name == name {
			out = append(out, e.res)
		}
	}
	return out
}

// First returns the first resource of a type, or nil.
func (b *Bundle) First(name string) *Node {
	for _, e := range b.entries {
		if e.res.Name == name {
			return e.res
		}
	}
	return nil
}

// Resolve finds the resource a reference points to: an entry's full URL
// ("urn:uuid:…", "http://…/Patient/1"), or a relative "Type/id".
func (b *Bundle) Resolve(ref string) *Node {
	if ref == "" {
		return nil
	}
	for _, e := range b.entries {
		if e.fullURL == ref {
			return e.res
		}
	}
	typ, id, ok := strings.Cut(ref, "/")
	if !ok || strings.Contains(id, "/") {
		return nil
	}
	for _, e := range b.entries {
		if e.res.Name == typ && e.res.Str("id") == id {
			return e.res
		}
	}
	return nil
}

// Ref resolves the reference held by node n (an element with a "reference" child).
func (b *Bundle) Ref(n *Node) *Node { return b.Resolve(n.Str("reference")) }
