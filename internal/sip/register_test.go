package sip

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// registrar is a small SIP registrar, as a trunk runs one: it challenges every REGISTER
// without valid digest credentials, grants a short lifetime, and counts keep-alives.
type registrar struct {
	addr     string
	user     string
	password string
	grant    int // seconds

	mu         sync.Mutex
	challenges int
	registers  []int // Expires of each accepted REGISTER
	contacts   []string
	options    int
	nonce      int
}

func startRegistrar(t *testing.T, user, password string, grant int) *registrar {
	t.Helper()
	r := &registrar{user: user, password: password, grant: grant}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("registrar"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(r.handleRegister)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		r.mu.Lock()
		r.options++
		r.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = conn.LocalAddr().String()
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() { conn.Close(); ua.Close() })
	return r
}

func (r *registrar) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	r.mu.Lock()
	defer r.mu.Unlock()
	challenge := func() {
		r.nonce++
		r.challenges++
		chal := digest.Challenge{Realm: "trunk.test", Nonce: fmt.Sprintf("n%d", r.nonce), Algorithm: "MD5", QOP: []string{"auth"}}
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
		_ = tx.Respond(res)
	}
	h := req.GetHeader("Authorization")
	if h == nil {
		challenge()
		return
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username != r.user {
		challenge()
		return
	}
	want, err := digest.Digest(&digest.Challenge{Realm: "trunk.test", Nonce: cred.Nonce, Algorithm: "MD5", QOP: []string{"auth"}}, digest.Options{
		Method: "REGISTER", URI: cred.URI, Username: r.user, Password: r.password, Count: cred.Nc, Cnonce: cred.Cnonce,
	})
	if err != nil || want.Response != cred.Response {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	exp := -1
	if e := req.GetHeader("Expires"); e != nil {
		exp, _ = strconv.Atoi(e.Value())
	}
	r.registers = append(r.registers, exp)
	if c := req.Contact(); c != nil {
		r.contacts = append(r.contacts, c.Address.String())
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	grant := min(exp, r.grant)
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(grant)))
	_ = tx.Respond(res)
}

func (r *registrar) snapshot() (challenges int, registers []int, contacts []string, options int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.challenges, append([]int(nil), r.registers...), append([]string(nil), r.contacts...), r.options
}

func TestTrunkRegistration(t *testing.T) {
	reg := startRegistrar(t, "4930123456t0", "geheim", 2)
	s := startServer(t, Options{Handler: newRecorder(nil), Trunk: &TrunkSettings{
		Registrar: reg.addr, Username: "4930123456t0", Password: "geheim", Domain: "trunk.test",
		Expires: time.Minute, KeepAlive: 300 * time.Millisecond,
	}})
	// Registered, then registered again before the 2 s the registrar granted ran out.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, regs, _, _ := reg.snapshot(); len(regs) >= 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !s.Registered() {
		t.Error("Registered() = false")
	}
	challenges, regs, contacts, options := reg.snapshot()
	if len(regs) < 3 {
		t.Fatalf("accepted REGISTERs = %d in 5 s, want ≥ 3 (re-registration every second)", len(regs))
	}
	if challenges < 1 {
		t.Error("registrar never challenged: digest auth not exercised")
	}
	if regs[0] != 60 {
		t.Errorf("first REGISTER asked Expires %d, want 60", regs[0])
	}
	_, port, _ := net.SplitHostPort(s.Addr())
	if want := "sip:4930123456t0@127.0.0.1:" + port; contacts[0] != want {
		t.Errorf("Contact = %s, want %s", contacts[0], want)
	}
	if options < 2 {
		t.Errorf("keep-alives = %d, want ≥ 2", options)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, regs, _, _ := reg.snapshot(); regs[len(regs)-1] != 0 {
		t.Errorf("last REGISTER Expires = %d, want 0 (unregister on Close)", regs[len(regs)-1])
	}
}

func TestTrunkWrongPassword(t *testing.T) {
	reg := startRegistrar(t, "user", "right", 60)
	s := startServer(t, Options{Handler: newRecorder(nil), Trunk: &TrunkSettings{
		Registrar: reg.addr, Username: "user", Password: "wrong", KeepAlive: -1,
	}})
	time.Sleep(500 * time.Millisecond)
	if s.Registered() {
		t.Error("Registered() = true with a wrong password")
	}
	if _, regs, _, _ := reg.snapshot(); len(regs) != 0 {
		t.Errorf("registrar accepted %d REGISTERs", len(regs))
	}
}

func TestTrunkCallUsesToNumber(t *testing.T) {
	// A trunk delivers to the registered contact (user = account name); the dialled
	// number is in To.
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "4930123456t0", Host: "10.0.0.1"})
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "+49 30 123456", Host: "sipgate.de"}})
	if got := calledNumber(req, []string{"4930123456t0"}); got != "+4930123456" {
		t.Errorf("calledNumber = %q", got)
	}
}
