package main

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/internal/demo"
	"github.com/tresen/tresen/internal/request"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
)

// TestPhoneKeypad is a call to the demo practice over SIP without speech recognition: the
// caller hears the greeting and the menu (espeak-ng's voice in A-law RTP), presses 2 for a
// prescription and gives her birth date by keypad; the practice's inbox gets the request
// with her number.
func TestPhoneKeypad(t *testing.T) {
	m, _ := MustRunMain(t, store.SQLite, func(m *Main) { m.SIPAddr = "127.0.0.1:0" })
	if m.sip == nil {
		t.Fatal("no SIP server")
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("Erika Mustermann's phone"))
	if err != nil {
		t.Fatal(err)
	}
	dg := diago.NewDiago(ua,
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: 0}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := dg.ServeBackground(ctx, func(*diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	host, port, _ := net.SplitHostPort(m.sip.Addr())
	p, _ := strconv.Atoi(port)
	// The caller's number as a carrier asserts it.
	d, err := dg.Invite(ctx, sip.Uri{Scheme: "sip", User: "04211234567", Host: host, Port: p},
		diago.InviteOptions{Headers: []sip.Header{sip.NewHeader("P-Asserted-Identity", "<sip:+491701234567@127.0.0.1>")}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Hangup(context.Background())

	// Listen until the menu has been heard: speech, not silence.
	var props diago.MediaProps
	r, err := d.AudioReader(diago.WithAudioReaderMediaProps(&props))
	if err != nil {
		t.Fatal(err)
	}
	dec := audio.PCMDecoderReader{}
	if err := dec.Init(props.Codec, r); err != nil {
		t.Fatal(err)
	}
	heard := make(chan int, 1)
	go func() {
		loud, buf := 0, make([]byte, media.RTPBufSize)
		deadline := time.Now().Add(4 * time.Second)
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
		heard <- loud
	}()
	if loud := <-heard; loud < 50 {
		t.Fatalf("the caller heard %d frames of speech in 4 s, want the greeting (≥ 1 s)", loud)
	}
	dw, err := d.AudioWriterDTMF()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range "2" + "12031984#" {
		if err := dw.WriteDTMF(k); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
	}

	// The practice's inbox has the request once the call is over.
	pr, err := m.DB.FindTenantByCode(ctx, demo.PracticeTenant.Kind, demo.PracticeTenant.Code)
	if err != nil {
		t.Fatal(err)
	}
	kind := retention.Request
	for {
		recs, err := m.DB.ListRecords(ctx, pr.ID, store.RecordFilter{Kind: &kind})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 1 {
			var rq request.Request
			if err := json.Unmarshal(recs[0].Data, &rq); err != nil {
				t.Fatal(err)
			}
			if rq.Type == request.PrescriptionRefill && rq.Patient.BirthDate == "1984-03-12" && rq.Channel == request.Phone {
				if rq.Patient.Phone != "+491701234567" {
					t.Errorf("caller's number %q", rq.Patient.Phone)
				}
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no prescription request with the birth date: %d requests", len(recs))
		case <-time.After(200 * time.Millisecond):
		}
	}
}
