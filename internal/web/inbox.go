package web

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/dialogue"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/events"
	"github.com/tresen/tresen/internal/inbox"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
)

const inboxTitle = "Posteingang"

// Labels of the inbox pages.
var (
	handlingLabels = map[string]string{request.HandlingNew: "neu", request.HandlingAssigned: "in Bearbeitung",
		request.HandlingDone: "erledigt"}
	channelLabels = map[request.Channel]string{request.Phone: "Telefon", request.Chat: "Online-Rezeption"}
	matchLabels   = map[string]string{"matched": "Patientenakte zugeordnet", "ambiguous": "mehrere Patienten passen",
		"weak": "nur unsichere Übereinstimmung", "new": "neue Patientin oder neuer Patient", "unchecked": "Praxissystem nicht erreichbar"}
	insuranceLabels = map[string]string{"gkv": "gesetzlich", "pkv": "privat", "self": "Selbstzahler"}
	daypartLabels   = map[string]string{"morning": "vormittags", "afternoon": "nachmittags", "evening": "abends", "any": "egal"}
)

// inboxItem is one request as the list and the detail page show it.
type inboxItem struct {
	ID       string
	Type     string
	What     string // the summary's first line
	Who      string // its second line
	Channel  string
	At       time.Time
	Status   string // the handling status
	State    string // its label
	Assignee string // the name of who handles it
	Urgency  string // "life_threatening", "urgent", "escalated" or ""
	Unclear  bool
	// Collecting: the assistant is still talking with the patient.
	Collecting bool
	Incomplete bool
}

func (s *Server) inboxItem(it inbox.Item, names map[string]string) inboxItem {
	what, who, _ := strings.Cut(it.Request.Summary(), "\n")
	v := inboxItem{ID: it.RecordID, Type: it.Request.Type.Label(), What: what, Who: who,
		Channel: channelLabels[it.Request.Channel], At: it.Request.CreatedAt, Status: it.Handling.Status,
		State: handlingLabels[it.Handling.Status], Assignee: names[it.Handling.Assignee],
		Urgency: string(it.Request.Urgency), Unclear: it.Request.PatientUnclear,
		Collecting: it.Request.Status == request.Open, Incomplete: it.Request.Status == request.Incomplete}
	if v.Urgency == "" && it.Urgent() {
		v.Urgency = "escalated"
	}
	return v
}

