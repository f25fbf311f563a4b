package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"strings"

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

// SIPFlags are serve's options of the SIP carrier beyond --sip.
type SIPFlags struct {
	TLSAddr      string // --sip-tls: SIP over TLS on this address, with --tls-cert/--tls-key
	SRTP         bool   // --sip-srtp: require SRTP on calls over TLS
	EarlyMedia   bool   // --sip-early-media: ring with 183 and the ringing tone
	ExternalHost string // --sip-external-host: the address peers reach behind NAT
	Trunk        string // --sip-trunk USER@REGISTRAR[:PORT]; password in TRESEN_SIP_TRUNK_PASSWORD
	TrunkAuth    string // --sip-trunk-auth-user: digest user when it is not USER
}

func (f *SIPFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.TLSAddr, "sip-tls", "", "also take SIP over TLS on ADDR (port 5061), with the certificate of --tls-cert/--tls-key")
	fs.BoolVar(&f.SRTP, "sip-srtp", false, "require SRTP (SDES) on calls over TLS")
	fs.BoolVar(&f.EarlyMedia, "sip-early-media", false, "ring with 183 Session Progress and the ringing tone in the media")
	fs.StringVar(&f.ExternalHost, "sip-external-host", "", "the address SIP peers reach this server at (behind NAT)")
	fs.StringVar(&f.Trunk, "sip-trunk", "", "register at a SIP trunk as USER@REGISTRAR[:PORT] (password in TRESEN_SIP_TRUNK_PASSWORD)")
	fs.StringVar(&f.TrunkAuth, "sip-trunk-auth-user", "", "digest user of --sip-trunk when it is not USER")
}

// check tells what of the SIP options does not fit together.
func (f *SIPFlags) check(m *Main) error {
	switch {
	case m.SIPAddr == "" && (*f != SIPFlags{}):
		return usagef("serve: --sip-… nur zusammen mit --sip")
	case f.TLSAddr != "" && m.TLSCert == "":
		return usagef("serve: --sip-tls braucht --tls-cert und --tls-key")
	case f.SRTP && f.TLSAddr == "":
		return usagef("serve: --sip-srtp nur zusammen mit --sip-tls (die Schlüssel stehen in der SIP-Nachricht)")
	case f.TrunkAuth != "" && f.Trunk == "":
		return usagef("serve: --sip-trunk-auth-user nur zusammen mit --sip-trunk")
	case f.Trunk != "":
		if user, registrar, ok := strings.Cut(f.Trunk, "@"); !ok || user == "" || registrar == "" {
			return usagef("serve: --sip-trunk %q ist nicht BENUTZER@REGISTRAR, z. B. 1234567e0@sipgate.de", f.Trunk)
		}
		if os.Getenv("TRESEN_SIP_TRUNK_PASSWORD") == "" {
			return usagef("serve: für --sip-trunk bitte das Passwort in TRESEN_SIP_TRUNK_PASSWORD angeben")
		}
	}
	return nil
}

// options returns the SIP server's options for the flags.
func (f *SIPFlags) options(m *Main) (sip.Options, error) {
	o := sip.Options{Addr: m.SIPAddr, EarlyMedia: f.EarlyMedia, ExternalHost: f.ExternalHost, Logger: m.Logger}
	if f.TLSAddr != "" {
		cert, err := tls.LoadX509KeyPair(m.TLSCert, m.TLSKey)
		if err != nil {
			return o, fmt.Errorf("--sip-tls: %w", err)
		}
		o.TLSAddr, o.SRTP = f.TLSAddr, f.SRTP
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if f.Trunk != "" {
		user, registrar, _ := strings.Cut(f.Trunk, "@")
		o.Trunk = &sip.TrunkSettings{Registrar: registrar, Username: user, AuthUsername: f.TrunkAuth,
			Password: os.Getenv("TRESEN_SIP_TRUNK_PASSWORD")}
	}
	return o, nil
}

// startPhone takes calls over SIP (--sip) and, when its account is configured in the
// environment, over Twilio.
func (m *Main) startPhone(ctx context.Context, flow *callflow.Flow) error {
	if m.SIPAddr != "" {
		o, err := m.SIP.options(m)
		if err != nil {
			return err
		}
		o.Handler = flow
		s, err := sip.New(o)
		if err != nil {
			return err
		}
		if err := s.Start(ctx); err != nil {
			return err
		}
		m.sip = s
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
