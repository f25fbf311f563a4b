package assistant

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/holiday"
	"github.com/tresen/tresen/internal/request"
)

// Settings are what a practice tells its assistant to say (store.SettingAssistant): its
// opening hours, where it is, answers to frequent questions, its own greeting, goodbye and
// emergency note, and which requests the assistant takes.
type Settings struct {
	// Hours are the opening hours by weekday (time.Sunday = 0 … time.Saturday = 6) as
	// "08:00-12:00, 15:00-18:00"; empty: closed. Public holidays of the practice's
	// Bundesland (its calendar setup) close it too.
	Hours   [7]string         `json:"hours"`
	Address string            `json:"address,omitempty"`
	Phone   string            `json:"phone,omitempty"`
	FAQ     map[string]string `json:"faq,omitempty"` // by dialogue.FAQ… key
	// Greeting, Closing and EmergencyNote: see dialogue.Practice; empty: the defaults.
	Greeting      string `json:"greeting,omitempty"`
	Closing       string `json:"closing,omitempty"`
	EmergencyNote string `json:"emergency_note,omitempty"`
	// Types are the request types the assistant takes; nil: all.
	Types []request.Type `json:"types,omitempty"`
	// Alerts are the team's e-mail addresses told of each urgent request (without any
	// health data, only a link); sent through the practice's mail settings.
	Alerts []string `json:"alerts,omitempty"`
	// Numbers are the practice's phone numbers (E.164) the assistant answers: a call to
	// one of them is the practice's.
	Numbers []string `json:"numbers,omitempty"`
	// TransferTo is where the assistant hands a call to the team: a number (E.164) or a
	// SIP URI of the practice's phone system; empty: the caller gets a callback.
	TransferTo string `json:"transfer_to,omitempty"`
	// RingFirst is the practice's own phone (a number or a SIP URI of its phone system)
	// that rings first during opening hours; the assistant answers when nobody there
	// picks up within RingSeconds (or the line is busy), and after hours at once. Empty:
	// the assistant answers every call.
	RingFirst string `json:"ring_first,omitempty"`
	// RingSeconds is how long the practice's phone rings first; 0 means DefaultRingSeconds.
	RingSeconds int `json:"ring_seconds,omitempty"`
	// RecordCalls: calls are recorded (the caller hears so first), when the practice also
	// keeps call audio (its retention period for it is above 0 days).
	RecordCalls bool `json:"record_calls,omitempty"`
	// QualityReview is the practice's opt-in to share its conversations, anonymised, for
	// improving the assistant (package review).
	QualityReview bool `json:"quality_review,omitempty"`
}

// FAQTopics are the questions a practice answers, with their German names, in the order
// the settings page shows them.
var FAQTopics = []struct{ Key, Label string }{
	{dialogue.FAQDirections, "Anfahrt"},
	{dialogue.FAQParking, "Parken"},
	{dialogue.FAQAccessibility, "Barrierefreiheit"},
	{dialogue.FAQInsurances, "Versicherungen"},
	{dialogue.FAQServices, "Leistungen (z. B. Impfungen)"},
}

// maxText bounds each text in characters: the assistant reads it out.
const maxText = 600

// maxAlerts bounds the alert addresses.
const maxAlerts = 10

// Validate checks the settings and says which field is wrong.
func (s *Settings) Validate() error {
	for wd, h := range s.Hours {
		if _, err := parseHours(h); err != nil {
			return errs.Field(fmt.Sprintf("hours.%d", wd), "%s: %s", weekdays[wd], errs.Message(err))
		}
	}
	texts := map[string]string{"address": s.Address, "phone": s.Phone, "greeting": s.Greeting, "closing": s.Closing, "emergency_note": s.EmergencyNote}
	for k, v := range s.FAQ {
		if !slices.ContainsFunc(FAQTopics, func(t struct{ Key, Label string }) bool { return t.Key == k }) {
			return errs.Field("faq."+k, "unbekanntes Thema")
		}
		texts["faq."+k] = v
	}
	for field, v := range texts {
		if utf8.RuneCountInString(v) > maxText {
			return errs.Field(field, "Der Text ist zu lang (höchstens %d Zeichen).", maxText)
		}
		if strings.ContainsAny(v, "<>") {
			return errs.Field(field, "Der Text darf keine spitzen Klammern enthalten.")
		}
	}
	if len(s.Alerts) > maxAlerts {
		return errs.Field("alerts", "Höchstens %d Adressen.", maxAlerts)
	}
	for _, a := range s.Alerts {
		if addr, err := mail.ParseAddress(a); err != nil || addr.Name != "" || addr.Address != a {
			return errs.Field("alerts", "%q ist keine E-Mail-Adresse.", a)
		}
	}
	for i, n := range s.Numbers {
		e164, err := phoneNumber(n)
		if err != nil {
			return errs.Field("numbers", "%q ist keine Telefonnummer.", n)
		}
		s.Numbers[i] = e164
	}
	var err error
	if s.TransferTo, err = phoneTarget("transfer_to", s.TransferTo); err != nil {
		return err
	}
	if s.RingFirst, err = phoneTarget("ring_first", s.RingFirst); err != nil {
		return err
	}
	if s.RingSeconds != 0 && (s.RingSeconds < minRingSeconds || s.RingSeconds > maxRingSeconds) {
		return errs.Field("ring_seconds", "Bitte zwischen %d und %d Sekunden.", minRingSeconds, maxRingSeconds)
	}
	for _, t := range s.Types {
		if !t.Valid() {
			return errs.Field("types", "unbekannte Art von Anliegen %q", t)
		}
	}
	return nil
}

