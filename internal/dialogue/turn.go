package dialogue

import (
	"cmp"
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/request"
)

// turn is the handling of one patient turn: what was understood and the reply being built.
type turn struct {
	e    *Engine
	c    *Conversation
	ctx  context.Context
	now  time.Time
	text string // what the patient said, cleaned
	fold string // text folded for matching (see fold)
	res  nlu.Result

	named map[request.Type]bool // wishes named in this turn

	out     []string
	choices []string
	action  Action
	done    bool
}

func (t *turn) say(parts ...string) { t.out = append(t.out, parts...) }

// ask says a question and keeps it for repeating.
func (t *turn) ask(q string, choices ...string) {
	t.c.Question, t.c.Choices = q, choices
	t.say(q)
	t.choices = choices
}

// reask says the last question again.
func (t *turn) reask() {
	if t.c.Question == "" {
		t.c.Step = StepWish
		t.ask("Was kann ich für Sie tun?")
		return
	}
	t.say(t.c.Question)
	t.choices = t.c.Choices
}

// finish records the reply in the transcript and ends the conversation when it is done.
func (t *turn) finish() Reply {
	r := Reply{Text: strings.Join(t.out, " "), Choices: t.choices, Action: t.action, Done: t.done}
	if r.Action == "" {
		r.Action = ActionNone
	}
	t.c.Turns = append(t.c.Turns, Turn{Who: Assistant, Text: r.Text, At: t.now})
	if r.Done {
		t.c.Close(t.now)
	}
	return r
}

// handle decides what the turn means. Emergencies come first, on every turn; then the
// answer the conversation waits for; then everything a patient may say at any time.
func (t *turn) handle() {
	c := t.c
	if t.text == "" {
		t.silence()
		return
	}
	c.Silent = 0
	t.res = t.e.understand(t.text, t.now)
	if t.res.Urgency == nlu.LifeThreatening {
		t.emergency()
		return
	}
	if isRepeat(t.fold) && !t.hasData() && !t.isRequest() {
		t.say("Gern noch einmal.")
		t.reask()
		return
	}
	if isHold(t.fold) && !t.hasData() {
		t.say("Kein Problem, ich warte.")
		return
	}
	var handled bool
	switch c.Step {
	case StepEmergency:
		handled = t.emergencyAnswer()
	case StepReadBack:
		handled = t.readBackAnswer()
	case StepCorrect:
		handled = t.correctAnswer()
	case StepOffer:
		handled = t.offerAnswer()
	case StepCallbackOffer:
		handled = t.callbackAnswer()
	case StepAdviceOffer:
		handled = t.adviceAnswer()
	case StepConfirmOffer:
		handled = t.confirmAnswer()
	}
	if !handled {
		t.general()
	}
}

// hasData reports whether the utterance states any slot.
func (t *turn) hasData() bool { return t.res.Slots != nlu.Slots{} }

// isRequest reports whether the utterance asks for something a request is made of.
func (t *turn) isRequest() bool {
	_, ok := requestType(t.res.Intent)
	return ok
}

func requestType(in nlu.Intent) (request.Type, bool) {
	typ := request.Type(in)
	return typ, typ.Valid()
}

