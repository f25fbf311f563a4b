// Package fhirclient books into a practice's own calendar system through HL7 FHIR R4
// (ISiK Terminplanung), so that a PVS that speaks FHIR stays the calendar of record: it
// implements dialogue.Slots by searching free Slots and creating Appointments there.
package fhirclient

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/endpoint"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhir"
	"github.com/tresen/tresen/internal/matching"
	"github.com/tresen/tresen/internal/request"
)

// Client talks to one practice's FHIR server.
type Client struct {
	Base  string // e.g. https://pvs.praxis.example/fhir/
	Token string // bearer token
	// ServiceType is the appointment type (HealthcareService code) the assistant books.
	ServiceType string
	// Schedules maps doctors' surnames to their Schedule ids, for "bei Schneider".
	Schedules map[string]string
	HTTP      *http.Client
	Days      int // how far ahead to look; 0: 30
}

var _ dialogue.Slots = (*Client)(nil)

const maxResponse = 4 << 20

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// do sends a request and parses the FHIR answer; an OperationOutcome becomes an error of
// the kind its status says, with its diagnostics.
func (c *Client) do(ctx context.Context, method, path string, body any) (*fhir.Node, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Base, "/")+"/"+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		// The cause is not kept: its URL may hold a search for personal data
		// (Patient?birthdate=…).
		return nil, errs.E(errs.Internal, "%s", transportFailure(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, errs.E(errs.Internal, "Die Antwort des FHIR-Servers ist nicht lesbar.")
	}
	n, perr := fhir.Parse(data)
	if resp.StatusCode >= 300 {
		var diag string
		if perr == nil && n.Name == "OperationOutcome" {
			diag = c.diagnostics(n.Str("issue", "diagnostics"))
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			// Which permission is missing is what the server says, if anything.
			msg := "Der FHIR-Server hat den Zugriffsschlüssel abgelehnt."
			if diag != "" {
				msg += " Seine Begründung: „" + diag + "“"
			}
			return nil, errs.E(errs.Forbidden, "%s", msg)
		}
		msg := fmt.Sprintf("FHIR-Server: Status %d", resp.StatusCode)
		if diag != "" {
			msg = diag
		}
		kind := errs.Internal
		switch resp.StatusCode {
		case http.StatusConflict, http.StatusPreconditionFailed:
			kind = errs.Conflict
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			kind = errs.Invalid
		case http.StatusNotFound, http.StatusGone:
			kind = errs.NotFound
		}
		return nil, errs.E(kind, "%s", msg)
	}
	if perr != nil {
		return nil, &errs.Error{Kind: errs.Internal, Message: "Die Antwort des FHIR-Servers ist kein FHIR.", Err: errNotFHIR}
	}
	return n, nil
}

// errNotFHIR marks an answer that is no FHIR resource, for Check to tell a wrong address
// from a failing server.
var errNotFHIR = errors.New("answer is no FHIR resource")

// maxDiagnostics bounds the server's own words in an error: they are shown to the owner.
const maxDiagnostics = 300

// diagnostics is an OperationOutcome's text as far as it may go into an error: one line,
// bounded, and without the token in case the server echoed it.
func (c *Client) diagnostics(d string) string {
	if c.Token != "" {
		d = strings.ReplaceAll(d, c.Token, "…")
	}
	d = strings.Join(strings.FieldsFunc(d, func(r rune) bool { return r < ' ' || r == 0x7f }), " ")
	if utf8.RuneCountInString(d) > maxDiagnostics {
		d = string([]rune(d)[:maxDiagnostics]) + "…"
	}
	return strings.TrimSpace(d)
}

// transportFailure says in German why a request got no answer.
func transportFailure(err error) string {
	var cert *tls.CertificateVerificationError
	var uerr *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &uerr) && uerr.Timeout():
		return "Der FHIR-Server hat nicht rechtzeitig geantwortet."
	case errors.As(err, &cert):
		return "Das Zertifikat des FHIR-Servers ist nicht gültig."
	}
	return "Der FHIR-Server ist nicht erreichbar."
}

