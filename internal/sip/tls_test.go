package sip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// testCert is a self-signed certificate for 127.0.0.1 and the pool that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tresen.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// tlsCaller is a diago user agent calling over TLS, with SDES-SRTP when srtp is set
// (diago listens on its transports, so it needs a certificate too).
func tlsCaller(t *testing.T, cert tls.Certificate, pool *x509.CertPool, srtp bool) *diago.Diago {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testcaller"), sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: pool}))
	if err != nil {
		t.Fatal(err)
	}
	mode := 0
	if srtp {
		mode = 1
	}
	dg := diago.NewDiago(ua,
		diago.WithLogger(testLogger(t)),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
		diago.WithTransport(diago.Transport{Transport: "tls", BindHost: "127.0.0.1", BindPort: 0,
			TLSConf: &tls.Config{Certificates: []tls.Certificate{cert}}, MediaSRTP: mode}),
	)
	ctx, cancel := context.WithCancel(context.Background())
	if err := dg.ServeBackground(ctx, func(d *diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); ua.Close() })
	return dg
}

func tlsTarget(t *testing.T, s *Server) sip.Uri {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.TLSAddr())
	p, _ := strconv.Atoi(port)
	u := sip.Uri{Scheme: "sip", User: "0421123456", Host: host, Port: p, UriParams: sip.NewParams()}
	u.UriParams.Add("transport", "tls")
	return u
}

// A call over TLS with SRTP: the answer carries Tresen's SDES key, and audio flows both
// ways (it could not be decoded if either side sent it unencrypted or with another key).
func TestTLSWithSRTP(t *testing.T) {
	cert, pool := testCert(t)
	h := newRecorder(sine(time.Second, 440))
	s := startServer(t, Options{Handler: h, TLSAddr: "127.0.0.1:0", TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, SRTP: true})
	dg := tlsCaller(t, cert, pool, true)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d, err := dg.Invite(ctx, tlsTarget(t, s), diago.InviteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	answer := string(d.InviteResponse.Body())
	if !strings.Contains(answer, "RTP/SAVP") || !strings.Contains(answer, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") {
		t.Errorf("answer without SRTP:\n%s", answer)
	}
	<-h.answered
	go func() {
		var props diago.MediaProps
		if w, err := d.AudioWriter(diago.WithAudioWriterMediaProps(&props)); err == nil {
			writeTone(w, props.Codec, sine(time.Second, 300))
		}
	}()
	if n := hearLoud(t, d, 25, 10*time.Second); n < 25 {
		t.Errorf("caller decoded %d loud frames of the prompt over SRTP, want ~50", n)
	}
	eventually(10*time.Second, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.loud >= 25 })
	_ = d.Hangup(ctx)
	<-h.ended
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loud < 25 {
		t.Errorf("server decoded %d loud frames of the caller over SRTP, want ~50", h.loud)
	}
}

// Where SRTP is required, plain RTP over TLS is refused; SRTP keys over UDP are refused
// always (they would travel in clear).
func TestSRTPPolicy(t *testing.T) {
	cert, pool := testCert(t)
	h := newRecorder(nil)
	s := startServer(t, Options{Handler: h, TLSAddr: "127.0.0.1:0", TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, SRTP: true})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err := tlsCaller(t, cert, pool, false).Invite(ctx, tlsTarget(t, s), diago.InviteOptions{})
	if status := responseStatus(err); status != 488 {
		t.Errorf("plain RTP over TLS: %v, want 488", err)
	}

	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testcaller"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	port := freeUDPPort(t)
	udp := diago.NewDiago(ua, diago.WithLogger(testLogger(t)),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: atoi(t, port), MediaSRTP: 1}))
	if err := udp.ServeBackground(ctx, func(*diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	waitListener(t, ua, "udp", "127.0.0.1", atoi(t, port))
	_, err = udp.Invite(ctx, target(t, s, "0421123456", ""), diago.InviteOptions{})
	if status := responseStatus(err); status != 488 {
		t.Errorf("SRTP over UDP: %v, want 488", err)
	}
	select {
	case <-h.answered:
		t.Error("a refused call reached the handler")
	default:
	}
}