// general handles what a patient may say at any point: data for the current request, a
// new wish, a question about the practice, a wish for a person, goodbye.
func (t *turn) general() {
	c, res := t.c, t.res
	cur := c.current()
	asked := c.Asking
	if c.Step != StepCollect && c.Step != StepCorrect {
		asked = nil
	}
	free := cur != nil && askingFreeText(asked)
	var filled []request.Field
	if cur != nil {
		filled = t.fill(cur, asked, c.Step == StepCorrect || c.Step == StepReadBack)
	} else {
		t.remember(res.Slots)
	}
	typ, isReq := requestType(res.Intent)
	switch {
	case res.Intent == nlu.Human && !free:
		t.human()
		return
	case len(filled) == 0 && !isReq && (isGoodbye(t.fold) || c.Step == StepWish && cur == nil && isDone(t.fold)):
		t.end()
		return
	case cur == nil && !isReq && isWrongNumber(t.fold):
		t.say("Kein Problem.")
		t.end()
		return
	case !free && isMedicalQuestion(t.fold):
		t.advice()
		return
	case len(filled) == 0 && (res.Intent == nlu.OpeningHours || res.Intent == nlu.PracticeInfo):
		t.say(t.e.faq(res.Intent, t.fold, t.now))
		if (cur != nil || c.Step == StepConfirmOffer) && c.Question != "" {
			t.reask()
		} else {
			c.Step = StepWish
			t.ask("Kann ich sonst noch etwas für Sie tun?")
		}
		return
	}

	progress := len(filled) > 0
	switch {
	case isReq && cur == nil:
		cur = t.start(typ, true)
		t.fill(cur, nil, false)
		progress = true
	case isReq && typ != cur.Type && len(filled) == 0:
		if t.queue(typ) {
			t.say(capitalise(what(typ)) + " nehme ich gleich danach auf.")
			progress = true
		}
	}
	for _, more := range t.moreWishes() {
		if t.queue(more) {
			t.say(capitalise(what(more)) + " nehme ich gleich danach auf.")
			progress = true
		}
	}
	if res.Urgency == nlu.Urgent {
		if cur == nil {
			cur = t.start(request.AppointmentBook, false)
			t.fill(cur, nil, false)
			t.say("Ich notiere einen dringenden Terminwunsch.")
		}
		if cur.Urgency != request.LifeThreatening {
			cur.Urgency = request.Urgent
		}
		if cur.Type == request.AppointmentBook {
			// An urgent appointment is wanted as soon as possible, for what was described.
			if cur.Details.Reason == "" {
				cur.Details.Reason = freeText(t.text)
			}
			if cur.Get(request.FieldWhen) == "" {
				cur.Details.Daypart = "any"
			}
		}
		if !t.e.open(t.now) && !c.Hinted116117 {
			c.Hinted116117 = true
			t.out = append([]string{"Wenn Sie heute noch ärztliche Hilfe brauchen: Außerhalb der Sprechzeiten erreichen Sie den ärztlichen Bereitschaftsdienst unter 116117."}, t.out...)
		}
		progress = true
	}
	switch {
	case progress:
		c.Misunderstood, c.Unclear = 0, nil
		if (c.Step == StepReadBack || c.Step == StepOffer) && len(filled) == 0 {
			t.reask() // a wish noted for later; the read-back or the offer still waits
			return
		}
		t.next()
	case cur == nil && t.hasData():
		c.Misunderstood, c.Unclear = 0, nil
		c.Step = StepWish
		t.ask("Danke. Was kann ich für Sie tun?")
	case c.Step == StepWish && cur == nil && (isYes(t.fold) || isGreeting(t.fold)):
		t.ask("Was kann ich für Sie tun?")
	default:
		t.misunderstood()
	}
}

// start opens a request of type typ with the patient data known so far.
func (t *turn) start(typ request.Type, announce bool) *request.Request {
	c := t.c
	var note string
	if !t.e.Practice.Takes(typ) {
		t.say(typ.Label() + " nimmt der Assistent dieser Praxis leider nicht auf. Ich notiere gern einen Rückruf des Praxisteams.")
		note = "Wunsch: " + typ.Label() + " (nimmt der Assistent nicht auf)"
		typ, announce = request.Callback, false
	}
	r := request.New(c.requestID(), typ, c.Channel, t.now)
	r.Patient = c.Known
	r.Details.Note = note
	c.Requests = append(c.Requests, r)
	if announce {
		t.say("Gern, ich nehme " + what(typ) + " auf.")
		if typ == request.TestResults {
			t.say("Befunde bespricht die Praxis persönlich mit Ihnen.")
		}
	}
	return &c.Requests[len(c.Requests)-1]
}

// queue notes a further wish for after the current request; it reports whether it is new.
func (t *turn) queue(typ request.Type) bool {
	c := t.c
	if t.named == nil {
		t.named = map[request.Type]bool{}
	}
	t.named[typ] = true
	if cur := c.current(); cur != nil && cur.Type == typ {
		return false
	}
	for _, p := range c.Pending {
		if p == typ {
			return false
		}
	}
	c.Pending = append(c.Pending, typ)
	return true
}

