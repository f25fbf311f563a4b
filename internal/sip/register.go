package sip

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/tresen/tresen/internal/errs"
)

// TrunkSettings are a SIP trunk account (sipgate, Telekom, easybell style): Tresen
// registers with it, and the trunk delivers the practice's calls to the registered
// contact.
type TrunkSettings struct {
	// Registrar is host[:port] of the registrar ("sipgate.de", "tel.t-online.de").
	Registrar string
	// Username and Password are the SIP credentials (digest auth). Username is also the
	// user of the address of record.
	Username string
	Password string
	// AuthUsername is the digest user when it differs from Username (Telekom: the
	// e-mail address of the account). Optional.
	AuthUsername string
	// Domain is the address-of-record domain; the registrar's host when empty.
	Domain string
	// Expires is the registration lifetime asked for; 600 s when 0. Tresen registers
	// again halfway through what the registrar grants.
	Expires time.Duration
	// KeepAlive is how often an OPTIONS goes to the registrar to keep NAT bindings
	// open; 25 s when 0, negative disables.
	KeepAlive time.Duration
}

func (t TrunkSettings) validate() error {
	switch {
	case t.Registrar == "":
		return errs.Field("Trunk.Registrar", "Registrar fehlt")
	case t.Username == "":
		return errs.Field("Trunk.Username", "SIP-Benutzer fehlt")
	case strings.ContainsAny(t.Username+t.Domain, " <>\"@;"):
		return errs.Field("Trunk.Username", "SIP-Benutzer oder Domain enthält unzulässige Zeichen")
	}
	return nil
}

func (t TrunkSettings) domain() string {
	if t.Domain != "" {
		return t.Domain
	}
	host, _, err := net.SplitHostPort(t.Registrar)
	if err != nil {
		return t.Registrar
	}
	return host
}

func (t TrunkSettings) registrarAddr() string {
	if _, _, err := net.SplitHostPort(t.Registrar); err == nil {
		return t.Registrar
	}
	return net.JoinHostPort(t.Registrar, "5060")
}

// registration keeps the server registered with its trunk.
type registration struct {
	s       *Server
	t       TrunkSettings
	client  *sipgo.Client
	callID  string
	fromTag string
	cseq    uint32
	contact sip.ContactHeader
	ok      atomic.Bool
}

func newRegistration(s *Server, t TrunkSettings) *registration {
	if t.Expires <= 0 {
		t.Expires = 600 * time.Second
	}
	if t.KeepAlive == 0 {
		t.KeepAlive = 25 * time.Second
	}
	host, port, _ := net.SplitHostPort(s.addr)
	opts := []sipgo.ClientOption{sipgo.WithClientNAT(), sipgo.WithClientLogger(s.log)}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		// Send from the listening socket, so that the trunk's INVITEs come back through
		// the same NAT binding.
		opts = append(opts, sipgo.WithClientConnectionAddr(s.addr))
	} else if ip, _, err := sip.ResolveInterfacesIP("ip4", nil); err == nil {
		host = ip.String()
	}
	if s.opts.ExternalHost != "" {
		host = s.opts.ExternalHost
	}
	opts = append(opts, sipgo.WithClientHostname(host))
	client, err := sipgo.NewClient(s.ua, opts...)
	if err != nil {
		s.log.Error("trunk client", "err", err)
		client, _ = sipgo.NewClient(s.ua)
	}
	p, _ := strconv.Atoi(port)
	r := &registration{
		s:       s,
		t:       t,
		client:  client,
		callID:  uuid.NewString(),
		fromTag: uuid.NewString()[:8],
	}
	r.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: t.Username, Host: host, Port: p}}
	return r
}

func (r *registration) registered() bool { return r.ok.Load() }

// run registers, re-registers before expiry, sends keep-alives and retries with backoff
// until ctx ends; then it unregisters.
func (r *registration) run(ctx context.Context) {
	log := r.s.log.With("trunk", r.t.domain())
	backoff := 5 * time.Second
	var keepAlive <-chan time.Time
	if r.t.KeepAlive > 0 {
		tk := time.NewTicker(r.t.KeepAlive)
		defer tk.Stop()
		keepAlive = tk.C
	}
	next := time.NewTimer(0)
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			if r.ok.Load() {
				uctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				if _, err := r.register(uctx, 0); err != nil {
					log.Warn("unregister failed", "err", err)
				}
				cancel()
				r.ok.Store(false)
			}
			return
		case <-keepAlive:
			kctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := r.ping(kctx); err != nil {
				log.Warn("trunk keep-alive failed", "err", err)
			}
			cancel()
		case <-next.C:
			granted, err := r.register(ctx, r.t.Expires)
			if err != nil {
				if ctx.Err() != nil {
					continue
				}
				r.ok.Store(false)
				log.Warn("trunk registration failed", "err", err, "retry_in", backoff)
				next.Reset(backoff)
				backoff = min(2*backoff, 5*time.Minute)
				continue
			}
			if !r.ok.Swap(true) {
				log.Info("registered at trunk", "expires", granted)
			}
			backoff = 5 * time.Second
			next.Reset(max(granted/2, time.Second))
		}
	}
}

// register sends one REGISTER (answering a digest challenge) and returns the lifetime
// the registrar granted.
func (r *registration) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	aor := sip.Uri{Scheme: "sip", User: r.t.Username, Host: r.t.domain()}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: r.t.domain()})
	req.SetDestination(r.t.registrarAddr())
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	callID := sip.CallIDHeader(r.callID)
	req.AppendHeader(&callID)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	contact := r.contact.Clone()
	req.AppendHeader(contact)
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(&exp)
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY"))

	res, err := r.client.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		user := r.t.AuthUsername
		if user == "" {
			user = r.t.Username
		}
		res, err = r.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: r.t.Password})
		if err != nil {
			return 0, err
		}
	}
	if cs := req.CSeq(); cs != nil {
		r.cseq = cs.SeqNo // digest auth counted up
	}
	if res.StatusCode != sip.StatusOK {
		return 0, fmt.Errorf("registrar answered %d %s", res.StatusCode, res.Reason)
	}
	// Behind NAT the registrar tells us where it saw us (RFC 3581); register that.
	if via := res.Via(); via != nil {
		if rport, _ := via.Params.Get("rport"); rport != "" {
			if p, err := strconv.Atoi(rport); err == nil && p > 0 && p != r.contact.Address.Port {
				r.contact.Address.Port = p
			}
			if received, _ := via.Params.Get("received"); received != "" && net.ParseIP(received) != nil {
				r.contact.Address.Host = received
			}
		}
	}
	return grantedExpiry(res, expires), nil
}

// grantedExpiry reads the lifetime the registrar granted: the expires parameter of our
// Contact, else the Expires header, else what we asked for.
func grantedExpiry(res *sip.Response, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok && c.Params != nil {
			if v, ok := c.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}

// ping sends OPTIONS to the registrar: any answer keeps the NAT binding open.
func (r *registration) ping(ctx context.Context) error {
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: r.t.domain()})
	req.SetDestination(r.t.registrarAddr())
	_, err := r.client.Do(ctx, req)
	return err
}
