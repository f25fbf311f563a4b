package dialogue

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/llm"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/request"
)

// LLM mode. When the engine has a Model, the model proposes each reply and the actions
// behind it (find slots, create a request, transfer), and the engine stays in charge:
// emergencies are recognised before the model sees a turn; every value the model passes
// is checked as strictly as what the understanding engine reads; and when the model fails
// (timeout, error, nonsense), the deterministic engine takes the conversation over for
// good, with the patient's data and the wishes they named, which it has listened to
// all along.

// Reasons a conversation left LLM mode (Conversation.Fallback).
const (
	FallbackEmergency = "emergency" // the engine handles emergencies itself, to the end
	FallbackTimeout   = "timeout"
	FallbackError     = "error" // the endpoint failed, or the model answered nothing usable
)

const (
	// maxModelRounds bounds the proposals in one turn: tool calls and their results, then
	// the reply.
	maxModelRounds = 4
	// maxModelReply bounds what the model may say in one turn, in runes.
	maxModelReply = 600
	// maxNameArg bounds a name the model passes.
	maxNameArg = 80
)

// modelTurn answers a turn through the model. Silence and goodbyes need no model.
func (t *turn) modelTurn() {
	c := t.c
	if t.text == "" {
		t.silence()
		return
	}
	c.Silent = 0
	t.res = t.e.understand(t.text, t.now)
	if t.res.Urgency == nlu.LifeThreatening {
		c.Fallback = FallbackEmergency
		t.emergency()
		return
	}
	t.listen()
	if isGoodbye(t.fold) && !t.hasData() && !t.isRequest() {
		t.end()
		return
	}
	c.Model = append(c.Model, llm.Message{Role: llm.RoleUser, Content: llm.Sanitize(t.text)})
	tools := llm.Tools()
	for range maxModelRounds {
		p, err := t.e.Model.Propose(t.ctx, t.modelMessages(), tools)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			t.fallback(FallbackTimeout)
			return
		case err != nil || p.Check(tools) != nil:
			t.fallback(FallbackError)
			return
		}
		c.Model = append(c.Model, llm.Message{Role: llm.RoleAssistant, Content: p.Reply, ToolCalls: p.Calls})
		if reply := modelText(p.Reply); reply != "" {
			t.say(reply)
			c.Question, c.Choices = reply, nil // repeated on "wie bitte" and silence
		}
		if len(p.Calls) == 0 {
			if len(t.out) == 0 {
				t.fallback(FallbackError)
			}
			return
		}
		for _, call := range p.Calls {
			c.Model = append(c.Model, llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Content: t.call(call)})
		}
		if t.done {
			return
		}
	}
	t.fallback(FallbackError) // tool calls without end
}

// listen keeps what the understanding engine read in a turn the model answers: the
// patient's data and the wishes named. Should the model fail or the caller hang up before
// the model created a request, the wishes still become requests with that data.
func (t *turn) listen() {
	t.remember(t.res.Slots)
	if typ, ok := requestType(t.res.Intent); ok {
		t.queue(typ)
	}
	for _, more := range t.moreWishes() {
		t.queue(more)
	}
}

// fallback hands the conversation to the deterministic engine for good, which answers
// this turn: it takes up the first wish the patient named, with the data given so far.
func (t *turn) fallback(reason string) {
	c := t.c
	c.Fallback = reason
	c.Question, c.Choices = "", nil
	c.Step, c.Asking = StepWish, nil
	if c.current() == nil && len(c.Pending) > 0 {
		typ := c.Pending[0]
		c.Pending = c.Pending[1:]
		cur := t.start(typ, false)
		if missing := cur.Missing(); len(missing) > 0 {
			c.Step, c.Asking = StepCollect, firstAsk(missing)
			c.Question, c.Choices = t.question(cur, c.Asking)
		}
	}
	t.handle()
}

// firstAsk is what to ask for first of the missing fields: name and birth date together.
func firstAsk(missing []request.Field) []request.Field {
	if len(missing) > 1 && missing[0] == request.FieldName && missing[1] == request.FieldBirthDate {
		return missing[:2]
	}
	return missing[:1]
}

