package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/llm"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/widget"
)

const assistantTitle = "Assistent"

// dayRow is a weekday's opening hours in the form.
type dayRow struct {
	N     int // time.Weekday
	Name  string
	Hours string
}

// faqRow is an FAQ answer in the form.
type faqRow struct{ Key, Label, Text string }

// widgetForm is the widget's settings as the form holds them.
type widgetForm struct {
	Origins    string // one per line
	PrivacyURL string
	Notice     string
	Color      string
}

type assistantData struct {
	Voice      voiceForm
	Widget     widgetForm
	PracticeID string
	Origin     string // this server, for the embed tag
	Days       []dayRow
	Settings   assistant.Settings
	FAQ        []faqRow
	Types      []choice
	Spoken     string // the hours as the assistant says them
	LLM        llm.Settings
	HasKey     bool   // an API key is stored (it is never shown)
	Field      string // the field at fault
}

// handleAssistant shows what the practice tells its assistant.
func (s *Server) handleAssistant(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	var set assistant.Settings
	if err := s.db.Setting(r.Context(), t.ID, store.SettingAssistant, &set); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	return s.assistantPage(w, r, t.ID, set, http.StatusOK, page{}, "")
}

func (s *Server) assistantPage(w http.ResponseWriter, r *http.Request, tenantID string, set assistant.Settings, status int, p page, field string) error {
	return s.assistantPageWith(w, r, tenantID, set, nil, nil, status, p, field)
}

// assistantPageVoice renders the page with the voice form as typed.
func (s *Server) assistantPageVoice(w http.ResponseWriter, r *http.Request, tenantID string, set assistant.Settings, typed *voiceForm, status int, p page, field string) error {
	return s.assistantPageWith(w, r, tenantID, set, nil, typed, status, p, field)
}

// assistantPageWith renders the page with the widget form as typed (nil: as stored).
func (s *Server) assistantPageWith(w http.ResponseWriter, r *http.Request, tenantID string, set assistant.Settings, typed *widgetForm, typedVoice *voiceForm, status int, p page, field string) error {
	ls, err := s.db.LLMSettings(r.Context(), tenantID)
	if err != nil {
		return err
	}
	wf := widgetForm{}
	if typed != nil {
		wf = *typed
	} else {
		var ws widget.Settings
		if err := s.db.Setting(r.Context(), tenantID, store.SettingWidget, &ws); err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		wf = widgetForm{Origins: strings.Join(ws.AllowedOrigins, "\n"), PrivacyURL: ws.PrivacyURL, Notice: ws.Notice, Color: ws.Color}
	}
	vf := voiceForm{}
	if typedVoice != nil {
		vf = *typedVoice
	} else {
		var vs assistant.VoiceSettings
		if err := s.db.Setting(r.Context(), tenantID, store.SettingVoice, &vs); err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		vf = voiceFormOf(vs)
	}
	vf.fillChoices()
	d := assistantData{Voice: vf, Settings: set, Spoken: set.HoursText(), HasKey: ls.APIKey != "", Field: field, PracticeID: tenantID, Widget: wf,
		Origin: s.origin(r)}
	ls.APIKey = ""
	d.LLM = ls
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		d.Days = append(d.Days, dayRow{N: int(wd), Name: weekdayNames[wd], Hours: set.Hours[wd]})
	}
	for _, topic := range assistant.FAQTopics {
		d.FAQ = append(d.FAQ, faqRow{Key: topic.Key, Label: topic.Label, Text: set.FAQ[topic.Key]})
	}
	for _, typ := range request.Types {
		if typ == request.Callback || typ == request.Message {
			continue // always taken
		}
		d.Types = append(d.Types, choice{Value: string(typ), Label: typ.Label(), Checked: set.Types == nil || contains(set.Types, typ)})
	}
	p.Title, p.Data = assistantTitle, d
	s.render(w, r, status, "assistant", p)
	return nil
}

