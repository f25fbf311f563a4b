package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/berlin"
)

// Practice is who the messages come from and where the patient goes.
type Practice struct {
	Name    string // "Hausarztpraxis Dr. Erika Schneider"
	Address string // "Hauptstraße 1, 28195 Bremen"
	Phone   string // for cancellations: "0421 123456"
	Email   string // for cancellations, and the invitation's organizer
}

// Appointment is what a patient message may tell of an appointment. It deliberately has
// no type, note or patient: the reason for the visit is health data and stays out of
// e-mails and SMS, which pass through providers and lie in shared inboxes.
type Appointment struct {
	ID         string // the store's id, stable across changes: the invitation's UID
	Start, End time.Time
	Doctor     string // as the patient hears it: "Frau Dr. Schneider"; "": not said
	Status     string // appointment.Booked or appointment.Cancelled
	// Sequence counts the invitations sent for the appointment: 0 for the confirmation,
	// one more for every change or cancellation, so that calendars take the latest.
	Sequence int
}

// Message is one notification in its three forms.
type Message struct {
	Subject string
	Text    string // the e-mail body
	ICS     []byte // the invitation to attach; nil: none
	// SMS is a short version, within one SMS (160 GSM characters) where the names allow.
	SMS string
}

// Confirmation tells the patient that an appointment is booked.
func Confirmation(p Practice, a Appointment) Message {
	return Message{
		Subject: "Terminbestätigung: " + dateTime(a.Start),
		Text: letter(p,
			fmt.Sprintf("Ihr Termin am %s%s ist bestätigt.", spoken(a.Start), bei(a.Doctor)),
			"Den Termin finden Sie auch im Anhang, zum Eintragen in Ihren Kalender.",
			cancelHow(p)),
		ICS: invitation(p, a, MethodRequest),
		SMS: sms(p, "Ihr Termin am "+shortDateTime(a.Start), bei(a.Doctor), " ist bestätigt.", smsCancel(p)),
	}
}

// Change tells the patient that an appointment has moved from before to after, the same
// appointment (same ID). The invitation replaces the earlier one in the patient's
// calendar: calendars match it by the ID and take it for newer because its sequence is
// above before.Sequence, which Change ensures even if after.Sequence is not.
func Change(p Practice, before, after Appointment) Message {
	after.Sequence = max(after.Sequence, before.Sequence+1)
	return Message{
		Subject: "Terminänderung: jetzt " + dateTime(after.Start),
		Text: letter(p,
			fmt.Sprintf("Ihr Termin am %s wurde verlegt. Ihr neuer Termin ist am %s%s.",
				spoken(before.Start), spoken(after.Start), bei(after.Doctor)),
			"Den geänderten Termin finden Sie auch im Anhang, zum Eintragen in Ihren Kalender.",
			cancelHow(p)),
		ICS: invitation(p, after, MethodRequest),
		SMS: sms(p, "Ihr Termin wurde verlegt auf "+shortDateTime(after.Start), bei(after.Doctor), ".", smsCancel(p)),
	}
}

// Cancellation tells the patient that an appointment is cancelled. a.Sequence must be
// above that of the last invitation sent.
func Cancellation(p Practice, a Appointment) Message {
	a.Status = appointment.Cancelled
	return Message{
		Subject: "Terminabsage: " + dateTime(a.Start),
		Text: letter(p,
			fmt.Sprintf("Ihr Termin am %s%s wurde abgesagt.", spoken(a.Start), bei(a.Doctor)),
			"Im Anhang finden Sie die Absage auch für Ihren Kalender.",
			newHow(p)),
		ICS: invitation(p, a, MethodCancel),
		SMS: sms(p, "Ihr Termin am "+shortDateTime(a.Start), bei(a.Doctor), " wurde abgesagt.", smsNew(p)),
	}
}

// Reminder reminds the patient of an appointment. It carries no invitation: the patient
// has one from the confirmation, and a second would only ask them again.
func Reminder(p Practice, a Appointment) Message {
	return Message{
		Subject: "Erinnerung an Ihren Termin: " + dateTime(a.Start),
		Text: letter(p,
			fmt.Sprintf("wir erinnern Sie an Ihren Termin am %s%s.", spoken(a.Start), bei(a.Doctor)),
			cancelHow(p)),
		SMS: sms(p, "Erinnerung an Ihren Termin am "+shortDateTime(a.Start), bei(a.Doctor), ".", smsCancel(p)),
	}
}

