// Package sip is the phone assistant's SIP carrier: it takes calls from a SIP trunk or a
// practice PBX over UDP and TCP, answers them with G.711 and hands each one to a
// phone.Handler as a phone.Call. It is built on emiago/sipgo and emiago/diago.
package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/phone"
)

// Options configure a Server.
type Options struct {
	// Addr is the host:port to take SIP on, UDP and TCP both ("0.0.0.0:5060";
	// "127.0.0.1:0" picks a free port, see Server.Addr).
	Addr string
	// TLSAddr, with TLSConfig, also takes SIP over TLS on this host:port (5061 by
	// convention); "" takes none. "127.0.0.1:0" picks a free port (see Server.TLSAddr).
	TLSAddr   string
	TLSConfig *tls.Config
	// SRTP requires SRTP (SDES keys, AES_CM_128_HMAC_SHA1_80) on calls over TLS: an
	// offer of plain RTP there is refused with 488. Over UDP and TCP, where the keys would
	// travel in clear, SRTP offers are refused either way.
	SRTP bool
	// ExternalHost is the address peers reach this server at, when that is not the
	// address bound (NAT); it goes into Contact and SDP. Optional.
	ExternalHost string
	// Handler takes the calls when Route is nil (with --demo: every number reaches the
	// demo practice).
	Handler phone.Handler
	// Route maps the called number (E.164 where it is one, see phone.Call.To) to the
	// handler of the practice that owns it. An error of kind errs.NotFound rejects the
	// call with 404; other errors with 503.
	Route func(ctx context.Context, called string) (phone.Handler, error)
	// Trunk, when set, registers the server at a SIP trunk (sipgate, Telekom, easybell)
	// so that the trunk delivers the practice's calls here.
	Trunk *TrunkSettings
	// RingFor is how long a call rings (180 Ringing) before it is answered; 0 answers at
	// once.
	RingFor time.Duration
	// EarlyMedia makes a call that rings before it is answered (RingFor, or while the
	// practice's own phone rings first) ring with 183 Session Progress and SDP and the
	// German ringing tone in the media, for trunks and PBXs that pass on in-band tones
	// rather than make their own on 180. The caller pays nothing until the answer.
	EarlyMedia bool
	// MediaTimeout hangs up a call that has sent no RTP for this long while not on hold
	// (the caller's side is gone without a BYE). 0 means 30 seconds; negative disables.
	MediaTimeout time.Duration
	// UserAgent names Tresen in SIP messages; "Tresen" when empty.
	UserAgent string
	// Logger logs calls without personal data (no numbers). slog.Default when nil.
	Logger *slog.Logger
}

// Server takes SIP calls.
type Server struct {
	opts Options
	log  *slog.Logger

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	dg     *diago.Diago
	udp    net.PacketConn
	tcp    net.Listener
	tls    net.Listener
	addr   string
	trunk  *registration
	cancel context.CancelFunc

	pending sync.Map // Call-ID → admission, from the INVITE check to the dialog handler

	stop chan struct{} // closed by Close: calls joined to the practice end too

	mu      sync.Mutex
	calls   map[string]*call // by Call-ID
	closed  bool
	running sync.WaitGroup
}

// admission is a new call that passed the checks: its handler and answer codecs.
type admission struct {
	handler phone.Handler
	to      string
	from    string
	offer   offer
	// late: the INVITE had no SDP; Tresen offers in its 200 OK and the caller answers in
	// the ACK (offer.codecs are what Tresen offers).
	late bool
}

// lateOfferCodecs are what Tresen offers to an INVITE without SDP, A-law first.
var lateOfferCodecs = []media.Codec{media.CodecAudioAlaw, media.CodecAudioUlaw, media.CodecTelephoneEvent8000}

