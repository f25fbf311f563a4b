// Package fhirtest writes FHIR trees back as FHIR JSON, so that tests can read every XML
// example in its JSON form too.
package fhirtest

import (
	"encoding/json"
	"testing"

	"github.com/tresen/tresen/internal/fhir"
)

// JSON writes a tree as FHIR JSON: resources with resourceType, extension URLs as
// members, a primitive's extensions in "_name".
func JSON(t testing.TB, n *fhir.Node) []byte {
	t.Helper()
	b, err := json.Marshal(object(n, true))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func object(n *fhir.Node, resource bool) map[string]any {
	m := map[string]any{}
	if resource {
		m["resourceType"] = n.Name
	}
	if n.URL != "" {
		m["url"] = n.URL
	}
	var names []string
	groups := map[string][]*fhir.Node{}
	for _, c := range n.Children {
		if groups[c.Name] == nil {
			names = append(names, c.Name)
		}
		groups[c.Name] = append(groups[c.Name], c)
	}
	for _, name := range names {
		var vals, unders []any
		hasUnder := false
		for _, c := range groups[name] {
			switch {
			case (c.Name == "resource" || c.Name == "contained") && len(c.Children) == 1:
				vals = append(vals, object(c.Children[0], true))
				unders = append(unders, nil)
			case c.Value != "":
				vals = append(vals, c.Value)
				if len(c.Children) > 0 {
					unders = append(unders, object(&fhir.Node{Children: c.Children}, false))
					hasUnder = true
				} else {
					unders = append(unders, nil)
				}
			default:
				vals = append(vals, object(c, false))
				unders = append(unders, nil)
			}
		}
		if len(vals) == 1 {
			m[name] = vals[0]
			if hasUnder {
				m["_"+name] = unders[0]
			}
			continue
		}
		m[name] = vals
		if hasUnder {
			m["_"+name] = unders
		}
	}
	return m
}
