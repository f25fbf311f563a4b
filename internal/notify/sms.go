package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/tresen/tresen/internal/errs"
)

// SMSSender sends a text message to a mobile number in E.164 form ("+491701234567").
// Implementations must keep the number and the text out of errors and logs.
type SMSSender interface {
	SendSMS(ctx context.Context, toE164, text string) error
}

// HTTPSMS sends SMS through an HTTP gateway of the common generic shape:
//
//	POST URL
//	Authorization: Bearer TOKEN
//	Content-Type: application/json
//
//	{"to":"+491701234567","text":"…"}
//
// Any 2xx status means the gateway took the message. Providers with another API get
// their own SMSSender, or a small relay of this shape in front of them.
type HTTPSMS struct {
	URL   string
	Token string
	// Client sends the requests; nil: one with a 30-second timeout.
	Client *http.Client
}

// SendSMS implements SMSSender.
func (s *HTTPSMS) SendSMS(ctx context.Context, toE164, text string) error {
	if !isE164(toE164) {
		return errs.E(errs.Invalid, "Die Mobilnummer ist ungültig: Sie muss international mit + und Ländervorwahl geschrieben sein.")
	}
	if strings.TrimSpace(text) == "" {
		return errs.E(errs.Invalid, "Die SMS ist leer.")
	}
	body, err := json.Marshal(struct {
		To   string `json:"to"`
		Text string `json:"text"`
	}{toE164, text})
	if err != nil {
		return fmt.Errorf("notify: SMS: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify: SMS gateway: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		// The error names the gateway's URL and the cause, never the request body.
		return fmt.Errorf("notify: SMS gateway: %w", err)
	}
	defer res.Body.Close()
	// Read a little of the body to let the connection be reused, and never show it: a
	// gateway may echo the number or the text in it.
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("notify: SMS gateway answered %d %s", res.StatusCode, http.StatusText(res.StatusCode))
	}
	return nil
}

// isE164 reports whether s is "+" and 8 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range []byte(s[1:]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// sms builds a short message for one SMS: it tries the full text and then leaves out,
// in turn, the doctor, the way to cancel and the practice's name, and takes the first
// that fits in one SMS. If none fits, the shortest goes out, in several parts.
func sms(p Practice, head, doctor, tail, contact string) string {
	name := ""
	if p.Name != "" {
		name = p.Name + ": "
	}
	sentence := func(name, doctor, contact string) string {
		s := name + head + doctor + tail
		if contact != "" {
			s += " " + contact
		}
		return s
	}
	candidates := []string{
		sentence(name, doctor, contact),
		sentence(name, "", contact),
		sentence(name, "", ""),
		sentence("", "", contact),
		sentence("", "", ""),
	}
	for _, c := range candidates {
		if smsFits(c) {
			return c
		}
	}
	return candidates[len(candidates)-1]
}

func smsCancel(p Practice) string {
	switch {
	case p.Phone != "":
		return "Absage bitte unter " + p.Phone + "."
	case p.Email != "":
		return "Absage bitte an " + p.Email + "."
	}
	return ""
}

func smsNew(p Practice) string {
	switch {
	case p.Phone != "":
		return "Neuer Termin gern unter " + p.Phone + "."
	case p.Email != "":
		return "Neuer Termin gern über " + p.Email + "."
	}
	return ""
}

// smsFits reports whether s fits in one SMS: 160 characters of the GSM 03.38 alphabet,
// or 70 UTF-16 units for anything else.
func smsFits(s string) bool {
	if n, ok := gsmLen(s); ok {
		return n <= 160
	}
	return len(utf16.Encode([]rune(s))) <= 70
}

// The GSM 03.38 default alphabet, and its extension table, whose characters take two.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

// gsmLen counts the septets s takes in the GSM 7-bit alphabet; ok is false if s has a
// character outside it, and goes out as UCS-2.
func gsmLen(s string) (n int, ok bool) {
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			n++
		case strings.ContainsRune(gsmExtension, r):
			n += 2
		default:
			return 0, false
		}
	}
	return n, true
}