// maxClauses bounds the clauses of one utterance read for further wishes.
const maxClauses = 8

// maxReread bounds the utterances read a second time, for further wishes or for a bare
// name or birth date: such answers are short, and a long turn read several times would
// cost the caller noticeable time.
const maxReread = 500

// moreWishes finds further requests named in the same breath ("ein Folgerezept und eine
// Überweisung"): the understanding engine reports only the main one.
func (t *turn) moreWishes() []request.Type {
	if len(t.text) > maxReread {
		return nil
	}
	parts := reWishSeparator.Split(t.text, -1)
	if len(parts) < 2 {
		return nil
	}
	if len(parts) > maxClauses {
		parts = parts[:maxClauses]
	}
	var out []request.Type
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			continue
		}
		r := t.e.understand(p, t.now)
		// Callbacks and messages are weak cues: a phone number or "schicken" in a clause is
		// more often data than a wish of its own.
		if typ, ok := requestType(r.Intent); ok && typ != request.Callback && typ != request.Message && typ != request.Type(t.res.Intent) {
			out = append(out, typ)
		}
	}
	return out
}

// next asks for what the current request still needs, reads it back when it has
// everything, or goes on to the next wish.
func (t *turn) next() {
	c := t.c
	c.ConfirmOffer = nil // an offer of a confirmation not answered lapses: nothing is sent
	cur := c.current()
	if cur == nil {
		if len(c.Pending) == 0 {
			c.Step, c.Asking = StepWish, nil
			t.ask("Kann ich sonst noch etwas für Sie tun?")
			return
		}
		typ := c.Pending[0]
		c.Pending = c.Pending[1:]
		cur = t.start(typ, false)
		t.say("Nun nehme ich " + what(typ) + " auf.")
		if t.named[typ] {
			t.fill(cur, nil, false) // "ja, und noch eine Überweisung zum Orthopäden"
		}
	}
	missing := cur.Missing()
	if len(missing) == 0 {
		t.readBack(cur)
		return
	}
	ask := missing[:1]
	if len(missing) > 1 && missing[0] == request.FieldName && missing[1] == request.FieldBirthDate {
		ask = missing[:2]
	}
	c.Step, c.Asking = StepCollect, ask
	q, choices := t.question(cur, ask)
	t.ask(q, choices...)
}

func (t *turn) readBack(r *request.Request) {
	t.c.Step, t.c.Asking = StepReadBack, nil
	t.ask("Ich habe notiert: "+t.describe(r)+". Stimmt das?", "Ja", "Nein")
}

// readBackAnswer takes "ja", a correction or "nein".
func (t *turn) readBackAnswer() bool {
	c := t.c
	cur := c.current()
	if cur == nil {
		c.Step = StepWish
		return false
	}
	if changed := t.fill(cur, nil, true); len(changed) > 0 {
		c.Misunderstood = 0
		t.say("Danke, ich habe das korrigiert.")
		t.readBack(cur)
		return true
	}
	switch {
	case isNo(t.fold):
		c.Misunderstood = 0
		if f, ok := namedField(t.fold, cur.Type); ok {
			t.askCorrection(cur, f)
			return true
		}
		c.Step, c.Asking = StepCorrect, nil
		t.ask("Was soll ich korrigieren? Sagen Sie mir einfach die richtige Angabe.")
		return true
	case isYes(t.fold):
		c.Misunderstood = 0
		for _, typ := range append([]request.Type{request.Type(t.res.Intent)}, t.moreWishes()...) {
			if typ.Valid() && typ != cur.Type {
				t.queue(typ)
			}
		}
		t.confirm(cur)
		return true
	}
	return false
}

// correctAnswer takes the correction asked for after a bare "nein".
func (t *turn) correctAnswer() bool {
	c := t.c
	cur := c.current()
	if cur == nil {
		c.Step = StepWish
		return false
	}
	if changed := t.fill(cur, c.Asking, true); len(changed) > 0 {
		c.Misunderstood = 0
		t.say("Danke.")
		t.readBack(cur)
		return true
	}
	if f, ok := namedField(t.fold, cur.Type); ok {
		c.Misunderstood = 0
		t.askCorrection(cur, f)
		return true
	}
	if isYes(t.fold) && len(c.Asking) == 0 {
		t.confirm(cur)
		return true
	}
	return false
}