// userNames maps the tenant's user ids to their names.
func (s *Server) userNames(ctx context.Context, tenantID string) (map[string]string, []choice, error) {
	users, err := s.db.ListUsers(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	var team []choice
	for _, u := range users {
		names[u.ID] = cmp.Or(u.Name, u.Username)
		if u.Role.CanWrite() {
			team = append(team, choice{Value: u.ID, Label: names[u.ID]})
		}
	}
	return names, team, nil
}

// inboxFilters are the list's filters as the query holds them.
type inboxFilters struct {
	Type, Status, Channel, Doctor string
	Mine                          bool
}

type inboxData struct {
	Filters  inboxFilters
	Items    []inboxItem
	Counts   inbox.Counts
	Types    []choice
	Statuses []choice
	Channels []choice
	Doctors  []choice
}

// handleInbox lists the practice's requests: urgent ones first, then the newest.
func (s *Server) handleInbox(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := inboxFilters{Type: q.Get("type"), Status: q.Get("status"), Channel: q.Get("channel"), Doctor: q.Get("doctor"), Mine: q.Get("mine") == "1"}
	if !q.Has("status") {
		f.Status = inbox.Waiting
	}
	filter := inbox.Filter{Type: request.Type(f.Type), Status: f.Status, Channel: request.Channel(f.Channel), Doctor: f.Doctor}
	if f.Status == "all" {
		filter.Status = ""
	}
	if f.Mine {
		filter.Assignee = sessionFrom(r.Context()).User.ID
	}
	items, counts, err := s.inbox.List(r.Context(), t.ID, filter)
	if err != nil {
		return err
	}
	names, _, err := s.userNames(r.Context(), t.ID)
	if err != nil {
		return err
	}
	d := inboxData{Filters: f, Counts: counts}
	for _, it := range items {
		d.Items = append(d.Items, s.inboxItem(it, names))
	}
	for _, typ := range request.Types {
		d.Types = append(d.Types, choice{Value: string(typ), Label: typ.Label(), Checked: f.Type == string(typ)})
	}
	for _, st := range []choice{{Value: inbox.Waiting, Label: "offen (neu und in Bearbeitung)"}, {Value: inbox.Urgent, Label: "dringend"},
		{Value: request.HandlingNew, Label: "neu"}, {Value: request.HandlingAssigned, Label: "in Bearbeitung"},
		{Value: request.HandlingDone, Label: "erledigt"}, {Value: "all", Label: "alle"}} {
		st.Checked = f.Status == st.Value
		d.Statuses = append(d.Statuses, st)
	}
	for _, ch := range []request.Channel{request.Phone, request.Chat} {
		d.Channels = append(d.Channels, choice{Value: string(ch), Label: channelLabels[ch], Checked: f.Channel == string(ch)})
	}
	sched, _, err := s.schedule(r.Context(), t.ID)
	if err != nil {
		return err
	}
	for _, res := range sched.Resources {
		if res.Kind == appointment.Doctor {
			name := cmp.Or(res.Surname, surname(res.Name))
			d.Doctors = append(d.Doctors, choice{Value: name, Label: res.Name, Checked: f.Doctor == name})
		}
	}
	if r.Header.Get("HX-Request") == "true" {
		// The live list reloads only its part.
		s.renderPart(w, r, http.StatusOK, "inbox", "inbox-list", page{Title: inboxTitle, Data: d})
		return nil
	}
	s.render(w, r, http.StatusOK, "inbox", page{Title: inboxTitle, Data: d})
	return nil
}

// surname is the last word of a doctor's name ("Dr. Anna Weber" → "Weber"), as the
// assistant records it.
func surname(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// field is a labelled value of the detail page.
type field struct{ Label, Value string }

// turn is a line of the transcript.
type turn struct {
	Who  string // "Patient", "Assistent", "Praxisteam"
	Kind string // patient, assistant, staff
	Text string
	At   time.Time
}

// note is a team note as the page shows it.
type note struct {
	By        string
	At        time.Time
	Text      string
	ToPatient bool
}

type inboxDetail struct {
	Item      inboxItem
	Fields    []field
	Summary   string
	Match     string
	Phone     string // for the tel: link, E.164
	Escalated bool
	Notes     []note
	Team      []choice
	Me        string
	Turns     []turn
	// ChatOpen: the patient is still in the website chat and reads replies there.
	ChatOpen bool
	// BookLink opens the calendar's finder for this patient and wish.
	BookLink string
	Back     string
	Reports  []store.Report // problem reports on the request, without their data
	Now      time.Time
	// Audio: the call was recorded; the page plays it from /inbox/{id}/audio.
	Audio bool
}

// handleInboxDetail shows one request with its data, transcript and the team's notes.
func (s *Server) handleInboxDetail(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	it, err := s.inbox.Get(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.inboxDetailPage(w, r, t, it, http.StatusOK, page{})
}

func (s *Server) inboxDetailPage(w http.ResponseWriter, r *http.Request, t tenant.Tenant, it inbox.Item, status int, p page) error {
	ctx := r.Context()
	names, team, err := s.userNames(ctx, t.ID)
	if err != nil {
		return err
	}
	rq := it.Request
	d := inboxDetail{Item: s.inboxItem(it, names), Summary: rq.Summary(), Match: matchLabels[rq.Match], Phone: rq.Patient.Phone,
		Escalated: it.Handling.Escalated, Team: team, Me: sessionFrom(ctx).User.ID, Back: "/inbox"}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Path == "/inbox" && ref.Host == r.Host {
		d.Back = "/inbox?" + ref.RawQuery
	}
	add := func(label, v string) {
		if v != "" {
			d.Fields = append(d.Fields, field{label, v})
		}
	}
	add("Anliegen", rq.Type.Label())
	add("Name", rq.Patient.Name)
	if rq.Patient.BirthDate != "" {
		add("Geburtsdatum", dayText(rq.Patient.BirthDate))
	}
	add("Telefon", rq.Patient.Phone)
	add("Versicherung", insuranceLabels[rq.Patient.Insurance])
	add("Versichertennummer", rq.Patient.KVNR)
	add("Medikament", rq.Details.Medication)
	if rq.Details.Date != "" {
		add("Datum", dayText(rq.Details.Date))
	}
	add("Uhrzeit", rq.Details.Time)
	add("Tageszeit", daypartLabels[rq.Details.Daypart])
	add("Ärztin/Arzt", rq.Details.Doctor)
	add("Grund", rq.Details.Reason)
	add("Nachricht", rq.Details.Note)
	if rq.Details.SlotID != "" {
		add("Termin", "vom Assistenten gebucht")
	}
	for _, n := range it.Handling.Notes {
		d.Notes = append(d.Notes, note{By: cmp.Or(names[n.By], "ehemaliges Teammitglied"), At: n.At, Text: n.Text, ToPatient: n.ToPatient})
	}
	if conv := it.Conversation(); conv != "" {
		c, err := s.conversations.Conversation(ctx, t.ID, conv)
		switch {
		case errs.Is(err, errs.NotFound):
			// The transcript was purged or erased before the request.
		case err != nil:
			return err
		default:
			d.Turns = transcript(c, it.Handling.Notes, names)
			d.ChatOpen = c.Channel == request.Chat && !c.Ended
			if c.Channel == request.Phone {
				if d.Audio, err = s.hasAudio(ctx, t.ID, conv); err != nil {
					return err
				}
			}
		}
	}
	if rq.Type == request.AppointmentBook || rq.Type == request.AppointmentReschedule {
		if d.BookLink, err = s.bookLink(ctx, t.ID, rq); err != nil {
			return err
		}
	}
	if d.Reports, err = s.reportsOf(ctx, t.ID, it.RecordID); err != nil {
		return err
	}
	d.Now = s.db.Now()
	p.Title, p.Data = rq.Type.Label(), d
	s.render(w, r, status, "inbox_detail", p)
	return nil
}

// transcript merges the conversation with the team's replies to the patient.
func transcript(c dialogue.Conversation, notes []request.Note, names map[string]string) []turn {
	var out []turn
	for _, tu := range c.Turns {
		switch tu.Who {
		case dialogue.Patient:
			out = append(out, turn{Who: "Patient", Kind: "patient", Text: tu.Text, At: tu.At})
		default:
			out = append(out, turn{Who: "Assistent", Kind: "assistant", Text: tu.Text, At: tu.At})
		}
	}
	for _, n := range notes {
		if n.ToPatient {
			out = append(out, turn{Who: "Praxisteam (" + cmp.Or(names[n.By], "ehemals") + ")", Kind: "staff", Text: n.Text, At: n.At})
		}
	}
	slices.SortStableFunc(out, func(a, b turn) int { return a.At.Compare(b.At) })
	return out
}

// bookLink opens the calendar's finder of free slots with the patient's name, the wished
// day and doctor; the team books with one click there.
func (s *Server) bookLink(ctx context.Context, tenantID string, rq request.Request) (string, error) {
	sched, configured, err := s.schedule(ctx, tenantID)
	if err != nil || !configured || len(sched.Types) == 0 {
		return "", err
	}
	q := url.Values{"find_name": {rq.Patient.Name}, "find_type": {sched.Types[0].ID}}
	for _, typ := range sched.Types {
		if typ.Assistant && !typ.Acute {
			q.Set("find_type", typ.ID)
			break
		}
	}
	if rq.Details.Doctor != "" {
		for _, res := range sched.Resources {
			if res.Kind == appointment.Doctor && strings.EqualFold(cmp.Or(res.Surname, surname(res.Name)), rq.Details.Doctor) {
				q.Set("find_doctor", res.ID)
			}
		}
	}
	if day, err := time.ParseInLocation(time.DateOnly, rq.Details.Date, berlin.Location); err == nil && !day.Before(midnight(s.db.Now())) {
		q.Set("day", rq.Details.Date)
	}
	return "/calendar?" + q.Encode(), nil
}

func dayText(iso string) string {
	if t, err := time.Parse(time.DateOnly, iso); err == nil {
		return t.Format("02.01.2006")
	}
	return iso
}

// handleInboxAction assigns, closes, reopens, escalates or annotates a request, or replies
// to the patient in the open chat.
func (s *Server) handleInboxAction(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("id")
	c := inbox.Change{Action: r.PathValue("action"), UserID: sessionFrom(ctx).User.ID,
		Assignee: r.PostFormValue("assignee"), Text: r.PostFormValue("text")}
	if c.Assignee != "" {
		names, _, err := s.userNames(ctx, t.ID)
		if err != nil {
			return err
		}
		if _, ok := names[c.Assignee]; !ok {
			return errs.Field("assignee", "Unbekanntes Teammitglied.")
		}
	}
	if c.Action == inbox.Reply {
		it, err := s.inbox.Get(ctx, t.ID, id)
		if err != nil {
			return err
		}
		conv, err := s.conversations.Conversation(ctx, t.ID, it.Conversation())
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		if err != nil || conv.Channel != request.Chat || conv.Ended {
			return s.inboxDetailPage(w, r, t, it, http.StatusConflict,
				page{Error: "Der Chat ist beendet: die Antwort erreicht die Patientin oder den Patienten dort nicht mehr. Bitte rufen Sie zurück."})
		}
	}
	it, err := s.inbox.Apply(ctx, t.ID, id, c)
	if errs.Is(err, errs.Invalid) {
		it, gerr := s.inbox.Get(ctx, t.ID, id)
		if gerr != nil {
			return gerr
		}
		return s.inboxDetailPage(w, r, t, it, http.StatusUnprocessableEntity, page{Error: fieldMessage(err)})
	}
	if err != nil {
		return err
	}
	notice := map[string]string{inbox.Assign: "Zugewiesen.", inbox.Unassign: "Zuweisung aufgehoben.", inbox.Done: "Als erledigt markiert.",
		inbox.Reopen: "Wieder geöffnet.", inbox.Note: "Notiz gespeichert.", inbox.Reply: "Antwort an die Patientin oder den Patienten gesendet.",
		inbox.Escalate: "Als dringend markiert.", inbox.Deescalate: "Nicht mehr als dringend markiert."}[c.Action]
	return s.inboxDetailPage(w, r, t, it, http.StatusOK, page{Notice: notice})
}

// handleInboxEvents tells the open inbox of new and changed requests (server-sent events)
// so that it reloads its list; the events carry only ids and urgency, no health data.
func (s *Server) handleInboxEvents(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	if s.events == nil {
		return errs.E(errs.NotFound, "Live-Aktualisierung ist nicht eingerichtet.")
	}
	rc := http.NewResponseController(w)
	// The stream outlives the server's write timeout; it ends with the client or a
	// shutdown.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		return err
	}
	evs, cancel := s.events.Subscribe(t.ID)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// retry: how long the browser waits before reconnecting after a lost connection.
	fmt.Fprint(w, "retry: 3000\n: Posteingang\n\n")
	if err := rc.Flush(); err != nil {
		return nil
	}
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-evs:
			if e.Kind != events.Request {
				continue
			}
			fmt.Fprintf(w, "event: request\ndata: {\"id\":%q,\"urgent\":%t}\n\n", e.ID, e.Urgent)
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// hasAudio reports whether a conversation was recorded, without reading the recording.
func (s *Server) hasAudio(ctx context.Context, tenantID, conversation string) (bool, error) {
	kind := retention.CallAudio
	recs, err := s.db.ListRecords(ctx, tenantID, store.RecordFilter{Kind: &kind, Lookup: &conversation, Limit: 1})
	return len(recs) > 0, err
}

// handleInboxAudio plays a call's recording; the store audits the reading.
func (s *Server) handleInboxAudio(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	it, err := s.inbox.Get(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	wav, err := s.conversations.Audio(r.Context(), t.ID, it.Conversation())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "anruf.wav", time.Time{}, bytes.NewReader(wav))
	return nil
}