// New checks the options and prepares a server; Start listens.
func New(o Options) (*Server, error) {
	if o.Addr == "" {
		return nil, errs.Field("Addr", "SIP-Adresse fehlt")
	}
	if o.Handler == nil && o.Route == nil {
		return nil, errs.Field("Handler", "weder Handler noch Route gesetzt")
	}
	if (o.TLSAddr == "") != (o.TLSConfig == nil) {
		return nil, errs.Field("TLSAddr", "TLS braucht Adresse und Zertifikat")
	}
	if o.SRTP && o.TLSAddr == "" {
		return nil, errs.Field("SRTP", "SRTP nur zusammen mit SIP über TLS")
	}
	if o.Trunk != nil {
		if err := o.Trunk.validate(); err != nil {
			return nil, err
		}
	}
	if o.MediaTimeout == 0 {
		o.MediaTimeout = 30 * time.Second
	}
	if o.UserAgent == "" {
		o.UserAgent = "Tresen"
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Server{opts: o, log: log.With("component", "sip"), calls: map[string]*call{}, stop: make(chan struct{})}, nil
}

// Start listens on UDP and TCP at Addr (the same port for both) and, with a trunk,
// registers. It returns once the server is listening; calls are taken until ctx ends or
// Close.
func (s *Server) Start(ctx context.Context) (err error) {
	defer errs.Wrap(&err, "sip: start %s", s.opts.Addr)
	host, _, err := net.SplitHostPort(s.opts.Addr)
	if err != nil {
		return err
	}
	if err := s.listen(); err != nil {
		return err
	}
	_, portStr, _ := net.SplitHostPort(s.udp.LocalAddr().String())
	port, _ := strconv.Atoi(portStr)
	if host == "" {
		host = "0.0.0.0"
	}
	s.addr = net.JoinHostPort(host, portStr)

	quiet := redactingLogger(s.log)
	s.ua, err = sipgo.NewUA(sipgo.WithUserAgent(s.opts.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	if err != nil {
		s.closeListeners()
		return err
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		s.closeListeners()
		return err
	}
	dgOpts := []diago.DiagoOption{
		diago.WithServer(s.srv),
		diago.WithLogger(quiet),
		diago.WithServerRequestMiddleware(s.middleware),
		// What Tresen offers itself (late offer, calls it places): A-law first.
		diago.WithMediaConfig(diago.MediaConfig{Codecs: lateOfferCodecs}),
	}
	for _, tr := range []string{"udp", "tcp"} {
		dgOpts = append(dgOpts, diago.WithTransport(diago.Transport{
			ID:           tr,
			Transport:    tr,
			BindHost:     host,
			BindPort:     port,
			ExternalHost: s.opts.ExternalHost,
			ExternalPort: port,
		}))
	}
	if s.opts.TLSAddr != "" {
		if s.tls, err = tls.Listen("tcp", s.opts.TLSAddr, s.opts.TLSConfig); err != nil {
			s.closeListeners()
			return err
		}
		thost, tport, _ := net.SplitHostPort(s.tls.Addr().String())
		tp, _ := strconv.Atoi(tport)
		srtp := 0
		if s.opts.SRTP {
			srtp = 1 // SDES
		}
		dgOpts = append(dgOpts, diago.WithTransport(diago.Transport{
			ID: "tls", Transport: "tls", BindHost: thost, BindPort: tp,
			ExternalHost: s.opts.ExternalHost, ExternalPort: tp,
			TLSConf: s.opts.TLSConfig, MediaSRTP: srtp,
		}))
	}
	s.dg = diago.NewDiago(s.ua, dgOpts...)
	s.dg.HandleFunc(s.serveDialog)

	ctx, s.cancel = context.WithCancel(ctx)
	udp, tcp := s.udp, s.tcp
	go func() {
		if err := s.srv.ServeUDP(udp); !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
			s.log.Error("SIP over UDP stopped", "err", err)
		}
	}()
	go func() {
		if err := s.srv.ServeTCP(tcp); !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
			s.log.Error("SIP over TCP stopped", "err", err)
		}
	}()
	if tl := s.tls; tl != nil {
		go func() {
			if err := s.srv.ServeTLS(tl); !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				s.log.Error("SIP over TLS stopped", "err", err)
			}
		}()
	}
	go func() {
		<-ctx.Done()
		_ = s.Close()
	}()
	// Requests we send (REGISTER, BYE) must leave from the listening socket, so wait
	// until sipgo has it in its connection pool.
	for i := 0; ; i++ {
		if _, err := s.ua.TransportLayer().GetConnection("udp", udp.LocalAddr().String()); err == nil || i == 100 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s.opts.Trunk != nil {
		s.trunk = newRegistration(s, *s.opts.Trunk)
		s.running.Add(1)
		go func() {
			defer s.running.Done()
			s.trunk.run(ctx)
		}()
	}
	s.log.Info("taking SIP calls", "addr", s.addr, "tls", s.TLSAddr(), "srtp", s.opts.SRTP)
	return nil
}

// listen binds UDP and TCP on one port; with port 0 it looks for a port free for both.
func (s *Server) listen() error {
	host, port, _ := net.SplitHostPort(s.opts.Addr)
	var lastErr error
	for range 20 {
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return err
		}
		_, p, _ := net.SplitHostPort(udp.LocalAddr().String())
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			s.udp, s.tcp = udp, tcp
			return nil
		}
		udp.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return lastErr
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.tls != nil {
		s.tls.Close()
	}
}

// Addr is the host:port the server listens on (UDP and TCP), known after Start.
func (s *Server) Addr() string { return s.addr }

// TLSAddr is the host:port taking SIP over TLS, "" without TLS.
func (s *Server) TLSAddr() string {
	if s.tls == nil {
		return ""
	}
	return s.tls.Addr().String()
}