func (t *turn) askCorrection(r *request.Request, f request.Field) {
	t.c.Step, t.c.Asking = StepCorrect, []request.Field{f}
	q, choices := t.question(r, t.c.Asking)
	t.ask(q, choices...)
}

// confirm completes the current request, or for an appointment goes on to the offers.
func (t *turn) confirm(r *request.Request) {
	if r.Type == request.AppointmentBook && t.e.Slots != nil && r.Details.SlotID == "" {
		t.offer(r)
		return
	}
	r.Status = request.Complete
	t.say(confirmation(r))
	t.next()
}

// offer finds free appointments for r and offers up to three.
func (t *turn) offer(r *request.Request) {
	c := t.c
	offers, err := t.e.Slots.Find(t.ctx, *r, t.now)
	if err != nil {
		t.wish(r, "Ich kann gerade leider nicht in den Terminkalender sehen.")
		return
	}
	c.Step, c.Asking = StepOffer, nil
	if len(offers) == 0 {
		c.Offers = nil
		t.ask("Zu Ihrem Wunsch ist leider kein Termin frei. Passt Ihnen ein anderer Tag oder eine andere Tageszeit?", "Nächstmöglich", "Nein")
		return
	}
	if len(offers) > 3 {
		offers = offers[:3]
	}
	c.Offers = offers
	texts := make([]string, len(offers))
	for i, o := range offers {
		texts[i] = t.offerText(o)
	}
	t.ask("Ich kann Ihnen anbieten: "+strings.Join(texts, ", oder ")+". Welcher Termin passt Ihnen?", texts...)
}

// wish completes an appointment request without a booking: the team answers it.
func (t *turn) wish(r *request.Request, why string) {
	r.Status = request.Complete
	t.c.Offers = nil
	t.say(why, "Ich gebe Ihren Terminwunsch an das Praxisteam weiter, es meldet sich bei Ihnen.")
	t.next()
}

// offerAnswer takes the patient's choice among the offers, or a new wish.
func (t *turn) offerAnswer() bool {
	c := t.c
	cur := c.current()
	if cur == nil || cur.Type != request.AppointmentBook {
		c.Step, c.Offers = StepWish, nil
		return false
	}
	if len(c.Offers) == 1 && isYes(t.fold) {
		t.book(cur, c.Offers[0])
		return true
	}
	if i := choose(c.Offers, t.fold, t.res.Slots, t.now); i >= 0 {
		t.book(cur, c.Offers[i])
		return true
	}
	// Anything else the patient states changes the wish, or corrects their data.
	changed := t.fill(cur, nil, false)
	if slices.Contains(changed, request.FieldWhen) || slices.Contains(changed, request.FieldDoctor) {
		c.Misunderstood = 0
		t.offer(cur)
		return true
	}
	if len(changed) > 0 {
		c.Misunderstood = 0
		t.say("Danke, ich habe das korrigiert.")
		if len(c.Offers) == 0 {
			t.offer(cur)
		} else {
			t.reask()
		}
		return true
	}
	if isNo(t.fold) || isNoneFits(t.fold) {
		c.Misunderstood = 0
		if len(c.Offers) > 0 {
			c.Offers = nil
			t.ask("Wann würde es Ihnen besser passen? Nennen Sie mir gern einen anderen Tag oder eine Tageszeit.", "Vormittags", "Nachmittags", "Nächstmöglich")
			return true
		}
		t.wish(cur, "Gut.")
		return true
	}
	return false
}

// book books the chosen offer; when it was taken meanwhile, it offers others.
func (t *turn) book(r *request.Request, o Offer) {
	booking, err := t.e.Slots.Book(t.ctx, *r, o)
	switch {
	case err == nil:
		start := o.Start.In(t.now.Location())
		r.Details.Date, r.Details.Time = start.Format(time.DateOnly), start.Format("15:04")
		if o.Doctor != "" {
			r.Details.Doctor = o.Doctor
		}
		r.Details.SlotID = o.ID
		r.Status = request.Complete
		t.c.Offers, t.c.Misunderstood = nil, 0
		t.say("Ihr Termin ist eingetragen: " + t.offerText(o) + ".")
		if t.offerConfirmation(r, booking, o.Start) {
			return
		}
		t.next()
	case errs.Is(err, errs.Conflict):
		t.say("Dieser Termin ist leider gerade vergeben worden.")
		t.offer(r)
	default:
		t.wish(r, "Ich konnte den Termin leider nicht eintragen.")
	}
}

