package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/diago"
	daudio "github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"

	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/espeak"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
)

// The keypad line's call flows with baresip as the caller's phone (see TestPhoneBaresip):
// key 1 leaves an appointment request, key 0 hands the call to the practice's phone by
// REFER, and a practice that records its calls keeps the caller's message.

// sayRecorded is what the caller hears first when the practice records its calls
// (callflow's sayRecorded): the tests look for exactly this speech in what baresip heard.
const sayRecorded = "Dieses Gespräch wird aufgezeichnet, damit das Praxisteam Ihr Anliegen bearbeiten kann."

// sayVoicemail invites the caller's message on the keypad line (callflow's sayVoicemail).
const sayVoicemail = "Wenn Sie möchten, sprechen Sie jetzt Ihre Nachricht für das Praxisteam. Drücken Sie die Raute-Taste, wenn Sie fertig sind."

// TestPhoneBaresipAppointment: baresip presses 1 for an appointment and types the birth
// date; Tresen says goodbye and hangs up, and the inbox has an appointment request with
// the birth date and the caller's number. The practice does not record its calls, so the
// caller is not told it does.
func TestPhoneBaresipAppointment(t *testing.T) {
	mic := filepath.Join(t.TempDir(), "caller.wav")
	writeCallerSpeech(t, mic, "Guten Tag, hier ist Erika Mustermann. Ich hätte gern einen Termin.", 2*time.Minute)
	m, _ := MustRunMain(t, store.SQLite, func(m *Main) { m.SIPAddr = "127.0.0.1:0" })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pr, err := m.DB.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		t.Fatal(err)
	}

	phone := startBaresip(ctx, t, mic)
	phone.dial(ctx, t, m)
	if err := phone.ctrl.sleep(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	phone.press(ctx, t, "1", 1500*time.Millisecond)
	phone.press(ctx, t, "12031984#", 300*time.Millisecond)
	closed, err := phone.ctrl.waitEvent(ctx, "CALL_CLOSED")
	if err != nil {
		t.Fatal(err)
	}
	if closed.Param != byeFromPeer {
		t.Errorf("the call closed with %q, want Tresen's BYE after its goodbye", closed.Param)
	}
	phone.quit(t)

	_, all := waitRequest(ctx, t, m, pr.ID, "appointment request by phone with the birth date 1984-03-12", func(rq request.Request) bool {
		return rq.Type == request.AppointmentBook && rq.Patient.BirthDate == "1984-03-12" && rq.Channel == request.Phone
	})
	if rq := all[0]; rq.Patient.Phone != "+491701234567" {
		t.Errorf("caller's number %q, want +491701234567", rq.Patient.Phone)
	}
	if len(all) != 1 {
		t.Errorf("%d requests in the inbox, want 1: %v", len(all), describeRequests(all))
	}

	heard := phone.heard(t)
	if n := count(speechFrames(heard)); n < 100 {
		t.Errorf("the caller heard %d frames (20 ms) of speech, want the greeting, the birth date prompt and the goodbye", n)
	}
	// The greeting starts with the practice's name, not with the note on recording.
	at, corr := findSaid(heard, mustSay(ctx, t, sayRecorded), 0, 5*time.Second)
	t.Logf("best match of the note on recording: %.3f at %v", corr, at)
	if corr > 0.5 {
		t.Errorf("the caller heard that the call is recorded (correlation %.2f at %v), but the practice does not record calls", corr, at)
	}
}