// Registered reports whether the trunk registration is current (false without a trunk).
func (s *Server) Registered() bool { return s.trunk != nil && s.trunk.registered() }

// Close hangs up all calls, unregisters from the trunk and stops listening.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()

	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if err := c.Hangup(ctx); err != nil {
				s.log.Warn("hangup on close", "call", c.id, "err", err)
			}
		})
	}
	wg.Wait()
	if s.cancel != nil {
		s.cancel() // stops the registration loop, which unregisters
	}
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.log.Warn("calls still running after close")
	}
	s.closeListeners()
	if s.ua != nil {
		return s.ua.Close()
	}
	return nil
}

// middleware runs before diago's handlers: it turns away calls Tresen cannot take with a
// clear status, answers SIP INFO DTMF itself, and keeps a panic in one request from
// taking the server down.
func (s *Server) middleware(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic handling SIP request", "method", req.Method.String(), "panic", fmt.Sprint(r))
				if req.Method != sip.ACK {
					_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Internal Error", nil))
				}
			}
		}()
		switch req.Method {
		case sip.INVITE:
			if to := req.To(); to != nil && to.Params.Has("tag") {
				if !s.checkReInvite(req, tx) {
					return
				}
			} else if !s.admit(req, tx) {
				return
			}
		case sip.INFO:
			s.handleInfo(req, tx)
			return
		}
		next(req, tx)
	}
}

func respond(tx sip.ServerTransaction, req *sip.Request, status int, reason string) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, status, reason, nil))
}

// admit checks a new INVITE: the called number must belong to a practice, the request
// must be complete and the offer usable.
func (s *Server) admit(req *sip.Request, tx sip.ServerTransaction) bool {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return false
	}
	if req.SipVersion != "SIP/2.0" {
		res := sip.NewResponseFromRequest(req, 505, "Version Not Supported", nil)
		res.SipVersion = "SIP/2.0" // sipgo mirrors the request's
		_ = tx.Respond(res)
		return false
	}
	if req.Contact() == nil || req.CallID() == nil || req.From() == nil || req.To() == nil {
		respond(tx, req, sip.StatusBadRequest, "Bad Request - missing Contact, Call-ID, From or To")
		return false
	}
	if cseq := req.CSeq(); cseq == nil || cseq.MethodName != sip.INVITE {
		// RFC 3261 8.1.1.5; sipgo keys the transaction on the CSeq method.
		respond(tx, req, sip.StatusBadRequest, "Bad Request - CSeq method is not INVITE")
		return false
	}
	var (
		off  offer
		late bool
		err  error
	)
	switch ct := req.ContentType(); {
	case ct == nil && len(req.Body()) == 0:
		// Late offer: Tresen offers in its 200 OK, the caller answers in the ACK.
		late, off.codecs = true, lateOfferCodecs
	case ct == nil || !strings.EqualFold(strings.TrimSpace(strings.SplitN(ct.Value(), ";", 2)[0]), "application/sdp"):
		respond(tx, req, sip.StatusUnsupportedMediaType, "Unsupported Media Type - SDP offer expected")
		return false
	default:
		if off, err = parseOffer(req.Body()); err != nil {
			var oe *offerError
			if errors.As(err, &oe) {
				s.log.Info("call refused", "status", oe.status, "reason", oe.reason)
				respond(tx, req, oe.status, reasonPhrase(oe.status)+" - "+oe.reason)
				return false
			}
			respond(tx, req, sip.StatusBadRequest, "Bad Request")
			return false
		}
		overTLS := strings.EqualFold(req.Transport(), "TLS")
		switch {
		case off.secure && !(overTLS && s.opts.SRTP):
			respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here - SRTP only over TLS")
			return false
		case !off.secure && overTLS && s.opts.SRTP:
			respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here - SRTP required")
			return false
		}
		req.SetBody(off.body)
	}
	to := calledNumber(req, s.accountUsers())
	handler := s.opts.Handler
	if s.opts.Route != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		handler, err = s.opts.Route(ctx, to)
		cancel()
		switch {
		case errs.Is(err, errs.NotFound) || (err == nil && handler == nil):
			s.log.Info("call refused: number not served")
			respond(tx, req, sip.StatusNotFound, "Not Found")
			return false
		case err != nil:
			s.log.Error("call refused: routing failed", "err", err)
			respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
			return false
		}
	}
	s.pending.Store(req.CallID().Value(), admission{handler: handler, to: to, from: callerNumber(req), offer: off, late: late})
	return true
}