// offerConfirmation offers a confirmation of the appointment just booked, which starts at
// start, and its reminder when one is still to come, on what the practice sends. On the
// phone it offers an SMS to the mobile number the caller calls from. In the chat it offers
// an address the patient gave in the conversation, or asks for one. It reports whether it
// asked.
func (t *turn) offerConfirmation(r *request.Request, booking string, start time.Time) bool {
	c, conf := t.c, t.e.Confirmations
	if conf == nil || booking == "" {
		return false
	}
	what := "eine Bestätigung"
	if conf.Reminds(start, t.now) {
		what = "eine Bestätigung und eine Erinnerung"
	}
	o := &ConfirmOffer{Request: r.ID, Booking: booking}
	var q string
	switch c.Channel {
	case request.Phone:
		phone, ok := nlu.MobileE164(c.Caller)
		if !ok || !conf.Sends(appointment.NotifySMS) {
			return false
		}
		o.Channel, o.Address = appointment.NotifySMS, phone
		q = "Möchten Sie " + what + " per SMS an die Nummer, von der Sie anrufen?"
	case request.Chat:
		by, address := t.confirmWords()
		if by == "" {
			return false
		}
		email, isEmail := t.knownEmail()
		phone, isMobile := nlu.MobileE164(r.Patient.Phone)
		switch {
		case isEmail && conf.Sends(appointment.NotifyEmail):
			o.Channel, o.Address = appointment.NotifyEmail, email
			q = "Möchten Sie " + what + " per E-Mail an " + email + "?"
		case isMobile && conf.Sends(appointment.NotifySMS):
			o.Channel, o.Address = appointment.NotifySMS, phone
			q = "Möchten Sie " + what + " per SMS an die Nummer " + t.phone(phone) + "?"
		default:
			q = "Möchten Sie " + what + " per " + by + "? Dann schreiben Sie mir bitte Ihre " + address + "."
		}
	default:
		return false
	}
	c.ConfirmOffer = o
	c.Step, c.Asking = StepConfirmOffer, nil
	if o.Address == "" {
		t.ask(q, "Nein, danke")
	} else {
		t.ask(q, "Ja", "Nein")
	}
	return true
}

// confirmWords say how the practice sends confirmations ("E-Mail oder SMS") and what
// address the patient is to type for them; both are empty when it sends none.
func (t *turn) confirmWords() (by, address string) {
	conf := t.e.Confirmations
	email, sms := conf.Sends(appointment.NotifyEmail), conf.Sends(appointment.NotifySMS)
	switch {
	case email && sms:
		return "E-Mail oder SMS", "E-Mail-Adresse oder Handynummer"
	case email:
		return "E-Mail", "E-Mail-Adresse"
	case sms:
		return "SMS", "Handynummer"
	}
	return "", ""
}

// knownEmail returns the e-mail address the patient last typed in the conversation.
func (t *turn) knownEmail() (string, bool) {
	for i := len(t.c.Turns) - 1; i >= 0; i-- {
		if tu := t.c.Turns[i]; tu.Who == Patient {
			if addr, ok := nlu.Email(tu.Text); ok {
				return addr, true
			}
		}
	}
	return "", false
}

