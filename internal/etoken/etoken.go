// Package etoken reads E-Rezept-Token (the redemption data of an electronic prescription)
// from the DataMatrix codes of a Patientenausdruck (paper printout for patients without the
// E-Rezept app), as specified by gematik in gemSpec_DM_eRp.
package etoken

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/prescription"
)

// Token is one E-Rezept-Token: what a pharmacy needs to claim a prescription at the
// E-Rezept-Fachdienst ($accept). The AccessCode is a secret: whoever holds it can claim the
// prescription, so String, GoString and LogValue mask it and no error of this package
// repeats it.
type Token struct {
	// TaskID is the id of the Task in the Fachdienst, which is the Rezept-ID, such as
	// 160.000.764.737.300.50.
	TaskID string
	// AccessCode is the AccessCode of the Task: 64 hexadecimal digits (256 bits).
	AccessCode string
}

// URL returns the token in the form the printout and the Fachdienst use:
// Task/<TaskID>/$accept?ac=<AccessCode>. It holds the secret AccessCode.
func (t Token) URL() string {
	return taskPrefix + t.TaskID + acceptInfix + t.AccessCode
}

// String returns the token with its AccessCode masked, for logs and messages.
func (t Token) String() string {
	return taskPrefix + t.TaskID + acceptInfix + "…"
}

// GoString masks the AccessCode for %#v too.
func (t Token) GoString() string {
	return fmt.Sprintf("etoken.Token{TaskID:%q, AccessCode:\"…\"}", t.TaskID)
}

// LogValue keeps the AccessCode out of structured logs, whose JSON handler would otherwise
// write every field.
func (t Token) LogValue() slog.Value {
	return slog.StringValue(t.String())
}

const (
	taskPrefix  = "Task/"
	acceptInfix = "/$accept?ac="
	// accessCodeLen is the length of an AccessCode: 256 bits in hexadecimal digits.
	accessCodeLen = 64
	// maxTokens is the most tokens one code may carry (gemSpec_DM_eRp A_19553-01, A_24571).
	maxTokens = 3
	// maxPayload bounds what Parse reads. A DataMatrix holds at most 1,556 bytes (144×144,
	// binary), and three tokens with the longest Task.id gematik allows take under 600.
	maxPayload = 4096
)

// Parse reads the content of one DataMatrix code of an E-Rezept printout: JSON of the form
// {"urls":["Task/<Rezept-ID>/$accept?ac=<AccessCode>", …]} with one to three tokens
// (gemSpec_DM_eRp A_19554, A_19553-01). It returns the tokens in the order of the code, each
// once. Every token is checked, as the pharmacy must validate scanned content before using
// it (A_22078): the Rezept-ID with its check digits, the AccessCode as 64 hexadecimal
// digits. Errors are errs.Invalid with a German message that says what is wrong and which
// token; they never repeat an AccessCode.
func Parse(payload []byte) ([]Token, error) {
	if len(payload) > maxPayload {
		return nil, errs.E(errs.Invalid, "der Code ist kein E-Rezept-Token: sein Inhalt ist mit %d Bytes zu lang (höchstens %d)", len(payload), maxPayload)
	}
	payload = bytes.TrimPrefix(payload, []byte("\uFEFF"))
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 {
		return nil, errs.E(errs.Invalid, "der Code ist leer; ein E-Rezept-Token ist JSON der Form {\"urls\":[…]}")
	}
	var doc struct {
		URLs *json.RawMessage `json:"urls"`
	}
	if !json.Valid(payload) {
		return nil, errs.E(errs.Invalid, "der Code ist kein E-Rezept-Token: sein Inhalt ist kein JSON")
	}
	if err := json.Unmarshal(payload, &doc); err != nil {
		return nil, errs.E(errs.Invalid, "der Code ist kein E-Rezept-Token: sein JSON ist kein Objekt mit einer Liste \"urls\"")
	}
	if doc.URLs == nil {
		return nil, errs.E(errs.Invalid, "der Code ist kein E-Rezept-Token: seinem JSON fehlt die Liste \"urls\"")
	}
	var urls []string
	if err := json.Unmarshal(*doc.URLs, &urls); err != nil {
		return nil, errs.E(errs.Invalid, "der Code ist kein E-Rezept-Token: \"urls\" muss eine Liste von Zeichenketten sein")
	}
	switch {
	case len(urls) == 0:
		return nil, errs.E(errs.Invalid, "der Code enthält kein E-Rezept-Token: die Liste \"urls\" ist leer")
	case len(urls) > maxTokens:
		return nil, errs.E(errs.Invalid, "der Code enthält %d E-Rezept-Token; erlaubt sind höchstens %d", len(urls), maxTokens)
	}
	tokens := make([]Token, 0, len(urls))
	for i, u := range urls {
		t, err := parseURL(u)
		if err == nil {
			tokens, err = addToken(tokens, t)
		}
		if err != nil {
			if len(urls) > 1 {
				return nil, errs.E(errs.Invalid, "%d. Token im Code: %s", i+1, message(err))
			}
			return nil, err
		}
	}
	return tokens, nil
}