// TestPhoneBaresipTransfer: during opening hours baresip presses 0 for the practice team;
// Tresen says it connects her and sends a REFER to the practice's phone (TransferTo, a
// diago user agent here). baresip follows it — Debian's baresip 1.0 does so in its menu
// module, which calls the Refer-To target and reports the outcome to Tresen by NOTIFY —
// the practice's phone gets baresip's INVITE from the caller's number and hears her, and
// Tresen ends its own leg with BYE. The inbox has a callback request with her number, and
// the team sees in the transcript that she asked for the team and was put through.
func TestPhoneBaresipTransfer(t *testing.T) {
	mic := filepath.Join(t.TempDir(), "caller.wav")
	writeCallerSpeech(t, mic, "Guten Tag, hier ist Erika Mustermann. Ich möchte bitte mit der Anmeldung sprechen.", 2*time.Minute)
	m, logins := MustRunMain(t, store.SQLite, func(m *Main) { m.SIPAddr = "127.0.0.1:0" })
	// A Monday morning: the practice is open, so the team can take the call (the dialogue
	// engine hands over to the team only then, by the store's clock).
	monday := time.Date(2026, 11, 23, 9, 30, 0, 0, berlin.Location)
	m.DB.Now = func() time.Time { return monday }
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// The practice's phone: answers and listens.
	type deskCall struct {
		from, userAgent string
		answerErr       error
		loud            int
	}
	deskUA, err := sipgo.NewUA(sipgo.WithUserAgent("Anmeldung"))
	if err != nil {
		t.Fatal(err)
	}
	defer deskUA.Close()
	deskPort := freePort(t, "udp")
	desk := diago.NewDiago(deskUA,
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: atoiT(t, deskPort)}))
	calls := make(chan deskCall, 2)
	if err := desk.ServeBackground(ctx, func(d *diago.DialogServerSession) {
		c := deskCall{from: d.FromUser()}
		if h := d.InviteRequest.GetHeader("User-Agent"); h != nil {
			c.userAgent = h.Value()
		}
		if c.answerErr = d.Answer(); c.answerErr == nil {
			c.loud = serverLoudFrames(d, 4*time.Second)
		}
		calls <- c
		<-d.Context().Done()
	}); err != nil {
		t.Fatal(err)
	}

	pr, err := m.DB.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		t.Fatal(err)
	}
	deskURI := "sip:anmeldung@127.0.0.1:" + deskPort
	setAssistant(ctx, t, m, pr.ID, func(s *assistant.Settings) { s.TransferTo = deskURI })

	phone := startBaresip(ctx, t, mic)
	phone.dial(ctx, t, m)
	if err := phone.ctrl.sleep(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	phone.press(ctx, t, "0", 0)

	// baresip reports the REFER (TRANSFER), its call to the desk, and Tresen's BYE, in an
	// order that depends on the timing.
	var referTo string
	deskUp, tresenGone := false, false
	var seen []string
	for referTo == "" || !deskUp || !tresenGone {
		e, err := phone.ctrl.waitEvent(ctx, "TRANSFER", "TRANSFER_FAILED", "CALL_ESTABLISHED", "CALL_CLOSED")
		if err != nil {
			t.Fatalf("%v; so far: %v", err, seen)
		}
		seen = append(seen, e.Type+" "+e.Peer+" "+e.Param)
		toDesk := strings.HasPrefix(e.Peer, deskURI)
		switch {
		case e.Type == "TRANSFER":
			referTo = e.Param
		case e.Type == "TRANSFER_FAILED":
			t.Fatalf("baresip could not follow the REFER: %s (events: %v)", e.Param, seen)
		case e.Type == "CALL_ESTABLISHED" && toDesk:
			deskUp = true
		case e.Type == "CALL_CLOSED" && toDesk:
			t.Fatalf("the call to the practice's phone closed: %s (events: %v)", e.Param, seen)
		case e.Type == "CALL_CLOSED":
			if e.Param != byeFromPeer {
				t.Errorf("Tresen's leg closed with %q, want Tresen's BYE", e.Param)
			}
			if referTo == "" {
				t.Fatalf("Tresen's leg closed before any REFER (events: %v)", seen)
			}
			tresenGone = true
		}
	}
	if referTo != "<"+deskURI+">" {
		t.Errorf("REFER to %q, want the practice's %s", referTo, deskURI)
	}
	select {
	case c := <-calls:
		if c.answerErr != nil {
			t.Fatalf("the practice's phone could not answer: %v", c.answerErr)
		}
		if c.from != "+491701234567" || !strings.HasPrefix(c.userAgent, "baresip") {
			t.Errorf("the practice's phone was called by %q (%s), want the caller's baresip with her number", c.from, c.userAgent)
		}
		if c.loud < 25 {
			t.Errorf("the practice's phone heard %d frames of speech from the caller, want her voice (≥ 0.5 s)", c.loud)
		}
	case <-ctx.Done():
		t.Fatal("the practice's phone got no call")
	}
	phone.quit(t)

	rec, all := waitRequest(ctx, t, m, pr.ID, "callback request by phone", func(rq request.Request) bool {
		return rq.Type == request.Callback && rq.Channel == request.Phone
	})
	if rq := all[0]; rq.Patient.Phone != "+491701234567" {
		t.Errorf("caller's number %q, want +491701234567", rq.Patient.Phone)
	}
	if len(all) != 1 {
		t.Errorf("%d requests in the inbox, want 1: %v", len(all), describeRequests(all))
	}
	t.Logf("the inbox: %v", describeRequests(all))
	// The team reads why: she asked for the team and was put through.
	page := teamGet(t, m, teamClient(t, m, logins), "/inbox/"+rec.ID, "text/html")
	for _, want := range []string{"Ich möchte mit jemandem aus dem Praxisteam sprechen.", "ich verbinde Sie mit dem Praxisteam"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the request's page does not show %q", want)
		}
	}
}

