package fhirclient

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/tresen/tresen/internal/errs"
)

// Status is what Check found.
type Status struct {
	Version   string // the fhirVersion the server's CapabilityStatement states, e.g. "4.0.1"
	Schedules int    // doctors with a Schedule id in the settings
	Found     int    // of them, those whose Schedule the server has
}

// Check tests the connection before the assistant relies on it: the server must describe
// itself as FHIR R4 (a CapabilityStatement at metadata), accept the token for a search of
// free Slots, which every booking starts with, and have each configured Schedule. A wrong
// token comes back as errs.Forbidden, Schedule ids the server lacks as errs.NotFound
// naming them. The errors' messages are German and meant for the practice's owner,
// Internal ones included (the server is down or failing: its fault, not Tresen's); they
// hold no personal data and never the token. The Status is filled as far as the check got.
func (c *Client) Check(ctx context.Context) (Status, error) {
	st := Status{Schedules: len(c.Schedules)}
	md, err := c.do(ctx, http.MethodGet, "metadata", nil)
	switch {
	case errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) || errors.Is(err, errNotFHIR) ||
		err == nil && md.Name != "CapabilityStatement":
		return st, errs.E(errs.Invalid, "Unter dieser Adresse antwortet kein FHIR-Server: Sie liefert unter „metadata“ keine Beschreibung der Schnittstelle (CapabilityStatement). Bitte die Adresse prüfen.")
	case err != nil:
		return st, during(err, "Abruf der Beschreibung der Schnittstelle, metadata")
	}
	switch v := md.Str("fhirVersion"); {
	case v == "":
		return st, errs.E(errs.Invalid, "Der FHIR-Server nennt keine FHIR-Version; Tresen braucht FHIR R4 (Version 4.0.x).")
	case !versionPattern.MatchString(v):
		return st, errs.E(errs.Invalid, "Der FHIR-Server nennt eine unbekannte FHIR-Version; Tresen braucht FHIR R4 (Version 4.0.x).")
	case !strings.HasPrefix(v, "4.0."):
		return st, errs.E(errs.Invalid, "Der FHIR-Server spricht %s; Tresen braucht FHIR R4 (Version 4.0.x).", release(v))
	default:
		st.Version = v
	}

	q := url.Values{"status": {"free"}, "_count": {"1"}}
	if c.ServiceType != "" {
		q.Set("service-type", c.ServiceType)
	}
	b, err := c.do(ctx, http.MethodGet, "Slot?"+q.Encode(), nil)
	switch {
	case err != nil:
		return st, during(err, "Suche nach freien Terminen, Slot")
	case b.Name != "Bundle":
		return st, errs.E(errs.Internal, "Die Suche nach freien Terminen (Slot) liefert keine Trefferliste (Bundle).")
	}

	// Each Schedule once, though two doctors might share one.
	have := map[string]bool{}
	var missing []string
	for _, id := range slices.Compact(slices.Sorted(maps.Values(c.Schedules))) {
		s, err := c.do(ctx, http.MethodGet, "Schedule/"+url.PathEscape(id), nil)
		switch {
		case errs.Is(err, errs.NotFound) || err == nil && s.Name != "Schedule":
			missing = append(missing, "„"+id+"“")
		case err != nil:
			return st, during(err, "Lesen des Kalenders „"+id+"“, Schedule")
		default:
			have[id] = true
		}
	}
	for _, id := range c.Schedules {
		if have[id] {
			st.Found++
		}
	}
	switch len(missing) {
	case 0:
		return st, nil
	case 1:
		return st, errs.E(errs.NotFound, "Den Kalender (Schedule) %s gibt es im PVS nicht. Bitte die Schedule-ID prüfen.", missing[0])
	}
	return st, errs.E(errs.NotFound, "Die Kalender (Schedule) %s gibt es im PVS nicht. Bitte die Schedule-IDs prüfen.", strings.Join(missing, ", "))
}

// during says at which step of the check err happened, keeping its kind; an error
// without one stays as it is, for its details must not reach the owner.
func during(err error, step string) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	return &errs.Error{Kind: e.Kind, Message: strings.TrimSuffix(e.Message, ".") + " (" + step + ")."}
}

// versionPattern is a FHIR version as a CapabilityStatement states it ("4.0.1",
// "5.0.0-ballot"); what else a server writes there is not repeated to the owner.
var versionPattern = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}(-[a-z0-9]{1,20})?$`)

// release names a FHIR version other than R4 with its release, where it has a known one.
func release(v string) string {
	for _, r := range []struct{ prefix, name string }{{"6.", "R6"}, {"5.", "R5"}, {"4.3.", "R4B"}, {"3.0.", "STU3"}, {"1.0.", "DSTU2"}} {
		if strings.HasPrefix(v, r.prefix) {
			return "FHIR " + r.name + " (Version " + v + ")"
		}
	}
	return "FHIR in Version " + v
}