// Find searches the server's free Slots for the request's wishes.
func (c *Client) Find(ctx context.Context, r request.Request, now time.Time) ([]dialogue.Offer, error) {
	days := c.Days
	if days <= 0 {
		days = 30
	}
	from, to := now, now.AddDate(0, 0, days)
	if r.Details.Date != "" {
		if d, err := time.ParseInLocation(time.DateOnly, r.Details.Date, berlin.Location); err == nil && d.After(now) {
			from, to = d, d.AddDate(0, 0, 1)
		}
	}
	q := url.Values{"status": {"free"}, "_count": {"50"},
		"start": {"ge" + from.UTC().Format(time.RFC3339), "lt" + to.UTC().Format(time.RFC3339)}}
	if c.ServiceType != "" {
		q.Set("service-type", c.ServiceType)
	}
	if id, ok := c.Schedules[r.Details.Doctor]; ok && r.Details.Doctor != "" {
		q.Set("schedule", "Schedule/"+id)
	}
	b, err := c.do(ctx, http.MethodGet, "Slot?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	doctors := map[string]string{}
	for name, id := range c.Schedules {
		doctors[id] = name
	}
	var offers []dialogue.Offer
	for _, e := range b.All("entry") {
		s := e.Child("resource").Resource()
		if s == nil || s.Name != "Slot" || s.Str("status") != "free" {
			continue
		}
		start, err := time.Parse(time.RFC3339, s.Str("start"))
		if err != nil {
			continue
		}
		local := start.In(berlin.Location)
		if r.Details.Daypart != "" && r.Details.Daypart != "any" && daypart(local) != r.Details.Daypart {
			continue
		}
		offers = append(offers, dialogue.Offer{ID: s.Str("id"), Start: start,
			Doctor: doctors[strings.TrimPrefix(s.Str("schedule", "reference"), "Schedule/")]})
	}
	if r.Details.Time != "" {
		wish, _ := time.Parse("15:04", r.Details.Time)
		sortByDistance(offers, wish.Hour()*60+wish.Minute())
	}
	if len(offers) > 3 {
		offers = offers[:3]
	}
	return offers, nil
}

func daypart(t time.Time) string {
	switch h := t.Hour(); {
	case h < 12:
		return "morning"
	case h < 17:
		return "afternoon"
	}
	return "evening"
}

func sortByDistance(offers []dialogue.Offer, wish int) {
	dist := func(o dialogue.Offer) int {
		t := o.Start.In(berlin.Location)
		d := t.Hour()*60 + t.Minute() - wish
		if d < 0 {
			d = -d
		}
		return d
	}
	slices.SortStableFunc(offers, func(a, b dialogue.Offer) int { return cmp.Compare(dist(a), dist(b)) })
}

// Book creates an Appointment for the chosen Slot with the patient as a contained
// Patient and returns the id the PVS gave it ("" when its answer names none). A slot taken
// meanwhile comes back as errs.Conflict.
func (c *Client) Book(ctx context.Context, r request.Request, o dialogue.Offer) (string, error) {
	patient := map[string]any{"resourceType": "Patient", "id": "p", "name": []map[string]string{{"text": r.Patient.Name}}}
	if r.Patient.BirthDate != "" {
		patient["birthDate"] = r.Patient.BirthDate
	}
	if r.Patient.KVNR != "" {
		patient["identifier"] = []map[string]string{{"system": "http://fhir.de/sid/gkv/kvid-10", "value": r.Patient.KVNR}}
	}
	if r.Patient.Phone != "" {
		patient["telecom"] = []map[string]string{{"system": "phone", "value": r.Patient.Phone}}
	}
	appt := map[string]any{
		"resourceType": "Appointment",
		"status":       "booked",
		"slot":         []map[string]string{{"reference": "Slot/" + o.ID}},
		"contained":    []any{patient},
		"participant":  []map[string]any{{"actor": map[string]string{"reference": "#p"}, "status": "accepted"}},
	}
	if r.Details.Reason != "" {
		appt["comment"] = r.Details.Reason
	}
	created, err := c.do(ctx, http.MethodPost, "Appointment", appt)
	if err != nil || created == nil {
		return "", err
	}
	return created.Str("id"), nil
}

// BornOn returns the PVS's patients born on a day as candidates for matching. They are
// used for the match only and never stored: the PVS stays the keeper of its patients.
func (c *Client) BornOn(ctx context.Context, birthDate string) ([]matching.Candidate, error) {
	b, err := c.do(ctx, http.MethodGet, "Patient?"+url.Values{"birthdate": {birthDate}}.Encode(), nil)
	if err != nil {
		return nil, err
	}
	var out []matching.Candidate
	for _, e := range b.All("entry") {
		p := e.Child("resource").Resource()
		if p == nil || p.Name != "Patient" {
			continue
		}
		name := p.Str("name", "text")
		if name == "" {
			var parts []string
			for _, g := range p.Get("name").All("given") {
				parts = append(parts, g.Value)
			}
			name = strings.TrimSpace(strings.Join(append(parts, p.Str("name", "family")), " "))
		}
		cand := matching.Candidate{ID: p.Str("id"), Name: name, BirthDate: p.Str("birthDate"), KVNR: p.Identifier("http://fhir.de/sid/gkv/kvid-10")}
		for _, t := range p.All("telecom") {
			if t.Str("system") == "phone" {
				cand.Phone = t.Str("value")
			}
		}
		out = append(out, cand)
	}
	return out, nil
}

// Settings connect a practice to its PVS: where its FHIR API is, the token, the
// appointment type the assistant books and the doctors' Schedule ids.
type Settings struct {
	Base        string            `json:"base"`
	Token       string            `json:"token,omitempty"`
	ServiceType string            `json:"service_type,omitempty"`
	Schedules   map[string]string `json:"schedules,omitempty"` // surname → Schedule id
}

// Validate allows https anywhere and plain http only on this host: patient data never
// cross a network unencrypted.
func (s Settings) Validate() error {
	_, err := endpoint.Parse(s.Base, endpoint.Rule{Field: "base", Service: "der FHIR-Schnittstelle",
		Example: "https://pvs.praxis.example/fhir/", Secure: []string{"https"}, Plain: []string{"http"}})
	return err
}

// New returns the client of a practice's settings.
func New(s Settings) *Client {
	return &Client{Base: s.Base, Token: s.Token, ServiceType: s.ServiceType, Schedules: s.Schedules}
}