// modelMessages is the conversation as the model sees it: the fixed instructions with the
// practice's published facts, then every turn since.
func (t *turn) modelMessages() []llm.Message {
	p := t.e.Practice
	facts := llm.Facts{Today: t.now.In(berlin.Location)}
	add := func(label, v string) {
		if v != "" {
			facts.Lines = append(facts.Lines, label+": "+v)
		}
	}
	add("Sprechzeiten", p.OpeningHours)
	if t.e.open(t.now) {
		add("Jetzt", "Die Praxis ist geöffnet.")
	} else {
		add("Jetzt", "Die Praxis ist geschlossen. Bei dringenden Beschwerden außerhalb der Sprechzeiten: ärztlicher Bereitschaftsdienst 116117.")
	}
	add("Adresse", p.Address)
	add("Telefon", p.Phone)
	if len(p.Doctors) > 0 {
		add("Ärztinnen und Ärzte (Nachnamen)", strings.Join(p.Doctors, ", "))
	}
	for _, f := range []struct{ key, label string }{
		{FAQDirections, "Anfahrt"}, {FAQParking, "Parken"}, {FAQAccessibility, "Barrierefreiheit"},
		{FAQInsurances, "Versicherungen"}, {FAQServices, "Leistungen"},
	} {
		add(f.label, p.FAQ[f.key])
	}
	msgs := make([]llm.Message, 0, len(t.c.Model)+1)
	msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Content: llm.SystemPrompt(p.Name, facts)})
	return append(msgs, t.c.Model...)
}

// modelText makes a proposed reply fit to be said: one paragraph of valid text, cut at a
// sentence end when it is too long.
func modelText(s string) string {
	s, _ = clean(s)
	s = strings.NewReplacer("**", "", "__", "", "`", "", "#", "").Replace(s)
	if utf8.RuneCountInString(s) <= maxModelReply {
		return strings.TrimSpace(s)
	}
	cut := s[:byteIndex(s, maxModelReply)]
	if i := strings.LastIndexAny(cut, ".!?"); i > 0 {
		return cut[:i+1]
	}
	return strings.TrimSpace(cut) + " …"
}

