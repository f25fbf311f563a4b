package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for localhost and its key.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestServeTLS starts the service over HTTPS: TLS 1.3 is negotiated, TLS 1.1 refused, and
// the session cookie is Secure with the __Host- prefix, with HSTS sent.
func TestServeTLS(t *testing.T) {
	m := NewMain()
	m.Addr, m.Demo, m.Out = "127.0.0.1:0", true, io.Discard
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	m.Config.DataDir = t.TempDir()
	m.TLSCert, m.TLSKey = writeCert(t, t.TempDir())
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	addr := m.ln.Addr().String()

	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if v := conn.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("negotiated %s, want TLS 1.3", tls.VersionName(v))
	}
	conn.Close()
	if _, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 accepted")
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(m.URL()+"/login", map[string][]string{"username": {"praxis.team"}, "password": {"falsch-falsch-1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("no HSTS header: %q", hsts)
	}
	// A successful login sets the cookie: give the demo user a known password first.
	u, err := m.DB.FindUserByUsername(context.Background(), "praxis.team")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.DB.CreateResetToken(cliCtx(context.Background()), u.TenantID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DB.ResetPassword(cliCtx(context.Background()), tok, "Sichere-Verbindung-13"); err != nil {
		t.Fatal(err)
	}
	resp, err = client.PostForm(m.URL()+"/login", map[string][]string{"username": {"praxis.team"}, "password": {"Sichere-Verbindung-13"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != "__Host-tresen_session" || !cookies[0].Secure || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie over TLS: %+v", cookies)
	}
}

// TestServeSIPFlags: the SIP options that do not fit together are refused with a clear
// message, and --sip-tls takes SIP over TLS with the server's certificate.
func TestServeSIPFlags(t *testing.T) {
	t.Setenv("TRESEN_SIP_TRUNK_PASSWORD", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sip-early-media"}, "nur zusammen mit --sip"},
		{[]string{"--sip", ":5060", "--sip-tls", ":5061"}, "braucht --tls-cert"},
		{[]string{"--sip", ":5060", "--sip-srtp"}, "nur zusammen mit --sip-tls"},
		{[]string{"--sip", ":5060", "--sip-trunk", "sipgate.de"}, "BENUTZER@REGISTRAR"},
		{[]string{"--sip", ":5060", "--sip-trunk", "1234567e0@sipgate.de"}, "TRESEN_SIP_TRUNK_PASSWORD"},
		{[]string{"--sip", ":5060", "--sip-trunk-auth-user", "praxis@t-online.de"}, "nur zusammen mit --sip-trunk"},
	} {
		err := NewMain().ParseFlags(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}

	m := NewMain()
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--sip", "127.0.0.1:0", "--sip-tls", "127.0.0.1:0",
		"--sip-srtp", "--sip-early-media", "--tls-cert", cert, "--tls-key", key}); err != nil {
		t.Fatal(err)
	}
	m.Out, m.Logger = io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	conn, err := tls.Dial("tcp", m.sip.TLSAddr(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("SIP over TLS: %v", err)
	}
	if n := len(conn.ConnectionState().PeerCertificates); n != 1 {
		t.Errorf("SIP over TLS showed %d certificates, want the server's", n)
	}
	conn.Close()
}