// typedAddress reads an address for the confirmation from what the patient typed in the
// chat: an e-mail address or a German mobile number, on a channel the practice sends.
// When the text holds an address that cannot be taken, it says why in refusal.
func (t *turn) typedAddress() (channel, address, refusal string) {
	conf := t.e.Confirmations
	if email, ok := nlu.Email(t.text); ok {
		if conf.Sends(appointment.NotifyEmail) {
			return appointment.NotifyEmail, email, ""
		}
		return "", "", "Per E-Mail kann die Praxis leider keine Bestätigung senden."
	}
	// "Rufen Sie mich unter 0151 … zurück" is a wish for a callback, not for an SMS.
	if phone, ok := nlu.MobileE164(t.res.Slots.Phone); ok && t.res.Intent != nlu.Callback {
		if conf.Sends(appointment.NotifySMS) {
			return appointment.NotifySMS, phone, ""
		}
		return "", "", "Per SMS kann die Praxis leider keine Bestätigung senden."
	}
	// A new wish that holds a number ("rufen Sie mich unter 0421 … zurück") is no attempt
	// at an address: the offer lapses and the wish is taken.
	switch {
	case t.isRequest():
	case strings.Contains(t.text, "@"):
		return "", "", "Das ist leider keine gültige E-Mail-Adresse."
	case t.res.Slots.Phone != "":
		return "", "", "An diese Nummer kann ich leider keine SMS senden, nur an eine deutsche Handynummer."
	case reDigitsOnly.MatchString(t.text):
		return "", "", "Das ist leider keine gültige Handynummer."
	}
	return "", "", ""
}

// reDigitsOnly matches a text that can only be meant as a phone number.
var reDigitsOnly = regexp.MustCompile(`^\+?[\d /()-]*\d{3}[\d /()-]*$`)

// channelWords name the channels of confirmations as the patient reads them.
var channelWords = map[string]string{appointment.NotifyEmail: "E-Mail", appointment.NotifySMS: "SMS"}

// confirmAnswer takes the answer to the offer of a confirmation. Only an address typed in
// the chat, or a yes to the address offered, records the consent and sends; a no sends
// nothing. An address that cannot be taken is asked for once more. Anything else the
// patient says is taken as usual, and the offer lapses.
func (t *turn) confirmAnswer() bool {
	c := t.c
	o := c.ConfirmOffer
	if o == nil {
		return false
	}
	yes, no := isYes(t.fold), isNo(t.fold)
	var channel, address, refusal string
	if c.Channel == request.Chat {
		channel, address, refusal = t.typedAddress()
	}
	switch {
	case address != "":
		o.Channel, o.Address = channel, address
	case no:
		c.Misunderstood = 0
		t.queueWishes(false)
		t.say("Gut, dann ohne " + cmp.Or(channelWords[o.Channel], "Bestätigung") + ".")
		t.next()
		return true
	case refusal != "":
		c.Misunderstood = 0
		o.Invalid++
		t.say(refusal)
		_, what := t.confirmWords()
		if o.Invalid >= 2 {
			t.say("Dann sende ich Ihnen keine Bestätigung; Ihr Termin bleibt aber eingetragen.")
			t.next()
			return true
		}
		o.Channel, o.Address = "", ""
		t.ask("Schreiben Sie mir bitte Ihre "+what+" noch einmal.", "Nein, danke")
		return true
	case yes && o.Address != "":
	case c.Channel == request.Chat && (yes || reChannelWord.MatchString(t.fold) && !strings.Contains(t.text, "?")):
		// "Ja", "per E-Mail bitte": the address is still to come.
		c.Misunderstood = 0
		_, what := t.confirmWords()
		o.Channel, o.Address = "", ""
		t.ask("Gern. Schreiben Sie mir bitte Ihre "+what+".", "Nein, danke")
		return true
	default:
		return false
	}
	c.Misunderstood = 0
	t.queueWishes(address != "")
	by := channelWords[o.Channel]
	note := "Bestätigung und Erinnerung per " + by + " gewünscht."
	if err := t.e.Confirmations.Confirm(t.ctx, o.Booking, o.Channel, o.Address); err != nil {
		note = "Bestätigung und Erinnerung per " + by + " gewünscht; die Bestätigung konnte nicht gesendet werden."
		t.say("Die " + by + " konnte ich leider nicht senden. Ihr Termin bleibt aber eingetragen.")
	} else {
		t.say("Gern, die Bestätigung kommt gleich per " + by + ".")
	}
	for i := range c.Requests {
		if r := &c.Requests[i]; r.ID == o.Request {
			r.Details.Note = joinNote(r.Details.Note, note)
		}
	}
	t.next()
	return true
}