func contains(types []request.Type, t request.Type) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// handleAssistantSave stores the assistant's texts, hours and request types.
func (s *Server) handleAssistantSave(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	set := assistant.Settings{Address: get("address"), Phone: get("phone"), Greeting: get("greeting"), Closing: get("closing"),
		EmergencyNote: get("emergency_note"), FAQ: map[string]string{}, QualityReview: r.PostFormValue("quality_review") == "on",
		RecordCalls: r.PostFormValue("record_calls") == "on"}
	for _, n := range strings.FieldsFunc(r.PostFormValue("numbers"), func(r rune) bool { return r == '\n' || r == ',' || r == ';' }) {
		if n = strings.TrimSpace(n); n != "" {
			set.Numbers = append(set.Numbers, n)
		}
	}
	set.TransferTo = get("transfer_to")
	set.RingFirst = get("ring_first")
	if v := get("ring_seconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1 // Validate names the field
		}
		set.RingSeconds = n
	}
	for _, a := range strings.FieldsFunc(r.PostFormValue("alerts"), func(r rune) bool { return r == '\n' || r == ',' || r == ';' }) {
		if a = strings.TrimSpace(a); a != "" {
			set.Alerts = append(set.Alerts, a)
		}
	}
	for wd := range set.Hours {
		set.Hours[wd] = get("hours." + strconv.Itoa(wd))
	}
	for _, topic := range assistant.FAQTopics {
		if v := get("faq." + topic.Key); v != "" {
			set.FAQ[topic.Key] = v
		}
	}
	all := true
	types := []request.Type{request.Callback, request.Message}
	for _, typ := range request.Types {
		if typ == request.Callback || typ == request.Message {
			continue
		}
		if r.PostFormValue("type."+string(typ)) == "on" {
			types = append(types, typ)
		} else {
			all = false
		}
	}
	if !all {
		set.Types = types
	}
	if err := set.Validate(); err != nil {
		return s.assistantPage(w, r, t.ID, set, http.StatusUnprocessableEntity, page{Error: fieldMessage(err)}, fieldOf(err))
	}
	if err := s.db.SetSetting(r.Context(), t.ID, store.SettingAssistant, set); err != nil {
		return err
	}
	return s.assistantPage(w, r, t.ID, set, http.StatusOK, page{Notice: "Gespeichert. Der Assistent spricht ab dem nächsten Gespräch mit diesen Angaben."}, "")
}

// handleAssistantLLM switches LLM mode on or off. The API key is write-only: an empty
// field keeps the stored one.
func (s *Server) handleAssistantLLM(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	var set assistant.Settings
	if err := s.db.Setting(r.Context(), t.ID, store.SettingAssistant, &set); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	old, err := s.db.LLMSettings(r.Context(), t.ID)
	if err != nil {
		return err
	}
	ls := llm.Settings{Enabled: r.PostFormValue("enabled") == "on", BaseURL: strings.TrimSpace(r.PostFormValue("base_url")),
		Model: strings.TrimSpace(r.PostFormValue("model")), APIKey: r.PostFormValue("api_key"),
		EUHosted: r.PostFormValue("eu_hosted") == "on", ZeroRetention: r.PostFormValue("zero_retention") == "on", Timeout: old.Timeout}
	if ls.APIKey == "" && r.PostFormValue("forget_key") != "on" {
		ls.APIKey = old.APIKey
	}
	err = s.db.SetLLMSettings(r.Context(), t.ID, ls)
	if errs.Is(err, errs.Invalid) {
		return s.assistantPage(w, r, t.ID, set, http.StatusUnprocessableEntity, page{Error: fieldMessage(err)}, fieldOf(err))
	}
	if err != nil {
		return err
	}
	notice := "Sprachmodell ausgeschaltet: der Assistent arbeitet ohne Cloud."
	if ls.Enabled {
		notice = "Sprachmodell eingeschaltet. Fällt es aus, übernimmt der Assistent ohne Sprachmodell im selben Gespräch."
	}
	return s.assistantPage(w, r, t.ID, set, http.StatusOK, page{Notice: notice}, "")
}

// handleWidgetSettings stores the online reception's settings: which websites may embed
// it, the practice's privacy policy and notice, its colour.
func (s *Server) handleWidgetSettings(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	var set assistant.Settings
	if err := s.db.Setting(r.Context(), t.ID, store.SettingAssistant, &set); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	f := widgetForm{Origins: r.PostFormValue("allowed_origins"), PrivacyURL: r.PostFormValue("privacy_url"),
		Notice: r.PostFormValue("notice"), Color: r.PostFormValue("color")}
	ws := widget.Settings{AllowedOrigins: strings.FieldsFunc(f.Origins, func(r rune) bool { return r == '\n' || r == '\r' || r == ' ' || r == ',' }),
		PrivacyURL: f.PrivacyURL, Notice: f.Notice, Color: f.Color}
	if err := ws.Validate(); err != nil {
		return s.assistantPageWith(w, r, t.ID, set, &f, nil, http.StatusUnprocessableEntity, page{Error: fieldMessage(err)}, fieldOf(err))
	}
	if err := s.db.SetSetting(r.Context(), t.ID, store.SettingWidget, ws); err != nil {
		return err
	}
	return s.assistantPage(w, r, t.ID, set, http.StatusOK, page{Notice: "Die Einstellungen der Online-Rezeption sind gespeichert."}, "")
}

// handleWidgetPreview shows the practice's widget as its website will show it.
func (s *Server) handleWidgetPreview(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "widget_preview", page{Title: "Vorschau der Online-Rezeption", Data: t.ID})
	return nil
}

// origin is this server's origin as the browser reached it.
func (s *Server) origin(r *http.Request) string {
	if s.secure {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
