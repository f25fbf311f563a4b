package sip

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/internal/phone"
)

// referCaller is a diago caller that takes REFER itself, as a PBX or trunk does for a
// blind transfer: it answers 202 and hands the REFER to the test, which then reports
// the transfer's progress with NOTIFY (sendReferNotify).
func referCaller(t *testing.T, bindHost string) (*diago.Diago, <-chan *sip.Request) {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testpbx"))
	if err != nil {
		t.Fatal(err)
	}
	refers := make(chan *sip.Request, 4)
	port := callerPort(t, "udp", bindHost)
	dg := diago.NewDiago(ua,
		diago.WithLogger(testLogger(t)),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioAlaw}}),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: bindHost, BindPort: port}),
		diago.WithServerRequestMiddleware(func(next sipgo.RequestHandler) sipgo.RequestHandler {
			return func(req *sip.Request, tx sip.ServerTransaction) {
				if req.Method != sip.REFER {
					next(req, tx)
					return
				}
				_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusAccepted, "Accepted", nil))
				refers <- req
			}
		}),
	)
	ctx, cancel := context.WithCancel(context.Background())
	if err := dg.ServeBackground(ctx, func(d *diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); ua.Close() })
	waitListener(t, ua, "udp", bindHost, port)
	return dg, refers
}

// sendReferNotify reports the state of the transfer to the transferring side, as RFC
// 3515 has it: a NOTIFY in the call's dialog with the target's status line as sipfrag.
func sendReferNotify(ctx context.Context, t *testing.T, d *diago.DialogClientSession, frag, state string) {
	t.Helper()
	req := sip.NewRequest(sip.NOTIFY, d.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(frag))
	res, err := d.Do(ctx, req)
	if err != nil {
		t.Fatalf("NOTIFY %q: %v", frag, err)
	}
	if res.StatusCode != sip.StatusOK {
		t.Fatalf("NOTIFY %q answered %s", frag, res.StartLine())
	}
}

// referHandler transfers every call to target; when the transfer fails it keeps the call
// until the caller hangs up.
type referHandler struct {
	target string
	calls  chan phone.Call
	result chan error
	ended  chan struct{}
}

func newReferHandler(target string) *referHandler {
	return &referHandler{target: target, calls: make(chan phone.Call, 1), result: make(chan error, 1), ended: make(chan struct{})}
}

func (h *referHandler) HandleCall(ctx context.Context, c phone.Call) {
	defer close(h.ended)
	h.calls <- c
	err := c.Transfer(ctx, h.target)
	h.result <- err
	if err != nil {
		<-c.Done()
	}
}

func referTo(t *testing.T, refer *sip.Request) string {
	t.Helper()
	h := refer.GetHeader("Refer-To")
	if h == nil {
		t.Fatal("REFER without Refer-To")
	}
	var u sip.Uri
	if _, err := sip.ParseAddressValue(h.Value(), &u, nil); err != nil {
		t.Fatalf("Refer-To %q: %v", h.Value(), err)
	}
	return u.String()
}

func TestTransferSucceeds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target string
		trunk  bool
		want   string // Refer-To
	}{
		// The caller (PBX) is at 127.0.0.2, Tresen at 127.0.0.1: a number goes to the
		// PBX the call came from (its Contact's host and port), which routes it on.
		{"number to the peer", "+49 30 999", false, "sip:+4930999@127.0.0.2:*"},
		{"number to the trunk", "030 999", true, "sip:030999@trunk.test"},
		{"SIP URI as given", "sip:empfang@praxis.example", false, "sip:empfang@praxis.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newReferHandler(tc.target)
			o := Options{Handler: h}
			if tc.trunk {
				reg := startRegistrar(t, "4930123456t0", "geheim", 60)
				o.Trunk = &TrunkSettings{Registrar: reg.addr, Username: "4930123456t0", Password: "geheim", Domain: "trunk.test", KeepAlive: -1}
			}
			s := startServer(t, o)
			dg, refers := referCaller(t, "127.0.0.2")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			d, err := dg.Invite(ctx, target(t, s, "100", ""), diago.InviteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var refer *sip.Request
			select {
			case refer = <-refers:
			case <-time.After(10 * time.Second):
				t.Fatal("no REFER")
			}
			got := referTo(t, refer)
			if prefix, anyPort := strings.CutSuffix(tc.want, "*"); anyPort {
				if port, ok := strings.CutPrefix(got, prefix); !ok || strings.Trim(port, "0123456789") != "" || port == "" {
					t.Errorf("Refer-To = %s, want %sPORT", got, prefix)
				}
			} else if got != tc.want {
				t.Errorf("Refer-To = %s, want %s", got, tc.want)
			}
			sendReferNotify(ctx, t, d, "SIP/2.0 100 Trying", "active;expires=60")
			select {
			case err := <-h.result:
				t.Fatalf("Transfer returned %v on 100 Trying", err)
			case <-d.Context().Done():
				t.Fatal("the server hung up on 100 Trying")
			case <-time.After(200 * time.Millisecond):
			}
			sendReferNotify(ctx, t, d, "SIP/2.0 200 OK", "terminated;reason=noresource")
			select {
			case err := <-h.result:
				if err != nil {
					t.Fatalf("Transfer = %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Transfer did not return after NOTIFY 200")
			}
			// The server ends its leg with BYE.
			select {
			case <-d.Context().Done():
			case <-time.After(10 * time.Second):
				t.Fatal("no BYE from the server after the transfer")
			}
			select {
			case <-h.ended:
			case <-time.After(10 * time.Second):
				t.Fatal("handler did not return")
			}
			waitNoCalls(t, s)
		})
	}
}

func TestTransferFailsKeepsCall(t *testing.T) {
	for _, frag := range []string{"SIP/2.0 486 Busy Here", "SIP/2.0 503 Service Unavailable"} {
		code := strings.Fields(frag)[1]
		t.Run(code, func(t *testing.T) {
			h := newReferHandler("+49 30 999")
			s := startServer(t, Options{Handler: h})
			dg, refers := referCaller(t, "127.0.0.1")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			d, err := dg.Invite(ctx, target(t, s, "100", ""), diago.InviteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c := <-h.calls
			select {
			case <-refers:
			case <-time.After(10 * time.Second):
				t.Fatal("no REFER")
			}
			sendReferNotify(ctx, t, d, "SIP/2.0 100 Trying", "active;expires=60")
			sendReferNotify(ctx, t, d, frag, "terminated;reason=noresource")
			select {
			case err := <-h.result:
				if err == nil || !strings.Contains(err.Error(), code) {
					t.Fatalf("Transfer = %v, want an error naming %s", err, code)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Transfer did not return after the failure NOTIFY")
			}
			// The call stays with the assistant.
			select {
			case <-d.Context().Done():
				t.Fatal("the server hung up after a failed transfer")
			case <-time.After(300 * time.Millisecond):
			}
			if isClosed(c.Done()) {
				t.Fatal("Done closed after a failed transfer")
			}
			if err := c.Play(sine(100*time.Millisecond, 440)); err != nil {
				t.Fatalf("Play after a failed transfer: %v", err)
			}
			if err := d.Hangup(ctx); err != nil {
				t.Fatalf("caller's BYE: %v", err)
			}
			select {
			case <-h.ended:
			case <-time.After(10 * time.Second):
				t.Fatal("handler did not return after the caller's BYE")
			}
			waitNoCalls(t, s)
		})
	}
}