// TestPhoneBaresipVoicemail: the practice records its calls and keeps call audio for 30
// days. baresip hears that the call is recorded, presses 2, types the birth date, hears
// the invitation to leave a message, speaks it and falls silent; Tresen says goodbye and
// hangs up. The inbox has the prescription request, and its page plays the call's
// recording, which holds her message.
func TestPhoneBaresipVoicemail(t *testing.T) {
	// She says nothing until well after the invitation, then her message.
	const lead = 25 * time.Second
	mic := filepath.Join(t.TempDir(), "caller.wav")
	message := writeCallerSpeechAt(t, mic, lead, "Hallo, hier ist Erika Mustermann. Mein Ramipril ist fast aufgebraucht. Ich hole das Rezept morgen Vormittag ab. Vielen Dank.", 2*time.Minute)
	m, logins := MustRunMain(t, store.SQLite, func(m *Main) { m.SIPAddr = "127.0.0.1:0" })
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	pr, err := m.DB.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		t.Fatal(err)
	}
	setAssistant(ctx, t, m, pr.ID, func(s *assistant.Settings) { s.RecordCalls = true })
	if err := m.DB.SetRetention(audit.WithActor(ctx, audit.Actor{UserID: "test", Source: "test"}), pr.ID, retention.CallAudio, 30); err != nil {
		t.Fatal(err)
	}

	phone := startBaresip(ctx, t, mic)
	phone.dial(ctx, t, m)
	start := time.Now()
	// The note on recording (about 5 s) is heard to its end before she presses 2.
	if err := phone.ctrl.sleep(ctx, 7*time.Second); err != nil {
		t.Fatal(err)
	}
	phone.press(ctx, t, "2", 1500*time.Millisecond)
	phone.press(ctx, t, "12031984#", 300*time.Millisecond)
	typed := time.Since(start)
	closed, err := phone.ctrl.waitEvent(ctx, "CALL_CLOSED")
	if err != nil {
		t.Fatal(err)
	}
	callLen := time.Since(start)
	t.Logf("date typed by %v, message at %v, call closed after %v: %s", typed.Round(time.Millisecond), lead, callLen.Round(time.Millisecond), closed.Param)
	if closed.Param != byeFromPeer {
		t.Errorf("the call closed with %q, want Tresen's BYE after its goodbye", closed.Param)
	}
	phone.quit(t)

	// What she heard: the note on recording first, the invitation after the birth date,
	// and the goodbye after her message.
	heard := phone.heard(t)
	noted, corr := findSaid(heard, mustSay(ctx, t, sayRecorded), 0, 5*time.Second)
	t.Logf("the note on recording heard at %v (correlation %.3f)", noted, corr)
	if corr < 0.8 {
		t.Errorf("the caller did not hear that the call is recorded: best match %.2f at %v", corr, noted)
	}
	invited, corr := findSaid(heard, mustSay(ctx, t, sayVoicemail), typed-2*time.Second, typed+8*time.Second)
	t.Logf("the invitation heard at %v (correlation %.3f)", invited, corr)
	if corr < 0.8 {
		t.Errorf("the caller was not invited to leave a message after the birth date: best match %.2f at %v", corr, invited)
	}
	frames := speechFrames(heard)
	msgEnd := lead + time.Duration(len(message))*time.Second/8000
	if n := count(frames[min(int(msgEnd/(20*time.Millisecond)), len(frames)):]); n < 25 {
		t.Errorf("%d frames of speech after her message (until %v), want the goodbye", n, msgEnd)
	}

	// The inbox: the request, and its page with the recording.
	rec, all := waitRequest(ctx, t, m, pr.ID, "prescription request by phone with the birth date 1984-03-12", func(rq request.Request) bool {
		return rq.Type == request.PrescriptionRefill && rq.Patient.BirthDate == "1984-03-12" && rq.Channel == request.Phone
	})
	if rq := all[0]; rq.Patient.Phone != "+491701234567" {
		t.Errorf("caller's number %q, want +491701234567", rq.Patient.Phone)
	}
	team := teamClient(t, m, logins)
	page := teamGet(t, m, team, "/inbox/"+rec.ID, "text/html")
	src := `src="/inbox/` + rec.ID + `/audio"`
	if !bytes.Contains(page, []byte(`id="call-audio"`)) || !bytes.Contains(page, []byte(src)) {
		t.Fatalf("the request's page has no player for the call's recording (%s)", src)
	}
	wav := teamGet(t, m, team, "/inbox/"+rec.ID+"/audio", "audio/wav")
	recorded, rate, err := audio.ReadWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 {
		t.Fatalf("recording at %d Hz, want 8000", rate)
	}

	// The recording is the caller's side of the call up to the end of her message: quiet
	// while she listened and keyed, then her message, then the silence that ended it (not
	// the goodbye after it).
	recLen := time.Duration(len(recorded)) * time.Second / 8000
	recFrames, msgFrames := speechFrames(recorded), speechFrames(message)
	first, last := speechSpan(recFrames)
	msgFirst, msgLast := speechSpan(msgFrames)
	t.Logf("recording %v, speech in %d frames from %v to %v; message %v, speech in %d frames", recLen.Round(time.Millisecond),
		count(recFrames), frameTime(first), frameTime(last), (time.Duration(len(message)) * time.Second / 8000).Round(time.Millisecond), count(msgFrames))
	if recLen < typed+time.Duration(len(message))*time.Second/8000 || recLen > callLen {
		t.Errorf("recording of %v, want her side of the call up to the end of her message (typed the date by %v, message %v, call %v)",
			recLen, typed, time.Duration(len(message))*time.Second/8000, callLen)
	}
	// Her message, all of it and nothing else: she was silent before it.
	if n, want := count(recFrames), count(msgFrames); n < want*8/10 || n > want*12/10 {
		t.Errorf("%d frames of speech in the recording, want about her message's %d", n, want)
	}
	if span, want := frameTime(last-first), frameTime(msgLast-msgFirst); first < 0 || span < want-time.Second || span > want+time.Second {
		t.Errorf("speech in the recording lasts %v, want about her message's %v", span, want)
	}
	if first >= 0 && frameTime(first) < typed {
		t.Errorf("speech in the recording from %v, before she had typed the date (by %v)", frameTime(first), typed)
	}
	// Two seconds of silence after her message end it (callflow's voicemail).
	if tail := recLen - frameTime(last+1); last >= 0 && tail > 5*time.Second {
		t.Errorf("the recording goes on %v after her message", tail)
	}
	if t.Failed() {
		t.Logf("recording, speech (#) by 20 ms frame:%s", timeline(recFrames))
	}
}