// byteIndex returns the byte offset of rune n of s.
func byteIndex(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// call carries out one tool call of the model and returns the result the model reads.
func (t *turn) call(tc llm.ToolCall) string {
	args, err := tc.StringArgs()
	if err != nil {
		return "Fehler: Die Argumente müssen ein JSON-Objekt mit Texten sein."
	}
	switch tc.Name {
	case llm.ToolTransfer:
		return t.modelTransfer()
	case llm.ToolFindSlots:
		return t.findSlots(args)
	case llm.ToolCreateRequest:
		return t.createRequest(args)
	}
	return "Fehler: Dieses Werkzeug gibt es nicht."
}

// modelTransfer hands over to the team, or notes the wish for a callback.
func (t *turn) modelTransfer() string {
	if t.e.staffReachable(t.now) {
		t.transfer()
		return "Das Gespräch wird an das Praxisteam übergeben."
	}
	t.queue(request.Callback)
	return "Das Praxisteam ist gerade nicht erreichbar. Biete einen Rückruf an und lege ihn mit create_request (type callback) an, sobald Name und Telefonnummer genannt sind."
}

// findSlots looks up free appointments for the wish the model passes.
func (t *turn) findSlots(args map[string]string) string {
	c := t.c
	r, problems := t.requestFrom(args, []request.Type{request.AppointmentBook, request.AppointmentReschedule})
	if len(problems) > 0 {
		return refused("Keine Suche", problems)
	}
	c.Searched = true
	if t.e.Slots == nil {
		return "Die Praxis hat keinen Terminkalender angebunden. Nimm den Terminwunsch auf und lege ihn mit create_request ohne slot_id an; das Praxisteam meldet sich mit einem Termin."
	}
	offers, err := t.e.Slots.Find(t.ctx, r, t.now)
	if err != nil {
		c.Offers = nil
		return "Der Terminkalender ist gerade nicht erreichbar. Lege den Terminwunsch mit create_request ohne slot_id an; das Praxisteam meldet sich."
	}
	if len(offers) == 0 {
		c.Offers = nil
		return "Zu diesem Wunsch ist kein Termin frei. Frage nach einem anderen Tag oder einer anderen Tageszeit."
	}
	c.Offers = offers[:min(len(offers), 3)]
	type slot struct {
		ID   string `json:"slot_id"`
		Text string `json:"termin"`
	}
	list := make([]slot, len(c.Offers))
	for i, o := range c.Offers {
		list[i] = slot{o.ID, t.offerText(o)}
	}
	data, _ := json.Marshal(list)
	return "Freie Termine (biete sie in dieser Reihenfolge an): " + string(data)
}

// createRequest records a request from the values the model passes, once each is valid and
// the type has everything it needs; for an appointment it books the chosen slot.
func (t *turn) createRequest(args map[string]string) string {
	c := t.c
	r, problems := t.requestFrom(args, request.Types)
	var offer *Offer
	if id := args["slot_id"]; id != "" && r.Type == request.AppointmentBook {
		for i := range c.Offers {
			if c.Offers[i].ID == id {
				offer = &c.Offers[i]
			}
		}
		if offer == nil {
			problems = append(problems, "slot_id: kein Termin, den find_slots angeboten hat")
		}
	}
	if r.Type == request.AppointmentBook && offer == nil && t.e.Slots != nil && !c.Searched {
		problems = append(problems, "slot_id fehlt: Suche zuerst mit find_slots freie Termine und biete sie an; passt keiner, lege den Wunsch danach ohne slot_id an")
	}
	var missing []string
	for _, f := range r.Missing() {
		if f == request.FieldWhen && offer != nil {
			continue
		}
		missing = append(missing, r.Type.FieldLabel(f))
	}
	if len(missing) > 0 {
		problems = append(problems, "Es fehlen noch: "+strings.Join(missing, ", ")+". Frage danach")
	}
	if len(problems) > 0 {
		return refused("Nicht angelegt", problems)
	}
	result := ""
	if offer != nil {
		o := *offer
		_, err := t.e.Slots.Book(t.ctx, r, o)
		switch {
		case errs.Is(err, errs.Conflict):
			c.Offers = slices.DeleteFunc(c.Offers, func(x Offer) bool { return x.ID == o.ID })
			return "Nicht angelegt: Dieser Termin wurde gerade vergeben. Suche mit find_slots neue Termine und biete sie an."
		case err != nil:
			return "Nicht angelegt: Der Termin konnte nicht eingetragen werden. Lege den Terminwunsch ohne slot_id an; das Praxisteam meldet sich."
		}
		start := o.Start.In(t.now.Location())
		r.Details.Date, r.Details.Time, r.Details.Daypart = start.Format(time.DateOnly), start.Format("15:04"), ""
		if o.Doctor != "" {
			r.Details.Doctor = o.Doctor
		}
		r.Details.SlotID = o.ID
		c.Offers = nil
		result = "Termin eingetragen: " + t.offerText(o) + ". "
	}
	r.Status = request.Complete
	if err := r.Validate(t.now); err != nil {
		return refused("Nicht angelegt", []string{err.Error()})
	}
	c.Requests = append(c.Requests, r)
	t.remember(nlu.Slots{Name: r.Patient.Name, BirthDate: r.Patient.BirthDate, Phone: r.Patient.Phone,
		Insurance: r.Patient.Insurance, KVNR: r.Patient.KVNR})
	c.Pending = slices.DeleteFunc(c.Pending, func(p request.Type) bool { return p == r.Type })
	return result + "Angelegt für das Praxisteam: " + r.Summary() + " Bestätige das kurz und frage, ob du sonst noch helfen kannst."
}

func refused(what string, problems []string) string {
	return what + ". " + strings.Join(problems, "; ") + "."
}

// requestFrom builds a request from the model's arguments, starting from the patient data
// the understanding engine heard. Every value is checked as the understanding engine's own
// would be; problems name the argument and what is wrong with it, for the model to ask
// again. Values a type does not use are dropped.
func (t *turn) requestFrom(args map[string]string, types []request.Type) (request.Request, []string) {
	c := t.c
	typ := request.Type(args["type"])
	if !slices.Contains(types, typ) {
		typ = request.Message // keeps the checks below going; the problem is reported
	}
	r := request.New(c.requestID(), typ, c.Channel, t.now)
	r.Patient = c.Known
	var problems []string
	if !slices.Contains(types, request.Type(args["type"])) {
		problems = append(problems, "type: unbekannte Art des Anliegens")
	}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(args[k])
		if k == "type" || k == "slot_id" || v == "" {
			continue
		}
		f := request.Field(k)
		if k == "reason" && !typ.Uses(request.FieldReason) {
			f = request.FieldNote // a message's text, or what the team should know
		}
		if !typ.Uses(f) {
			continue
		}
		val, problem := t.checkArg(f, v, typ)
		if problem != "" {
			problems = append(problems, k+": "+problem)
			continue
		}
		r.Set(f, val)
	}
	return r, problems
}

