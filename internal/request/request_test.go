package request

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
)

var monday = func() time.Time {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return time.Date(2026, 11, 23, 9, 0, 0, 0, loc)
}()

var anna = Patient{Name: "Anna Müller", BirthDate: "1984-03-12", Insurance: "gkv", Phone: "+491711234567"}

func TestSummary(t *testing.T) {
	tests := []struct {
		name string
		r    Request
		want string
	}{
		{"refill", Request{Type: PrescriptionRefill, Patient: anna, Details: Details{Medication: "Ramipril 5 mg"}},
			"Folgerezept: Ramipril 5 mg\nAnna Müller, geb. 12.03.1984, GKV, Tel. +49 171 1234567"},
		{"refill missing", Request{Type: PrescriptionRefill, Patient: Patient{Name: "Anna Müller"}},
			"Folgerezept: Medikament fehlt\nAnna Müller, Geburtsdatum fehlt, Versicherung fehlt"},
		{"appointment wish", Request{Type: AppointmentBook, Patient: Patient{Name: "Max Mustermann", BirthDate: "1990-01-02", Insurance: "pkv"},
			Details: Details{Reason: "Vorsorgeuntersuchung", Date: "2026-12-01", Daypart: "morning"}},
			"Terminwunsch: Vorsorgeuntersuchung, Di 01.12.2026 vormittags\nMax Mustermann, geb. 02.01.1990, PKV"},
		{"appointment booked", Request{Type: AppointmentBook, Patient: anna,
			Details: Details{Reason: "Rückenschmerzen", Date: "2026-11-26", Time: "09:30", Doctor: "Schneider", SlotID: "s1"}},
			"Termin gebucht: Do 26.11.2026 09:30, Dr. Schneider, Rückenschmerzen\nAnna Müller, geb. 12.03.1984, GKV, Tel. +49 171 1234567"},
		{"cancel", Request{Type: AppointmentCancel, Patient: Patient{Name: "Anna Müller", BirthDate: "1984-03-12"}, Details: Details{Date: "2026-11-26"}},
			"Terminabsage: Termin am Do 26.11.2026\nAnna Müller, geb. 12.03.1984"},
		{"sick note urgent", Request{Type: SickNote, Urgency: Urgent, Patient: anna, Details: Details{Date: "2026-11-22"}},
			"DRINGEND – Krankschreibung: krank seit So 22.11.2026\nAnna Müller, geb. 12.03.1984, GKV, Tel. +49 171 1234567"},
		{"callback", Request{Type: Callback, Patient: Patient{Name: "Anna Müller"}, Details: Details{Daypart: "afternoon"}},
			"Rückruf: am liebsten nachmittags\nAnna Müller, Geburtsdatum fehlt, Tel. fehlt"},
		{"message", Request{Type: Message, Urgency: LifeThreatening, Details: Details{Doctor: "Weber", Note: "Atemnot\nseit heute"}, PatientUnclear: true},
			"NOTFALL (an 112 verwiesen) – Nachricht an Dr. Weber: Atemnot seit heute\nName fehlt, Geburtsdatum fehlt (Person bitte prüfen)"},
		{"referral kvnr", Request{Type: Referral, Patient: Patient{Name: "Anna Müller", BirthDate: "1984-03-12", Insurance: "gkv", KVNR: "K030182229"}, Details: Details{Reason: "Orthopädie"}},
			"Überweisung: Orthopädie\nAnna Müller, geb. 12.03.1984, GKV, KVNR K030182229"},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, tc.r.Summary()); diff != "" {
			t.Errorf("%s: Summary (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		r    Request
		want []Field
	}{
		{Request{Type: PrescriptionRefill}, []Field{FieldName, FieldBirthDate, FieldMedication, FieldInsurance}},
		{Request{Type: PrescriptionRefill, Patient: anna}, []Field{FieldMedication}},
		{Request{Type: AppointmentBook, Patient: anna, Details: Details{Reason: "Grippe"}}, []Field{FieldWhen}},
		{Request{Type: AppointmentBook, Patient: anna, Details: Details{Reason: "Grippe", Daypart: "any"}}, nil},
		{Request{Type: AppointmentCancel, Patient: anna}, []Field{FieldDate}},
		{Request{Type: AppointmentReschedule}, []Field{FieldName, FieldBirthDate, FieldDate}},
		{Request{Type: Referral, Patient: anna}, []Field{FieldReason}},
		{Request{Type: SickNote, Patient: Patient{Name: "Anna Müller"}}, []Field{FieldBirthDate, FieldDate, FieldInsurance}},
		{Request{Type: TestResults, Patient: anna}, []Field{FieldReason}},
		{Request{Type: Callback, Patient: Patient{Name: "Anna Müller"}}, []Field{FieldPhone}},
		{Request{Type: Message, Patient: anna}, []Field{FieldNote}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, tc.r.Missing()); diff != "" {
			t.Errorf("%s: Missing (-want +got):\n%s", tc.r.Type, diff)
		}
	}
	for _, typ := range Types {
		if len(typ.Needs()) == 0 {
			t.Errorf("%s needs nothing", typ)
		}
		for _, f := range typ.Needs() {
			if !typ.Uses(f) {
				t.Errorf("%s needs %s but does not use it", typ, f)
			}
			if typ.FieldLabel(f) == string(f) {
				t.Errorf("%s: field %s has no German label", typ, f)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	ok := New("c1-1", PrescriptionRefill, Phone, monday)
	ok.Patient = anna
	ok.Details.Medication = "Ramipril 5 mg"
	ok.Status = Complete
	if err := ok.Validate(monday); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	tests := []struct {
		field  string
		change func(*Request)
	}{
		{"type", func(r *Request) { r.Type = "opening_hours" }},
		{"channel", func(r *Request) { r.Channel = "fax" }},
		{"status", func(r *Request) { r.Status = "done" }},
		{"urgency", func(r *Request) { r.Urgency = "high" }},
		{"birth_date", func(r *Request) { r.Patient.BirthDate = "2030-01-01" }},
		{"kvnr", func(r *Request) { r.Patient.KVNR = "K030182228" }},
		{"insurance", func(r *Request) { r.Patient.Insurance = "aok" }},
		{"date", func(r *Request) { r.Details.Date = "26.11.2026" }},
		{"time", func(r *Request) { r.Details.Time = "25:00" }},
		{"daypart", func(r *Request) { r.Details.Daypart = "night" }},
		{"medication", func(r *Request) { r.Details.Medication = "" }}, // complete but missing
		{"note", func(r *Request) { r.Details.Note = string([]byte{0xff}) }},
	}
	for _, tc := range tests {
		r := ok
		tc.change(&r)
		err := r.Validate(monday)
		var e *errs.Error
		if !errs.Is(err, errs.Invalid) || !asField(err, &e) || e.Field != tc.field {
			t.Errorf("%s: Validate = %v, want an invalid %s", tc.field, err, tc.field)
		}
	}
}

func asField(err error, e **errs.Error) bool {
	x, ok := err.(*errs.Error)
	*e = x
	return ok
}

func TestJSON(t *testing.T) {
	r := New("c1-1", Referral, Chat, monday)
	r.Patient.Name = "Anna Müller"
	r.PatientUnclear = true
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"c1-1","type":"referral","patient":{"name":"Anna Müller"},"details":{},"channel":"chat","status":"open","patient_unclear":true,"created_at":"2026-11-23T09:00:00+01:00"}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	var back Request
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, back, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