// How long the practice's own phone rings first (Settings.RingSeconds).
const (
	DefaultRingSeconds = 20
	minRingSeconds     = 5
	maxRingSeconds     = 60
)

// phoneTarget checks where a call may go: a phone number (returned as E.164) or a SIP
// URI of the practice's phone system; "" stays "".
func phoneTarget(field, t string) (string, error) {
	t = strings.TrimSpace(t)
	switch {
	case t == "":
		return "", nil
	case strings.HasPrefix(t, "sip:") || strings.HasPrefix(t, "sips:"):
		if strings.ContainsAny(t, " <>\"\r\n") || !strings.Contains(t, "@") {
			return "", errs.Field(field, "%q ist keine SIP-Adresse wie sip:anmeldung@praxis.example.", t)
		}
		return t, nil
	}
	e164, err := phoneNumber(t)
	if err != nil {
		return "", errs.Field(field, "%q ist keine Telefonnummer und keine SIP-Adresse.", t)
	}
	return e164, nil
}

// RingFirstNow says where a call at now rings first and for how long: the practice's own
// phone while it is open, nowhere ("") when it is closed or has none.
func (s *Settings) RingFirstNow(holidays holiday.Calendar, now time.Time) (string, time.Duration) {
	if s.RingFirst == "" || !s.Open(holidays)(now) {
		return "", 0
	}
	secs := s.RingSeconds
	if secs == 0 {
		secs = DefaultRingSeconds
	}
	return s.RingFirst, time.Duration(secs) * time.Second
}

var weekdays = [...]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}

// span is a part of a day in minutes after midnight, [from, to).
type span struct{ from, to int }

// parseHours reads "08:00-12:00, 15:00-18:00" (also "8-12, 15-18").
func parseHours(s string) ([]span, error) {
	var out []span
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, b, ok := strings.Cut(part, "-")
		from, ok1 := clock(a)
		to, ok2 := clock(b)
		if !ok || !ok1 || !ok2 || from >= to {
			return nil, errs.E(errs.Invalid, "%q ist keine Zeitspanne wie 08:00-12:00", part)
		}
		if len(out) > 0 && from < out[len(out)-1].to {
			return nil, errs.E(errs.Invalid, "die Zeiten überschneiden sich oder stehen nicht in zeitlicher Folge")
		}
		out = append(out, span{from, to})
	}
	return out, nil
}

// clock reads "8", "08:00" or "8:30" as minutes after midnight; "24:00" ends the day.
func clock(s string) (int, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "Uhr"))
	h, m, found := strings.Cut(s, ":")
	var hh, mm int
	if _, err := fmt.Sscanf(h, "%d", &hh); err != nil || len(h) > 2 {
		return 0, false
	}
	if found {
		if _, err := fmt.Sscanf(m, "%d", &mm); err != nil || len(m) != 2 {
			return 0, false
		}
	}
	if hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm > 0 {
		return 0, false
	}
	return hh*60 + mm, true
}

// HoursText says the opening hours as the assistant speaks them: days with the same hours
// together, "Montag, Dienstag und Donnerstag von 8 bis 12 Uhr und von 15 bis 18 Uhr, …".
func (s *Settings) HoursText() string {
	type group struct {
		days  []string
		hours string
	}
	var groups []group
	for _, wd := range []int{1, 2, 3, 4, 5, 6, 0} { // German weeks start on Monday
		spans, _ := parseHours(s.Hours[wd])
		if len(spans) == 0 {
			continue
		}
		var parts []string
		for _, sp := range spans {
			parts = append(parts, "von "+spoken(sp.from)+" bis "+spoken(sp.to)+" Uhr")
		}
		hours := strings.Join(parts, " und ")
		i := slices.IndexFunc(groups, func(g group) bool { return g.hours == hours })
		if i < 0 {
			groups = append(groups, group{hours: hours})
			i = len(groups) - 1
		}
		groups[i].days = append(groups[i].days, weekdays[wd])
	}
	var out []string
	for _, g := range groups {
		out = append(out, and(g.days)+" "+g.hours)
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, ", ") + "."
}

// spoken says a time of day as in "8", "8:30".
func spoken(m int) string {
	if m%60 == 0 {
		return fmt.Sprint(m / 60)
	}
	return fmt.Sprintf("%d:%02d", m/60, m%60)
}

func and(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " und " + items[len(items)-1]
}

// Open reports whether the practice is open at t: within its hours on a day that is no
// public holiday.
func (s *Settings) Open(holidays holiday.Calendar) func(time.Time) bool {
	return func(t time.Time) bool {
		t = t.In(berlin.Location)
		if holidays.Is(t) {
			return false
		}
		spans, _ := parseHours(s.Hours[t.Weekday()])
		m := t.Hour()*60 + t.Minute()
		return slices.ContainsFunc(spans, func(sp span) bool { return sp.from <= m && m < sp.to })
	}
}

// Practice returns what the dialogue engine knows of the practice.
func (s *Settings) Practice(name string, doctors []string, holidays holiday.Calendar) dialogue.Practice {
	open := s.Open(holidays)
	return dialogue.Practice{Name: name, OpeningHours: s.HoursText(), Address: s.Address, Phone: s.Phone, FAQ: s.FAQ,
		Doctors: doctors, Open: open, StaffReachable: open, Greeting: s.Greeting, Closing: s.Closing,
		EmergencyNote: s.EmergencyNote, Types: s.Types}
}

// phoneNumber reads a German or international phone number as E.164.
func phoneNumber(s string) (string, error) {
	n, err := phonenumbers.Parse(s, "DE")
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", errs.E(errs.Invalid, "keine Telefonnummer")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