// setAssistant changes the practice's assistant settings.
func setAssistant(ctx context.Context, t *testing.T, m *Main, tenantID string, change func(*assistant.Settings)) {
	t.Helper()
	var set assistant.Settings
	if err := m.DB.Setting(ctx, tenantID, store.SettingAssistant, &set); err != nil {
		t.Fatal(err)
	}
	change(&set)
	if err := set.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := m.DB.SetSetting(audit.WithActor(ctx, audit.Actor{UserID: "test", Source: "test"}), tenantID, store.SettingAssistant, set); err != nil {
		t.Fatal(err)
	}
}

// teamClient is a browser of the demo practice's team, logged in.
func teamClient(t *testing.T, m *Main, logins map[string]string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.PostForm(m.URL()+"/login", url.Values{"username": {"praxis.team"}, "password": {logins["praxis.team"]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(m.URL())
	if resp.StatusCode != http.StatusOK || len(jar.Cookies(u)) == 0 {
		t.Fatalf("login as praxis.team: %s, cookies %v", resp.Status, jar.Cookies(u))
	}
	return c
}

// teamGet fetches a page or file the team sees and checks its content type.
func teamGet(t *testing.T, m *Main, c *http.Client, path, contentType string) []byte {
	t.Helper()
	resp, err := c.Get(m.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), contentType) {
		t.Fatalf("GET %s: %s, %s, want %s:\n%s", path, resp.Status, resp.Header.Get("Content-Type"), contentType, tailString(string(body), 2000))
	}
	return body
}

// mustSay is what Tresen's voice (espeak-ng, as cmd/tresen sets it up) makes of text, at
// 8 kHz.
func mustSay(ctx context.Context, t *testing.T, text string) []int16 {
	t.Helper()
	v, err := espeak.New(espeak.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	if err := v.Speak(ctx, text, func(p []int16) error { pcm = append(pcm, p...); return nil }); err != nil {
		t.Fatal(err)
	}
	return pcm
}

// findSaid looks for said in heard, beginning between from and to: it returns where it
// fits best and how well (normalised cross-correlation over all of said: about 1 when
// heard is said, A-law and all, and far below for other speech).
func findSaid(heard, said []int16, from, to time.Duration) (time.Duration, float64) {
	// Align on a second of said from its first sound, then compare all of it.
	a := 0
	for a < len(said) && abs16(said[a]) < 1000 {
		a++
	}
	seg := said[a:min(len(said), a+8000)]
	if len(seg) == 0 {
		return 0, 0
	}
	bestLag, best := -1, -1.0
	for lag := max(0, int(from.Seconds()*8000)+a); lag <= int(to.Seconds()*8000)+a && lag+len(seg) <= len(heard); lag++ {
		if c := correlate(heard[lag:lag+len(seg)], seg); c > best {
			bestLag, best = lag, c
		}
	}
	if bestLag < 0 {
		return 0, 0
	}
	at := bestLag - a
	if at < 0 {
		return 0, 0
	}
	n := min(len(said), len(heard)-at)
	return time.Duration(at) * time.Second / 8000, correlate(heard[at:at+n], said[:n])
}

func correlate(x, y []int16) float64 {
	var xy, xx, yy float64
	for i := range x {
		a, b := float64(x[i]), float64(y[i])
		xy += a * b
		xx += a * a
		yy += b * b
	}
	if xx == 0 || yy == 0 {
		return 0
	}
	return xy / math.Sqrt(xx*yy)
}

func abs16(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

// speechSpan is the first and the last frame of speech; -1, -1 when there is none.
func speechSpan(frames []bool) (first, last int) {
	first, last = -1, -1
	for i, f := range frames {
		if f {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// frameTime is when a 20 ms frame begins.
func frameTime(i int) time.Duration { return time.Duration(i) * 20 * time.Millisecond }

// serverLoudFrames listens on an answered call for dur and counts the frames of speech.
func serverLoudFrames(d *diago.DialogServerSession, dur time.Duration) int {
	var props diago.MediaProps
	r, err := d.AudioReader(diago.WithAudioReaderMediaProps(&props))
	if err != nil {
		return 0
	}
	dec := daudio.PCMDecoderReader{}
	if err := dec.Init(props.Codec, r); err != nil {
		return 0
	}
	loud, buf := 0, make([]byte, media.RTPBufSize)
	deadline := time.Now().Add(dur)
	for time.Now().Before(deadline) {
		n, err := dec.Read(buf)
		if err != nil {
			break
		}
		var sum float64
		for i := 0; i+1 < n; i += 2 {
			v := float64(int16(uint16(buf[i]) | uint16(buf[i+1])<<8))
			sum += v * v
		}
		if n > 0 && math.Sqrt(sum/float64(n/2)) > 300 {
			loud++
		}
	}
	return loud
}