// letter puts paragraphs between a greeting and the practice's signature.
func letter(p Practice, paragraphs ...string) string {
	var b strings.Builder
	b.WriteString("Guten Tag,\n\n")
	for _, par := range paragraphs {
		if par != "" {
			b.WriteString(par)
			b.WriteString("\n\n")
		}
	}
	b.WriteString("Mit freundlichen Grüßen\nIhr Praxisteam\n")
	for _, l := range []string{p.Name, p.Address, tel(p.Phone), mailLine(p.Email)} {
		if l != "" {
			b.WriteString(l)
			b.WriteString("\n")
		}
	}
	b.WriteString("\nDiese Nachricht wurde automatisch erstellt.\n")
	return b.String()
}

func cancelHow(p Practice) string {
	if how := reach(p); how != "" {
		return "Wenn Sie den Termin nicht wahrnehmen können, sagen Sie ihn bitte rechtzeitig ab, " + how +
			". Dann können wir ihn an jemand anderen vergeben."
	}
	return "Wenn Sie den Termin nicht wahrnehmen können, sagen Sie ihn bitte rechtzeitig ab."
}

func newHow(p Practice) string {
	if how := reach(p); how != "" {
		return "Für einen neuen Termin melden Sie sich gern " + how + "."
	}
	return ""
}

// reach says how to reach the practice: "telefonisch unter … oder per E-Mail an …".
func reach(p Practice) string {
	var ways []string
	if p.Phone != "" {
		ways = append(ways, "telefonisch unter "+p.Phone)
	}
	if p.Email != "" {
		ways = append(ways, "per E-Mail an "+p.Email)
	}
	return strings.Join(ways, " oder ")
}

func tel(s string) string {
	if s == "" {
		return ""
	}
	return "Telefon " + s
}

func mailLine(s string) string {
	if s == "" {
		return ""
	}
	return "E-Mail " + s
}

func bei(doctor string) string {
	if doctor == "" {
		return ""
	}
	return " bei " + doctor
}

// invitation is the calendar entry for a patient: practice and doctor, no reason. Its
// DTSTAMP is the time of writing, as iTIP wants; nothing compares it but calendars.
func invitation(p Practice, a Appointment, method string) []byte {
	summary := "Arzttermin"
	if p.Name != "" {
		summary = "Termin: " + p.Name
	}
	if a.Doctor != "" {
		summary += " (" + a.Doctor + ")"
	}
	location := p.Name
	if p.Address != "" {
		location = strings.TrimPrefix(location+", "+p.Address, ", ")
	}
	status := Confirmed
	if method == MethodCancel || a.Status == appointment.Cancelled {
		status = Cancelled
	}
	var desc string
	if how := reach(p); how != "" {
		desc = "Absagen oder verschieben: " + how + "."
		if status == Cancelled {
			desc = "Neuen Termin vereinbaren: " + how + "."
		}
	}
	return ICS([]Event{{
		UID:         a.ID,
		Summary:     summary,
		Location:    location,
		Description: desc,
		Start:       a.Start,
		End:         a.End,
		Status:      status,
		Sequence:    a.Sequence,
		Organizer:   p.Email,
	}}, method)
}

var weekdays = [...]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"}

var months = [...]string{"", "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}

// spoken: "Donnerstag, 26. November 2026, um 9:30 Uhr", in Berlin time.
func spoken(t time.Time) string {
	t = t.In(berlin.Location)
	return fmt.Sprintf("%s, %d. %s %d, um %d:%02d Uhr", weekdays[t.Weekday()], t.Day(), months[t.Month()], t.Year(), t.Hour(), t.Minute())
}

// dateTime: "Donnerstag, 26.11.2026, 9:30 Uhr", for subjects.
func dateTime(t time.Time) string {
	t = t.In(berlin.Location)
	return fmt.Sprintf("%s, %02d.%02d.%d, %d:%02d Uhr", weekdays[t.Weekday()], t.Day(), t.Month(), t.Year(), t.Hour(), t.Minute())
}

// shortDateTime: "Do. 26.11.2026 um 9:30 Uhr", for SMS.
func shortDateTime(t time.Time) string {
	t = t.In(berlin.Location)
	return fmt.Sprintf("%s. %02d.%02d.%d um %d:%02d Uhr", weekdays[t.Weekday()][:2], t.Day(), t.Month(), t.Year(), t.Hour(), t.Minute())
}
