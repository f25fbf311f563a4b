package main

import (
	"context"
	"os"

	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/callflow"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/espeak"
	"github.com/tresen/tresen/internal/reception"
	"github.com/tresen/tresen/internal/sip"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/twilio"
)

// phoneFlow builds the call flow of every practice: the embedded voice (espeak-ng) with
// its fixed prompts cached, turns found by voice activity, calls routed by the number
// called (with --demo every other number reaches the demo practice).
func (m *Main) phoneFlow(ctx context.Context, rec *reception.Service) (*callflow.Flow, error) {
	v, err := espeak.New(espeak.Options{})
	if err != nil {
		return nil, err
	}
	voice := espeak.NewCache(v)
	if err := voice.Prewarm(ctx, callflow.Prompts()); err != nil {
		return nil, err
	}
	demoCode := ""
	if m.Demo {
		demoCode = demo.PracticeTenant.Code
	}
	return &callflow.Flow{
		Reception: rec,
		Practice:  assistant.PracticeByNumber(m.DB, demoCode),
		// Each practice's choice (assistant.VoiceSettings); without one, espeak-ng and the
		// keypad line.
		Voice:      assistant.PhoneVoice(m.DB, voice),
		Recognizer: assistant.PhoneRecognizer(m.DB),
		Recording:  assistant.Records(m.DB),
		Detector:   callflow.VAD(audio.VADConfig{}),
		TransferTo: func(ctx context.Context, tenantID string) (string, error) {
			var set assistant.Settings
			if err := m.DB.Setting(ctx, tenantID, store.SettingAssistant, &set); err != nil && !errs.Is(err, errs.NotFound) {
				return "", err
			}
			return set.TransferTo, nil
		},
		RingFirstTo: assistant.RingFirst(m.DB),
		Log:         m.Logger,
	}, nil
}

// startPhone takes calls over SIP (--sip) and, when its account is configured in the
// environment, over Twilio.
func (m *Main) startPhone(ctx context.Context, flow *callflow.Flow) error {
	if m.SIPAddr != "" {
		s, err := sip.New(sip.Options{Addr: m.SIPAddr, Handler: flow, Logger: m.Logger})
		if err != nil {
			return err
		}
		if err := s.Start(ctx); err != nil {
			return err
		}
		m.sip = s
		m.Logger.Info("taking SIP calls", "addr", s.Addr())
	}
	return nil
}

// twilioHandler returns the Twilio carrier when TRESEN_TWILIO_ACCOUNT_SID and
// TRESEN_TWILIO_AUTH_TOKEN are set (and --public-url, which Twilio reaches), else nil.
func (m *Main) twilioHandler(flow *callflow.Flow) (*twilio.Handler, error) {
	sid, token := os.Getenv("TRESEN_TWILIO_ACCOUNT_SID"), os.Getenv("TRESEN_TWILIO_AUTH_TOKEN")
	if sid == "" && token == "" {
		return nil, nil
	}
	if m.PublicURL == "" {
		return nil, usagef("serve: für Twilio bitte --public-url angeben (die Adresse, unter der Twilio Tresen erreicht)")
	}
	return twilio.New(twilio.Options{AccountSID: sid, AuthToken: token, PublicURL: m.PublicURL, Handler: flow, Logger: m.Logger})
}