// queueWishes notes the wishes named along with the answer to an offer ("ja, und ich
// brauche noch ein Rezept"): they come next. With an address, a callback or a message is
// a weak cue ("schicken Sie sie an …"), as in moreWishes, and not taken.
func (t *turn) queueWishes(address bool) {
	for _, typ := range append([]request.Type{request.Type(t.res.Intent)}, t.moreWishes()...) {
		if typ.Valid() && !(address && (typ == request.Callback || typ == request.Message)) {
			t.queue(typ)
		}
	}
}

// emergency sends the caller to the 112 at once, and offers the team.
func (t *turn) emergency() {
	c := t.c
	cur := c.current()
	if cur == nil {
		cur = t.start(request.Message, false)
	}
	cur.Urgency = request.LifeThreatening
	cur.Details.Note = joinNote(cur.Details.Note, "Notfall geschildert: "+freeText(t.text))
	t.fill(cur, nil, false)
	if c.Channel == request.Chat {
		t.say("Rufen Sie bitte sofort die 112 an.")
	} else {
		t.say("Bitte legen Sie auf und wählen Sie sofort die 112.")
	}
	if t.res.Suicidal {
		t.say("Hilfe finden Sie auch bei der Telefonseelsorge 0800 111 0 111, rund um die Uhr.")
	}
	if n := t.e.Practice.EmergencyNote; n != "" {
		t.say(n)
	}
	c.Step, c.Asking = StepEmergency, nil
	if t.e.staffReachable(t.now) {
		t.ask("Wenn Sie möchten, verbinde ich Sie zusätzlich mit dem Praxisteam. Soll ich das tun?", "Ja", "Nein")
	} else {
		c.Question, c.Choices = "", nil
	}
	t.action = ActionEmergency
}

func (t *turn) emergencyAnswer() bool {
	switch {
	case isYes(t.fold) && t.e.staffReachable(t.now):
		t.transfer()
		return true
	case isNo(t.fold):
		t.say("Gut. Wenn es schlimmer wird, wählen Sie bitte sofort die 112.")
		t.next()
		return true
	}
	return false
}

// human hands over to the team, or takes a callback request when nobody is there.
func (t *turn) human() {
	if t.e.staffReachable(t.now) {
		t.transfer()
		return
	}
	t.say("Das Praxisteam ist gerade leider nicht erreichbar. Ich notiere gern einen Rückrufwunsch.")
	t.toCallback("Möchte mit dem Praxisteam sprechen.")
	t.next()
}

func (t *turn) transfer() {
	// The inbox shows that the caller was handed over (the team calls back if the
	// connection failed), not a conversation that ended without a wish.
	const note = "Wollte mit dem Praxisteam sprechen und wurde weitergeleitet; falls niemand das Gespräch übernommen hat, bitte zurückrufen."
	if cur := t.c.current(); cur != nil {
		cur.Details.Note = joinNote(cur.Details.Note, note)
	} else {
		t.start(request.Callback, false).Details.Note = note
	}
	if t.c.Channel == request.Chat {
		t.say("Einen Moment bitte, ich gebe Ihr Gespräch an das Praxisteam weiter.")
	} else {
		t.say("Einen Moment bitte, ich verbinde Sie mit dem Praxisteam.")
	}
	t.action, t.done = ActionTransfer, true
}

// toCallback turns the current request into a callback request with what is known, or
// starts one.
func (t *turn) toCallback(note string) {
	cur := t.c.current()
	switch {
	case cur == nil:
		cur = t.start(request.Callback, false)
	case cur.Type != request.Callback:
		note = joinNote("Ursprüngliches Anliegen: "+topic(cur)+".", note)
		cur.Type = request.Callback
	}
	cur.Details.Note = joinNote(cur.Details.Note, note)
}