// checkReInvite checks an INVITE inside a call (hold, resume, codec change, session
// refresh) before diago applies it.
func (s *Server) checkReInvite(req *sip.Request, tx sip.ServerTransaction) bool {
	if req.Contact() == nil || req.CallID() == nil {
		respond(tx, req, sip.StatusBadRequest, "Bad Request - missing Contact or Call-ID")
		return false
	}
	if len(req.Body()) == 0 {
		return true // a session refresh; diago answers with the current SDP
	}
	off, err := parseOffer(req.Body())
	if err != nil {
		status := sip.StatusBadRequest
		var oe *offerError
		if errors.As(err, &oe) {
			status = oe.status
		}
		respond(tx, req, status, reasonPhrase(status))
		return false
	}
	req.SetBody(off.body)
	if c := s.call(req.CallID().Value()); c != nil {
		c.held.Store(off.held)
	}
	return true
}

func reasonPhrase(status int) string {
	switch status {
	case 400:
		return "Bad Request"
	case 488:
		return "Not Acceptable Here"
	}
	return "Error"
}

// handleInfo takes DTMF sent as SIP INFO.
func (s *Server) handleInfo(req *sip.Request, tx sip.ServerTransaction) {
	if req.CallID() == nil {
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	c := s.call(req.CallID().Value())
	if c == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if len(req.Body()) == 0 {
		respond(tx, req, sip.StatusOK, "OK") // INFO as a keep-alive
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	r, err := infoDigit(ct, req.Body())
	if err != nil {
		if strings.HasPrefix(strings.ToLower(ct), "application/dtmf") {
			respond(tx, req, sip.StatusBadRequest, "Bad Request - "+err.Error())
		} else {
			respond(tx, req, sip.StatusUnsupportedMediaType, "Unsupported Media Type")
		}
		return
	}
	respond(tx, req, sip.StatusOK, "OK")
	c.pushDTMF(r)
}

func (s *Server) call(id string) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func (s *Server) accountUsers() []string {
	if s.opts.Trunk == nil {
		return nil
	}
	return []string{s.opts.Trunk.Username}
}

// serveDialog runs one admitted call, from ringing to the end of the handler. diago
// hangs up after it returns if neither side has yet.
func (s *Server) serveDialog(d *diago.DialogServerSession) {
	id := d.InviteRequest.CallID().Value()
	v, ok := s.pending.LoadAndDelete(id)
	if !ok {
		_ = d.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		return
	}
	adm := v.(admission)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = d.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	s.running.Add(1)
	s.mu.Unlock()
	defer s.running.Done()

	if err := d.Trying(); err != nil {
		return
	}
	ring := newRinger(s, d, adm)
	defer ring.stop()
	if r, ok := adm.handler.(phone.Router); ok && !adm.late {
		// (A late-offer call goes to the assistant at once: its codec is only known after
		// the answer, too late to match the practice's phone.)
		ctx, cancel := context.WithTimeout(d.Context(), 5*time.Second)
		target, wait, err := r.RingFirst(ctx, adm.to)
		cancel()
		if err != nil {
			s.log.Error("ring first: no routing, the assistant answers", "call", id, "err", err)
		}
		if target != "" && err == nil {
			if s.ringFirst(d, adm, ring, target, wait) != ringUnanswered {
				return
			}
		}
	}
	if s.opts.RingFor > 0 {
		if err := ring.start(); err != nil {
			return
		}
		t := time.NewTimer(s.opts.RingFor)
		select {
		case <-t.C:
		case <-d.Context().Done(): // CANCEL
			t.Stop()
			s.log.Info("call cancelled while ringing", "call", id)
			return
		}
	}

	ring.stop()
	c := newCall(s, d, adm)
	var err error
	if adm.late {
		if err = d.AnswerLate(); err == nil {
			c.mediaUpdated(&d.DialogMedia) // the codec the caller chose in its ACK
		}
	} else {
		err = d.AnswerOptions(diago.AnswerOptions{Codecs: adm.offer.codecs, OnMediaUpdate: c.mediaUpdated})
	}
	if err != nil {
		s.log.Warn("answer failed", "call", id, "err", err)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = d.Hangup(context.Background())
		return
	}
	s.calls[id] = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.calls, id)
		s.mu.Unlock()
	}()

	s.log.Info("call answered", "call", id, "codec", c.codecName())
	c.start()
	ctx, cancel := context.WithCancel(d.Context())
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	adm.handler.HandleCall(ctx, c)
	cancel()
	if out := c.joined.Load(); out != nil {
		// Transferred by joining: the call goes on between the caller and the team.
		s.untilEither(d, out)
		hangup(out, c)
		out.Close()
	} else if !c.ended() {
		hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := c.Hangup(hctx); err != nil {
			s.log.Warn("hangup after handler", "call", id, "err", err)
		}
		hcancel()
	}
	c.wait()
	s.log.Info("call ended", "call", id)
}
