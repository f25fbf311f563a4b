package web

import (
	"net/http"
	"strings"

	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/azurespeech"
	"github.com/tresen/tresen/internal/deepgram"
	"github.com/tresen/tresen/internal/elevenlabs"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speechapi"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/vosk"
	"github.com/tresen/tresen/internal/whisper"
)

// providerForm is one provider's settings as the form holds them; keys are write-only.
type providerForm struct {
	Kind          string
	URL           string
	Model         string
	Voice         string
	Region        string
	HasKey        bool
	EUResidency   bool
	ZeroRetention bool
}

type voiceForm struct {
	Recognizer, Voice   providerForm
	Recognizers, Voices []choice
}

// voiceFormOf shows stored settings in the form.
func voiceFormOf(v assistant.VoiceSettings) voiceForm {
	f := voiceForm{Recognizer: providerForm{Kind: v.Recognizer}, Voice: providerForm{Kind: v.Voice}}
	r, o := &f.Recognizer, &f.Voice
	switch v.Recognizer {
	case "vosk":
		if v.Vosk != nil {
			r.URL = v.Vosk.URL
		}
	case "whisper":
		if s := v.Whisper; s != nil {
			r.URL, r.Model, r.HasKey, r.EUResidency, r.ZeroRetention = s.URL, s.Model, s.APIKey != "", s.EUResidency, s.ZeroRetention
		}
	case "deepgram":
		if s := v.Deepgram; s != nil {
			r.URL, r.Model, r.HasKey, r.ZeroRetention = s.URL, s.Model, s.APIKey != "", s.ZeroRetention
		}
	case "elevenlabs":
		if s := v.ElevenLabs; s != nil {
			r.URL, r.Model, r.HasKey, r.EUResidency, r.ZeroRetention = s.BaseURL, s.STTModel, s.APIKey != "", s.EUResidency, s.ZeroRetention
		}
	case "azure":
		if s := v.Azure; s != nil {
			r.Region, r.HasKey, r.ZeroRetention = s.Region, s.Key != "", s.ZeroRetention
		}
	}
	switch v.Voice {
	case "speechapi":
		if s := v.SpeechAPI; s != nil {
			o.URL, o.Model, o.Voice, o.HasKey, o.EUResidency, o.ZeroRetention = s.BaseURL, s.Model, s.Voice, s.APIKey != "", s.EUResidency, s.ZeroRetention
		}
	case "elevenlabs":
		if s := v.ElevenLabs; s != nil {
			o.URL, o.Model, o.Voice, o.HasKey, o.EUResidency, o.ZeroRetention = s.BaseURL, s.Model, s.VoiceID, s.APIKey != "", s.EUResidency, s.ZeroRetention
		}
	case "azure":
		if s := v.Azure; s != nil {
			o.Region, o.Voice, o.HasKey, o.ZeroRetention = s.Region, s.Voice, s.Key != "", s.ZeroRetention
		}
	}
	return f
}

// voiceSettingsFrom reads the form; empty keys keep the stored ones.
func voiceSettingsFrom(r *http.Request, old assistant.VoiceSettings) assistant.VoiceSettings {
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	on := func(k string) bool { return r.PostFormValue(k) == "on" }
	v := assistant.VoiceSettings{Recognizer: get("recognizer"), Voice: get("voice")}
	key := func(prefix, stored string) string {
		if k := get(prefix + "_key"); k != "" {
			return k
		}
		return stored
	}
	switch v.Recognizer {
	case "vosk":
		v.Vosk = &vosk.Settings{URL: get("stt_url")}
	case "whisper":
		old := deref(old.Whisper)
		v.Whisper = &whisper.Settings{URL: get("stt_url"), Model: get("stt_model"), APIKey: key("stt", old.APIKey),
			EUResidency: on("stt_eu"), ZeroRetention: on("stt_zero")}
	case "deepgram":
		old := deref(old.Deepgram)
		v.Deepgram = &deepgram.Settings{URL: get("stt_url"), Model: get("stt_model"), APIKey: key("stt", old.APIKey), ZeroRetention: on("stt_zero")}
	case "elevenlabs":
		old := deref(old.ElevenLabs)
		v.ElevenLabs = &elevenlabs.Settings{BaseURL: get("stt_url"), STTModel: get("stt_model"), APIKey: key("stt", old.APIKey),
			EUResidency: on("stt_eu"), ZeroRetention: on("stt_zero")}
	case "azure":
		old := deref(old.Azure)
		v.Azure = &azurespeech.Settings{Region: get("stt_region"), Key: key("stt", old.Key), ZeroRetention: on("stt_zero")}
	}
	switch v.Voice {
	case "speechapi":
		old := deref(old.SpeechAPI)
		v.SpeechAPI = &speechapi.Settings{BaseURL: get("tts_url"), Model: get("tts_model"), Voice: get("tts_voice"), APIKey: key("tts", old.APIKey),
			EUResidency: on("tts_eu"), ZeroRetention: on("tts_zero")}
	case "elevenlabs":
		// One ElevenLabs account for hearing and speaking, when both are chosen.
		s := deref(v.ElevenLabs)
		if v.ElevenLabs == nil {
			s.BaseURL, s.EUResidency, s.ZeroRetention = get("tts_url"), on("tts_eu"), on("tts_zero")
		}
		s.APIKey = key("tts", cmpOr(s.APIKey, deref(old.ElevenLabs).APIKey))
		s.VoiceID, s.Model = get("tts_voice"), get("tts_model")
		v.ElevenLabs = &s
	case "azure":
		s := deref(v.Azure)
		if v.Azure == nil {
			s.Region, s.ZeroRetention = get("tts_region"), on("tts_zero")
		}
		s.Key = key("tts", cmpOr(s.Key, deref(old.Azure).Key))
		s.Voice = get("tts_voice")
		v.Azure = &s
	}
	return v
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (f *voiceForm) fillChoices() {
	for _, c := range assistant.Recognizers {
		f.Recognizers = append(f.Recognizers, choice{Value: c.Key, Label: c.Label, Checked: f.Recognizer.Kind == c.Key})
	}
	for _, c := range assistant.Voices {
		f.Voices = append(f.Voices, choice{Value: c.Key, Label: c.Label, Checked: f.Voice.Kind == c.Key})
	}
}

// handleVoiceSettings stores the phone line's recogniser and voice, after checking that
// they can be used and keep the promises.
func (s *Server) handleVoiceSettings(w http.ResponseWriter, r *http.Request) error {
	t, err := s.practice(r)
	if err != nil {
		return err
	}
	var set assistant.Settings
	if err := s.db.Setting(r.Context(), t.ID, store.SettingAssistant, &set); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	var old assistant.VoiceSettings
	if err := s.db.Setting(r.Context(), t.ID, store.SettingVoice, &old); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	v := voiceSettingsFrom(r, old)
	if err := v.Validate(); err != nil {
		f := voiceFormOf(v)
		return s.assistantPageVoice(w, r, t.ID, set, &f, http.StatusUnprocessableEntity, page{Error: fieldMessage(err)}, fieldOf(err))
	}
	if err := s.db.SetSetting(r.Context(), t.ID, store.SettingVoice, v); err != nil {
		return err
	}
	return s.assistantPage(w, r, t.ID, set, http.StatusOK, page{Notice: "Spracherkennung und Stimme des Telefons sind gespeichert."}, "")
}