// misunderstood apologises and asks again; the second time in a row it offers a callback.
func (t *turn) misunderstood() {
	c := t.c
	c.Misunderstood++
	c.Unclear = append(c.Unclear, freeText(t.text))
	if len(c.Unclear) > 2 {
		c.Unclear = c.Unclear[len(c.Unclear)-2:]
	}
	if c.Misunderstood >= 2 {
		if c.Step != StepCallbackOffer {
			c.Resume, c.ResumeQuestion = c.Step, c.Question
		}
		c.Step = StepCallbackOffer
		t.ask("Entschuldigung, ich habe Sie leider wieder nicht verstanden. Soll Sie jemand aus dem Praxisteam zurückrufen?", "Ja", "Nein")
		return
	}
	t.say("Entschuldigung, das habe ich nicht verstanden.")
	if c.Step == StepWish || c.Question == "" {
		c.Step = StepWish
		t.ask("Sagen Sie mir bitte, worum es geht, zum Beispiel um einen Termin, ein Rezept, eine Überweisung oder eine Krankschreibung.")
		return
	}
	t.reask()
}

func (t *turn) callbackAnswer() bool {
	c := t.c
	switch {
	case isYes(t.fold):
		note := "Rückruf angeboten, weil der Assistent das Anliegen nicht verstanden hat"
		if len(c.Unclear) > 0 {
			note += ": „" + strings.Join(c.Unclear, "“, „") + "“"
		}
		t.toCallback(note + ".")
		c.Misunderstood, c.Unclear = 0, nil
		t.say("Gern.")
		t.next()
		return true
	case isNo(t.fold):
		c.Misunderstood = 0
		t.say("Gut, versuchen wir es noch einmal.")
		c.Step = c.Resume
		if c.Step == "" || c.Step == StepCallbackOffer {
			c.Step = StepWish
		}
		c.Question = c.ResumeQuestion
		if c.Question == "" {
			c.Question = "Was kann ich für Sie tun?"
		}
		t.reask()
		return true
	}
	return false
}

// advice refuses medical advice; the question goes to the doctor as a note or message.
func (t *turn) advice() {
	c := t.c
	t.say("Dazu darf ich Ihnen leider keine medizinische Auskunft geben, das kann nur die Ärztin oder der Arzt beurteilen.")
	if cur := c.current(); cur != nil {
		cur.Details.Note = joinNote(cur.Details.Note, "Frage an die Ärztin oder den Arzt: "+freeText(t.text))
		t.say("Ich notiere Ihre Frage für die Praxis.")
		t.reask()
		return
	}
	c.Advice = freeText(t.text)
	c.Step = StepAdviceOffer
	t.ask("Soll ich Ihre Frage als Nachricht an die Praxis weitergeben, oder möchten Sie lieber einen Rückruf?", "Nachricht", "Rückruf", "Nein, danke")
}

func (t *turn) adviceAnswer() bool {
	c := t.c
	var typ request.Type
	switch {
	case isNo(t.fold):
		c.Advice = ""
		c.Step = StepWish
		t.ask("Kann ich sonst noch etwas für Sie tun?")
		return true
	case reCallbackWord.MatchString(t.fold):
		typ = request.Callback
	case strings.Contains(t.fold, "nachricht") || isYes(t.fold):
		typ = request.Message
	default:
		return false
	}
	r := t.start(typ, false)
	if typ == request.Message {
		r.Details.Note = c.Advice
	} else {
		r.Details.Note = "Frage an die Ärztin oder den Arzt: " + c.Advice
	}
	c.Advice = ""
	t.fill(r, nil, false)
	t.say("Gern.")
	t.next()
	return true
}

// silence repeats the last question; after three silent turns the call ends.
func (t *turn) silence() {
	c := t.c
	c.Silent++
	if c.Silent >= 3 {
		t.say("Ich höre Sie leider nicht.")
		t.end()
		return
	}
	if c.Channel == request.Chat {
		t.say("Ich habe keine Nachricht erhalten.")
	} else {
		t.say("Ich habe Sie leider nicht gehört.")
	}
	t.reask()
}

// end says goodbye; open requests stay with what was said.
func (t *turn) end() {
	if cur := t.c.current(); cur != nil && cur.HasData() {
		t.say("Ich gebe Ihr Anliegen mit den bisherigen Angaben an das Praxisteam weiter.")
	}
	switch {
	case t.e.Practice.Closing != "":
		t.say(t.e.Practice.Closing)
	case t.c.Channel == request.Chat:
		t.say("Vielen Dank. Auf Wiedersehen!")
	default:
		t.say("Vielen Dank für Ihren Anruf. Auf Wiederhören!")
	}
	t.action, t.done = ActionEnd, true
}