// checkArg checks one value the model passes for field f and returns it normalised, or
// what is wrong with it.
func (t *turn) checkArg(f request.Field, v string, typ request.Type) (string, string) {
	switch f {
	case request.FieldName:
		v = strings.Join(strings.Fields(v), " ")
		if utf8.RuneCountInString(v) > maxNameArg || !validName(v) {
			return "", "kein gültiger Name"
		}
		return v, ""
	case request.FieldBirthDate:
		if validBirthDate(v, t.now) == "" {
			return "", "kein gültiges Geburtsdatum (JJJJ-MM-TT, nicht in der Zukunft)"
		}
		return v, ""
	case request.FieldPhone:
		e164, ok := nlu.PhoneE164(v)
		if !ok {
			return "", "keine gültige Telefonnummer"
		}
		return e164, ""
	case request.FieldInsurance:
		if v != "gkv" && v != "pkv" && v != "self" {
			return "", "erlaubt sind gkv, pkv, self"
		}
		return v, ""
	case request.FieldKVNR:
		v = strings.ToUpper(v)
		if person.ValidateKVNR(v) != nil {
			return "", "keine gültige Versichertennummer (Prüfziffer stimmt nicht); frage noch einmal danach"
		}
		return v, ""
	case request.FieldDate:
		d, err := time.ParseInLocation(time.DateOnly, v, t.now.Location())
		if err != nil {
			return "", "kein gültiges Datum (JJJJ-MM-TT)"
		}
		today := time.Date(t.now.Year(), t.now.Month(), t.now.Day(), 0, 0, 0, 0, t.now.Location())
		if typ != request.SickNote && d.Before(today) {
			return "", "liegt in der Vergangenheit"
		}
		if d.After(today.AddDate(2, 0, 0)) {
			return "", "liegt zu weit in der Zukunft"
		}
		return v, ""
	case request.FieldTime:
		if _, err := time.Parse("15:04", v); err != nil || len(v) != 5 {
			return "", "keine gültige Uhrzeit (HH:MM)"
		}
		return v, ""
	case request.FieldDaypart:
		if v != "morning" && v != "afternoon" && v != "evening" {
			return "", "erlaubt sind morning, afternoon, evening"
		}
		return v, ""
	case request.FieldDoctor:
		if d := t.e.doctorNamed(v); d != "" {
			return d, ""
		}
		return "", "keine Ärztin und kein Arzt dieser Praxis; es gibt: " + strings.Join(t.e.Practice.Doctors, ", ")
	case request.FieldMedication, request.FieldReason, request.FieldNote:
		if v = freeText(v); v == "" {
			return "", "sagt nichts aus"
		}
		return v, ""
	}
	return "", "unbekannt"
}

// validName accepts a name as people write it: letters with spaces, hyphens, apostrophes
// and dots ("Hans-Peter O'Neill", "Dr. Anna Müller").
func validName(s string) bool {
	letters := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case r == ' ' || r == '-' || r == '\'' || r == '’' || r == '.':
		default:
			return false
		}
	}
	return letters >= 2
}

// doctorNamed returns the practice's doctor a name refers to ("Dr. Schneider", "frau
// schneider"), or "".
func (e *Engine) doctorNamed(s string) string {
	words := strings.Fields(fold(s))
	for _, d := range e.Practice.Doctors {
		if slices.Contains(words, fold(d)) {
			return d
		}
	}
	return ""
}
