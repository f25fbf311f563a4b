package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/inbox"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
)

// reportCopy is what a problem report shares with support: the request, its
// conversation and its technical log, plus what the team describes. The team sees exactly
// this before it confirms.
type reportCopy struct {
	Description  string          `json:"description,omitempty"`
	Request      request.Request `json:"request"`
	Handling     string          `json:"handling"`
	Conversation *struct {
		Channel request.Channel `json:"channel"`
		Ended   bool            `json:"ended"`
		Step    string          `json:"step"`
		Turns   []reportTurn    `json:"turns"`
	} `json:"conversation,omitempty"`
	// Log is the audit trail of the request and its conversation: what was stored and
	// changed when, by whom (user ids), without client addresses and without reads.
	Log []reportLogEntry `json:"log"`
	// LLM tells whether the practice had its language model switched on.
	LLM bool `json:"llm"`
}

type reportTurn struct {
	Who  string    `json:"who"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

type reportLogEntry struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	Object string    `json:"object"`
	ID     string    `json:"id"`
	Actor  string    `json:"actor"`
	Detail string    `json:"detail,omitempty"`
}

// maxDescription bounds the team's description of a problem, in characters.
const maxDescription = 4000

// reportLogLimit bounds how many audit entries are searched for the log.
const reportLogLimit = 5000

// buildReport gathers what a report on an item would share, without the description.
func (s *Server) buildReport(ctx context.Context, tenantID string, it inbox.Item) (reportCopy, error) {
	c := reportCopy{Request: it.Request, Handling: it.Handling.Status, Log: []reportLogEntry{}}
	ids := map[string]bool{it.RecordID: true}
	if id := it.Conversation(); id != "" {
		conv, err := s.conversations.Conversation(ctx, tenantID, id)
		switch {
		case errs.Is(err, errs.NotFound):
		case err != nil:
			return c, err
		default:
			ids[id] = true
			c.Conversation = &struct {
				Channel request.Channel `json:"channel"`
				Ended   bool            `json:"ended"`
				Step    string          `json:"step"`
				Turns   []reportTurn    `json:"turns"`
			}{Channel: conv.Channel, Ended: conv.Ended, Step: string(conv.Step)}
			for _, t := range conv.Turns {
				c.Conversation.Turns = append(c.Conversation.Turns, reportTurn{Who: string(t.Who), Text: t.Text, At: t.At})
			}
		}
	}
	entries, err := s.db.ListAudit(ctx, tenantID, store.AuditFilter{Limit: reportLogLimit})
	if err != nil {
		return c, err
	}
	for i := len(entries) - 1; i >= 0; i-- { // oldest first
		e := entries[i]
		// Reads are left out: every look at the request (this one too) adds one.
		if ids[e.ObjectID] && e.Action != audit.Read && e.Action != audit.SupportAccess {
			c.Log = append(c.Log, reportLogEntry{At: e.At, Action: string(e.Action), Object: e.ObjectType, ID: e.ObjectID, Actor: e.Actor, Detail: e.Detail})
		}
	}
	ls, err := s.db.LLMSettings(ctx, tenantID)
	if err != nil {
		return c, err
	}
	c.LLM = ls.Enabled
	return c, nil
}

type reportData struct {
	ItemID      string
	Copy        string // the JSON that will be shared
	Hash        string // of Copy, so that the team confirms exactly what it saw
	Description string
}

func reportJSON(c reportCopy) (string, string, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:]), nil
}

// handleReportForm shows what a problem report on a request would share with support.
func (s *Server) handleReportForm(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	return s.reportPage(w, r, t, r.PathValue("id"), "", http.StatusOK, page{})
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request, t tenant.Tenant, id, description string, status int, p page) error {
	it, err := s.inbox.Get(r.Context(), t.ID, id)
	if err != nil {
		return err
	}
	c, err := s.buildReport(r.Context(), t.ID, it)
	if err != nil {
		return err
	}
	copyText, hash, err := reportJSON(c)
	if err != nil {
		return err
	}
	p.Title, p.Data = "Problem melden", reportData{ItemID: id, Copy: copyText, Hash: hash, Description: description}
	s.render(w, r, status, "report", p)
	return nil
}

// handleReportCreate shares the report after the team confirmed what it holds.
func (s *Server) handleReportCreate(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("id")
	description := strings.TrimSpace(r.PostFormValue("description"))
	switch {
	case description == "":
		return s.reportPage(w, r, t, id, description, http.StatusUnprocessableEntity, page{Error: "Bitte beschreiben Sie das Problem."})
	case utf8.RuneCountInString(description) > maxDescription:
		return s.reportPage(w, r, t, id, description, http.StatusUnprocessableEntity, page{Error: "Die Beschreibung ist zu lang (höchstens 4.000 Zeichen)."})
	case r.PostFormValue("confirm") != "on":
		return s.reportPage(w, r, t, id, description, http.StatusUnprocessableEntity,
			page{Error: "Bitte bestätigen Sie, dass diese Daten an den Support gehen dürfen."})
	}
	it, err := s.inbox.Get(ctx, t.ID, id)
	if err != nil {
		return err
	}
	c, err := s.buildReport(ctx, t.ID, it)
	if err != nil {
		return err
	}
	_, hash, err := reportJSON(c)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(r.PostFormValue("hash"))) != 1 {
		return s.reportPage(w, r, t, id, description, http.StatusConflict,
			page{Error: "Das Anliegen hat sich inzwischen geändert. Bitte prüfen Sie die Daten unten noch einmal und bestätigen Sie erneut."})
	}
	c.Description = description
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if _, err := s.db.CreateReport(ctx, t.ID, id, data); err != nil {
		return err
	}
	return s.inboxDetailPage(w, r, t, it, http.StatusOK,
		page{Notice: "Das Problem ist an den Support gemeldet. Er kann die Daten 14 Tage lang lesen, bis Sie die Meldung schließen."})
}

// handleReportClose closes a report; its shared copy is deleted.
func (s *Server) handleReportClose(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	it, err := s.inbox.Get(r.Context(), t.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	reports, err := s.reportsOf(r.Context(), t.ID, it.RecordID)
	if err != nil {
		return err
	}
	rid := r.PathValue("report")
	found := false
	for _, rep := range reports {
		found = found || rep.ID == rid
	}
	if !found {
		return errs.E(errs.NotFound, "Meldung nicht gefunden")
	}
	if err := s.db.CloseReport(r.Context(), t.ID, rid); err != nil {
		return err
	}
	return s.inboxDetailPage(w, r, t, it, http.StatusOK, page{Notice: "Die Meldung ist geschlossen; die geteilten Daten sind gelöscht."})
}

// reportsOf returns the reports on a request, newest first, without their data.
func (s *Server) reportsOf(ctx context.Context, tenantID, recordID string) ([]store.Report, error) {
	all, err := s.db.ListReports(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []store.Report
	for _, rep := range all {
		if rep.RecordID == recordID {
			rep.Data = nil
			out = append(out, rep)
		}
	}
	return out, nil
}

type supportReportData struct {
	Report store.Report
	Copy   string
}

// handleSupportReport shows support what a report shared; reading is audited in the
// practice's log.
func (s *Server) handleSupportReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.db.ReadReport(r.Context(), r.PathValue("id"), sessionFrom(r.Context()).User)
	if err != nil {
		return err
	}
	var pretty strings.Builder
	var v any
	if err := json.Unmarshal(rep.Data, &v); err != nil {
		return err
	}
	enc := json.NewEncoder(&pretty)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "support_report", page{Title: "Meldung", Data: supportReportData{Report: rep, Copy: pretty.String()}})
	return nil
}