// addToken appends t to tokens unless it is there already. The same Rezept-ID with two
// AccessCodes is an error: one of them cannot be right, and guessing would claim the wrong
// one or none.
func addToken(tokens []Token, t Token) ([]Token, error) {
	for _, have := range tokens {
		if have.TaskID != t.TaskID {
			continue
		}
		if have.AccessCode != t.AccessCode {
			return nil, errs.E(errs.Invalid, "die Rezept-ID %s steht mit zwei verschiedenen AccessCodes auf dem Ausdruck", t.TaskID)
		}
		return tokens, nil
	}
	return append(tokens, t), nil
}

// message returns the user's message of err without the field name that
// prescription.ValidatePrescriptionID adds.
func message(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// parseURL reads one token, Task/<Rezept-ID>/$accept?ac=<AccessCode>. A leading slash, as
// some gematik texts write the token, is accepted.
func parseURL(u string) (Token, error) {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(u, "/"), taskPrefix)
	if !ok {
		return Token{}, errs.E(errs.Invalid, "das E-Rezept-Token beginnt nicht mit %q; erwartet ist Task/<Rezept-ID>/$accept?ac=<AccessCode>", taskPrefix)
	}
	id, code, ok := strings.Cut(rest, acceptInfix)
	if !ok {
		return Token{}, errs.E(errs.Invalid, "das E-Rezept-Token enthält kein %q; erwartet ist Task/<Rezept-ID>/$accept?ac=<AccessCode>", acceptInfix)
	}
	// The validator repeats the id only when it has the layout of a Rezept-ID, so an
	// AccessCode in the wrong place is not echoed.
	if err := prescription.ValidatePrescriptionID(id); err != nil {
		return Token{}, errs.E(errs.Invalid, "%s", message(err))
	}
	if err := validateAccessCode(code); err != nil {
		return Token{}, err
	}
	return Token{TaskID: id, AccessCode: code}, nil
}

// validateAccessCode checks that code is 64 hexadecimal digits. Its message names the length
// or the position of a wrong character, never the code.
func validateAccessCode(code string) error {
	if code == "" {
		return errs.E(errs.Invalid, "dem E-Rezept-Token fehlt der AccessCode nach $accept?ac=")
	}
	if len(code) != accessCodeLen {
		return errs.E(errs.Invalid, "der AccessCode des E-Rezept-Tokens muss %d Hexadezimalziffern haben, nicht %d Zeichen", accessCodeLen, len(code))
	}
	for i := 0; i < len(code); i++ {
		if !isHex(code[i]) {
			return errs.E(errs.Invalid, "der AccessCode des E-Rezept-Tokens darf nur Hexadezimalziffern (0-9, a-f) enthalten (Stelle %d)", i+1)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
