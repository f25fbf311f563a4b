package main

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/store"
)

// TestPhoneRingsPracticeFirst: during opening hours a call to the demo practice rings at
// the practice's own phone first (shown the caller's number); nobody picks up, so after
// the practice's ring time the assistant answers and greets the caller; the practice's
// phone stops ringing.
func TestPhoneRingsPracticeFirst(t *testing.T) {
	m, _ := MustRunMain(t, store.SQLite, func(m *Main) { m.SIPAddr = "127.0.0.1:0" })
	monday := time.Date(2026, 11, 23, 9, 30, 0, 0, berlin.Location)
	m.DB.Now = func() time.Time { return monday }
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The practice's phone: rings, nobody answers.
	deskUA, err := sipgo.NewUA(sipgo.WithUserAgent("Anmeldung"))
	if err != nil {
		t.Fatal(err)
	}
	defer deskUA.Close()
	deskPort := freePort(t, "udp")
	desk := diago.NewDiago(deskUA, diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: atoiT(t, deskPort)}))
	type ring struct {
		caller    string
		cancelled time.Time
	}
	rang := make(chan ring, 2)
	if err := desk.ServeBackground(ctx, func(d *diago.DialogServerSession) {
		_ = d.Ringing()
		<-d.Context().Done()
		rang <- ring{caller: d.FromUser(), cancelled: time.Now()}
	}); err != nil {
		t.Fatal(err)
	}

	pr, err := m.DB.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		t.Fatal(err)
	}
	var set assistant.Settings
	if err := m.DB.Setting(ctx, pr.ID, store.SettingAssistant, &set); err != nil {
		t.Fatal(err)
	}
	set.RingFirst, set.RingSeconds = "sip:anmeldung@127.0.0.1:"+deskPort, 5
	set.Hours[time.Monday] = "08:00-12:00"
	if err := set.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := m.DB.SetSetting(ctx, pr.ID, store.SettingAssistant, set); err != nil {
		t.Fatal(err)
	}

	ua, err := sipgo.NewUA(sipgo.WithUserAgent("Erika Mustermann's phone"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	dg := diago.NewDiago(ua,
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: 0}))
	if err := dg.ServeBackground(ctx, func(*diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(m.sip.Addr())
	p, _ := strconv.Atoi(port)
	start := time.Now()
	d, err := dg.Invite(ctx, sip.Uri{Scheme: "sip", User: "04211234567", Host: host, Port: p},
		diago.InviteOptions{Headers: []sip.Header{&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "+491701234567", Host: "127.0.0.1"}, Params: sip.NewParams()}}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Hangup(context.Background())
	answered := time.Since(start)
	select {
	case r := <-rang:
		if r.caller != "+491701234567" {
			t.Errorf("the practice's phone showed caller %q", r.caller)
		}
		if r.cancelled.Sub(start) < 4*time.Second {
			t.Errorf("the practice's phone stopped ringing after %v, want its 5 s", r.cancelled.Sub(start))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the practice's phone did not ring, or kept ringing after the assistant answered")
	}
	if answered < 5*time.Second {
		t.Errorf("the assistant answered after %v, before the practice's 5 s", answered)
	}
	if loud := loudFramesFor(t, d, 4*time.Second); loud < 50 {
		t.Errorf("the caller heard %d frames of speech, want the assistant's greeting", loud)
	}
}

func atoiT(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
