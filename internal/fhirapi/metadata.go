package fhirapi

import "net/http"

// handleMetadata serves the CapabilityStatement; it needs no token, as FHIR clients read
// it before they authenticate.
func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	type param struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	type interaction struct {
		Code string `json:"code"`
	}
	type resource struct {
		Type        string        `json:"type"`
		Profile     string        `json:"profile,omitempty"`
		Interaction []interaction `json:"interaction"`
		SearchParam []param       `json:"searchParam,omitempty"`
	}
	ia := func(codes ...string) []interaction {
		out := make([]interaction, len(codes))
		for i, c := range codes {
			out[i] = interaction{c}
		}
		return out
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         "2026-11-30",
		"publisher":    "Tresen",
		"kind":         "instance",
		"fhirVersion":  "4.0.1",
		"format":       []string{"application/fhir+json"},
		"implementation": map[string]string{
			"description": "Praxiskalender der Rezeption (ISiK Terminplanung)",
			"url":         base(r),
		},
		"rest": []map[string]any{{
			"mode": "server",
			"security": map[string]any{
				"description": "Bearer-Token je Praxis mit SMART-Berechtigungen system/<Typ>.read|write",
			},
			"resource": []resource{
				{Type: "Schedule", Profile: profSchedule, Interaction: ia("read", "search-type")},
				{Type: "HealthcareService", Profile: profService, Interaction: ia("read", "search-type")},
				{Type: "Slot", Profile: profSlot, Interaction: ia("search-type"), SearchParam: []param{
					{"schedule", "reference"}, {"start", "date"}, {"status", "token"}, {"service-type", "token"}, {"_count", "number"}}},
				{Type: "Appointment", Profile: profAppt, Interaction: ia("read", "search-type", "create", "update"), SearchParam: []param{
					{"date", "date"}, {"actor", "reference"}, {"status", "token"}}},
				{Type: "Patient", Interaction: ia("read", "search-type"), SearchParam: []param{
					{"name", "string"}, {"given", "string"}, {"family", "string"}, {"birthdate", "date"}, {"identifier", "token"}}},
			},
		}},
	}
	writeJSON(w, http.StatusOK, cs)
}
