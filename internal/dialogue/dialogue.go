// Package dialogue is the conversation manager of the Rezeption: one deterministic state
// machine per conversation, on the phone or in the website chat, that understands each
// turn (package nlu), collects what the patient's Anliegen needs and leaves it as requests
// for the practice team. It does no I/O; callers persist the Conversation after every turn.
package dialogue

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/llm"
	"github.com/tresen/tresen/internal/nlu"
	"github.com/tresen/tresen/internal/request"
)

// Speaker is who said a turn.
type Speaker string

const (
	Patient   Speaker = "patient"
	Assistant Speaker = "assistant"
)

// Turn is one utterance of the transcript.
type Turn struct {
	Who  Speaker   `json:"who"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Step is what the conversation waits for.
type Step string

const (
	StepWish          Step = "wish"           // what the patient wants
	StepCollect       Step = "collect"        // an answer to a question about the current request
	StepReadBack      Step = "read_back"      // yes or a correction to what was read back
	StepCorrect       Step = "correct"        // what to correct, after a bare "nein"
	StepOffer         Step = "offer"          // a choice among the offered appointments
	StepCallbackOffer Step = "callback_offer" // yes or no to a callback, after misunderstandings
	StepAdviceOffer   Step = "advice_offer"   // message or callback, after medical advice was refused
	StepEmergency     Step = "emergency"      // yes or no to a transfer, after the 112 was named
	StepConfirmOffer  Step = "confirm_offer"  // an address, yes or no to a confirmation, after a booking
	StepEnded         Step = "ended"
)

// Conversation is one call or chat: its transcript, the requests it produced (the current
// one last) and the state of the dialogue. It is plain data, so that the store can persist
// it after every turn and any node can carry it on.
type Conversation struct {
	ID       string            `json:"id"`
	Channel  request.Channel   `json:"channel"`
	Turns    []Turn            `json:"turns"`
	Requests []request.Request `json:"requests"`

	Step Step `json:"step"`
	// Asking is what the last question asked for.
	Asking []request.Field `json:"asking,omitempty"`
	// Question and Choices are the last question, repeated on "wie bitte" and silence.
	Question string   `json:"question,omitempty"`
	Choices  []string `json:"choices,omitempty"`
	// Offers are the appointments offered and not yet chosen.
	Offers []Offer `json:"offers,omitempty"`
	// Pending are further wishes the patient named, taken up after the current request.
	Pending []request.Type `json:"pending,omitempty"`
	// Known is the patient data given so far; each new request starts with it.
	Known request.Patient `json:"known"`
	// Caller is the number a call comes from, as the phone line reported it; empty on
	// other channels and for withheld numbers. Known.Phone starts with it, but the caller
	// may name another number for a callback.
	Caller string `json:"caller,omitempty"`
	// ConfirmOffer is the appointment just booked whose confirmation was offered, while the
	// answer is awaited.
	ConfirmOffer *ConfirmOffer `json:"confirm_offer,omitempty"`
	// Misunderstood counts misunderstood turns in a row; Unclear keeps their text for the
	// team.
	Misunderstood int      `json:"misunderstood,omitempty"`
	Unclear       []string `json:"unclear,omitempty"`
	// Silent counts turns in a row without speech.
	Silent int `json:"silent,omitempty"`
	// Resume is the step and question to return to when a callback offer is declined.
	Resume         Step   `json:"resume,omitempty"`
	ResumeQuestion string `json:"resume_question,omitempty"`
	// Advice is a medical question the assistant refused to answer, kept for a message.
	Advice string `json:"advice,omitempty"`
	// Hinted116117 is set once the Bereitschaftsdienst was named.
	Hinted116117 bool `json:"hinted_116117,omitempty"`
	Ended        bool `json:"ended,omitempty"`

	// Model is the conversation as the language model sees it (caller turns, its proposals,
	// the engine's tool results), without the system instructions; empty without LLM mode.
	Model []llm.Message `json:"model,omitempty"`
	// Searched is set once the model looked for free appointments.
	Searched bool `json:"searched,omitempty"`
	// Fallback says why the deterministic engine took over from the model (Fallback…);
	// from then on it answers every turn.
	Fallback string `json:"fallback,omitempty"`
}

// current returns the request being collected, or nil.
func (c *Conversation) current() *request.Request {
	if n := len(c.Requests); n > 0 && c.Requests[n-1].Status == request.Open {
		return &c.Requests[n-1]
	}
	return nil
}

// Close ends the conversation: requests still being collected are kept as incomplete,
// with whatever the patient said, and flagged when who they are for is unclear; so are the
// further wishes named but not yet taken up. A caller who gave data but named no wish
// still leaves a request (a callback). Close is idempotent.
func (c *Conversation) Close(now time.Time) {
	for _, typ := range c.Pending {
		if slices.ContainsFunc(c.Requests, func(r request.Request) bool { return r.Type == typ }) {
			continue
		}
		r := request.New(c.requestID(), typ, c.Channel, now)
		r.Patient = c.Known
		r.Status = request.Incomplete
		r.Details.Note = "Gespräch endete, bevor dieses Anliegen aufgenommen war."
		c.Requests = append(c.Requests, r)
	}
	for i := range c.Requests {
		r := &c.Requests[i]
		if r.Status == request.Open {
			r.Status = request.Incomplete
		}
		if r.Status == request.Incomplete && patientUnclear(r) {
			r.PatientUnclear = true
		}
	}
	if len(c.Requests) == 0 && c.Known != (request.Patient{}) {
		r := request.New(c.requestID(), request.Callback, c.Channel, now)
		r.Patient = c.Known
		r.Status = request.Incomplete
		r.Details.Note = "Gespräch endete, bevor ein Anliegen genannt wurde."
		r.PatientUnclear = patientUnclear(&r)
		c.Requests = append(c.Requests, r)
	}
	c.Ended, c.Step = true, StepEnded
	c.Asking, c.Offers, c.Pending, c.Question, c.Choices = nil, nil, nil, "", nil
	c.ConfirmOffer = nil
}

// patientUnclear reports whether the team must check who a request is for: the name or
// a birth date the type needs is missing.
func patientUnclear(r *request.Request) bool {
	if r.Patient.Name == "" {
		return true
	}
	for _, f := range r.Type.Needs() {
		if f == request.FieldBirthDate && r.Patient.BirthDate == "" {
			return true
		}
	}
	return false
}

func (c *Conversation) requestID() string {
	return c.ID + "-" + strconv.Itoa(len(c.Requests)+1)
}

// Practice is what the assistant may tell about the practice, and whether its team can
// take a call.
type Practice struct {
	Name         string
	OpeningHours string // spoken as written: "Montag bis Freitag von 8 bis 12 Uhr …"
	Address      string
	Phone        string
	// FAQ answers questions by topic; see the FAQ… keys.
	FAQ     map[string]string
	Doctors []string // surnames
	// StaffReachable reports whether someone of the team can take a transferred call or
	// chat now; nil means never.
	StaffReachable func(time.Time) bool
	// Open reports whether the practice is open now; nil means closed, so that an urgent
	// caller always hears of the Bereitschaftsdienst.
	Open func(time.Time) bool
	// Greeting replaces the first sentence of the greeting ("Guten Tag, willkommen bei …");
	// the assistant still says what it is and that emergencies go to the 112.
	Greeting string
	// Closing replaces the goodbye.
	Closing string
	// EmergencyNote is said after the 112 in an emergency (e.g. the practice's own
	// emergency arrangements).
	EmergencyNote string
	// Types are the request types the assistant takes; nil: all. Callbacks and messages it
	// always takes: any other wish becomes a callback request.
	Types []request.Type
}

// Takes reports whether the assistant takes requests of a type.
func (p *Practice) Takes(typ request.Type) bool {
	return p.Types == nil || typ == request.Callback || typ == request.Message || slices.Contains(p.Types, typ)
}

// Keys of Practice.FAQ.
const (
	FAQParking       = "parking"
	FAQAccessibility = "accessibility"
	FAQInsurances    = "insurances"
	FAQServices      = "services"
	FAQDirections    = "directions"
)

// Offer is a free appointment the assistant can offer.
type Offer struct {
	ID     string    `json:"id"`
	Start  time.Time `json:"start"`
	Doctor string    `json:"doctor,omitempty"` // surname
	// Text is how to offer it; empty, the engine says day, time and doctor.
	Text string `json:"text,omitempty"`
}

// Slots finds and books appointments (the appointments package implements it).
type Slots interface {
	// Find returns free appointments that suit the request's wishes (date, time, daypart,
	// doctor), the best first.
	Find(ctx context.Context, r request.Request, now time.Time) ([]Offer, error)
	// Book books the offer for the request and returns the calendar's id of the booking
	// ("" when the calendar names none); an error of kind errs.Conflict means it was taken
	// meanwhile.
	Book(ctx context.Context, r request.Request, o Offer) (string, error)
}

// Confirmations sends a patient who agrees to it a confirmation of an appointment the
// assistant booked, and later its reminder, by e-mail or SMS (package calendar implements
// it with the practice's mail server and SMS gateway).
type Confirmations interface {
	// Sends reports whether the practice sends messages on channel (appointment.NotifyEmail
	// or appointment.NotifySMS).
	Sends(channel string) bool
	// Confirm records on the booking (an id Slots.Book returned) the patient's consent to
	// messages on channel to address, an e-mail address or a mobile number in E.164, and
	// then sends the confirmation. The consent is recorded before anything is sent. Its
	// errors do not name the address.
	Confirm(ctx context.Context, booking, channel, address string) error
	// Reminds reports whether an appointment at start, agreed to at now, still gets its
	// reminder (a day before): the offer promises one only then.
	Reminds(start, now time.Time) bool
}

// ConfirmOffer is an appointment booked in the conversation whose confirmation the
// assistant offered: to an address it knows, to be answered yes or no, or, in the chat,
// to one the patient types.
type ConfirmOffer struct {
	Request string `json:"request"` // the id of the appointment request
	Booking string `json:"booking"` // the calendar's id of the appointment
	// Channel and Address are the address offered (appointment.NotifyEmail and an e-mail
	// address, or appointment.NotifySMS and a mobile number in E.164); empty when the
	// patient was asked to type one.
	Channel string `json:"channel,omitempty"`
	Address string `json:"address,omitempty"`
	// Invalid counts the addresses typed that could not be taken: after the second the
	// assistant goes on without a confirmation.
	Invalid int `json:"invalid,omitempty"`
}

// Action tells the channel what to do besides saying the reply.
type Action string

const (
	ActionNone      Action = "none"
	ActionTransfer  Action = "transfer"  // hand the call or chat to the practice team
	ActionEmergency Action = "emergency" // the caller was sent to the 112
	ActionEnd       Action = "end"       // say goodbye and hang up or close the chat
)

// Reply is what the assistant answers to one turn.
type Reply struct {
	Text    string   `json:"text"`
	Choices []string `json:"choices,omitempty"` // quick replies: offered slots, ja/nein
	Action  Action   `json:"action"`
	Done    bool     `json:"done,omitempty"` // the conversation has ended
}

// Engine holds conversations for one practice. It keeps no state of its own, so one
// Engine serves any number of conversations at once.
type Engine struct {
	NLU      *nlu.Understander
	Practice Practice
	Slots    Slots // nil: appointment wishes go to the team
	// Confirmations, when set, is how the practice sends confirmations: after a booking the
	// assistant offers a confirmation and a reminder, by SMS to a caller's mobile number,
	// in the chat by e-mail or SMS to an address the patient gives. nil: the practice sends
	// none, and the assistant offers none.
	Confirmations Confirmations
	// Model, when set, is the practice's language model (LLM mode); the deterministic
	// engine answers when it fails. See model.go.
	Model llm.Model
	Now   func() time.Time
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) understand(text string, now time.Time) nlu.Result {
	u := e.NLU
	if u == nil {
		u = &nlu.Understander{Doctors: e.Practice.Doctors}
	}
	return u.Understand(text, now)
}

func (e *Engine) staffReachable(now time.Time) bool {
	return e.Practice.StaffReachable != nil && e.Practice.StaffReachable(now)
}

func (e *Engine) open(now time.Time) bool {
	return e.Practice.Open != nil && e.Practice.Open(now)
}

// Start greets the patient: it names the practice and says that an automated assistant
// answers.
func (e *Engine) Start(c *Conversation) Reply {
	now := e.now()
	if c.Channel == "" {
		c.Channel = request.Phone
	}
	t := &turn{e: e, c: c, now: now}
	name := e.Practice.Name
	greeting := e.Practice.Greeting
	if c.Channel == request.Chat {
		t.say(cmp.Or(greeting, "Guten Tag, willkommen bei "+name+"."))
		t.say("Ich bin der digitale Assistent der Praxis. Ich helfe Ihnen bei Terminen, Rezepten, Überweisungen und anderen Anliegen. In einem Notfall rufen Sie bitte sofort die 112 an.")
	} else {
		t.say(cmp.Or(greeting, "Guten Tag, Sie sind verbunden mit "+name+"."))
		t.say("Hier spricht der automatische Telefonassistent der Praxis. In einem Notfall legen Sie bitte auf und wählen die 112.")
	}
	c.Step = StepWish
	t.ask("Was kann ich für Sie tun?")
	return t.finish()
}

// Handle answers one turn of the patient; text is what they typed or said (a transcript),
// empty for silence.
func (e *Engine) Handle(ctx context.Context, c *Conversation, text string) Reply {
	now := e.now()
	if c.Ended {
		return Reply{Text: "Dieses Gespräch ist bereits beendet.", Action: ActionEnd, Done: true}
	}
	if c.Channel == "" {
		c.Channel = request.Phone
	}
	if c.Step == "" {
		c.Step = StepWish
	}
	text, cut := clean(text)
	c.Turns = append(c.Turns, Turn{Who: Patient, Text: text, At: now})
	t := &turn{e: e, c: c, ctx: ctx, now: now, text: text, fold: fold(text)}
	if cut {
		t.say("Ihre Nachricht war sehr lang, ich habe nur den Anfang gelesen.")
	}
	if e.Model != nil && c.Fallback == "" {
		t.modelTurn()
	} else {
		t.handle()
	}
	return t.finish()
}

// clean makes outside input safe to keep and read: valid UTF-8 without control or
// formatting characters, cut at nlu.MaxInput.
func clean(s string) (string, bool) {
	cut := false
	if len(s) > nlu.MaxInput {
		n := nlu.MaxInput
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r) || unicode.IsSpace(r):
			return ' '
		case unicode.Is(unicode.Cf, r) || r == utf8.RuneError:
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " "), cut
}
