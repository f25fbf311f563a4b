package sip

import (
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/nyaruka/phonenumbers"
)

// calledNumber is the number the caller dialled. Carriers put it in the Request-URI
// (a PBX, most trunks) or, when the Request-URI carries the registration's user name
// (sipgate, easybell deliver to the registered contact), only in the To header.
func calledNumber(req *sip.Request, accountUsers []string) string {
	user := req.Recipient.User
	for _, u := range accountUsers {
		if u != "" && strings.EqualFold(user, u) {
			user = ""
		}
	}
	if user == "" {
		if to := req.To(); to != nil {
			user = to.Address.User
		}
	}
	return normalizeNumber(user)
}

// callerNumber is the caller's number in E.164, "" when withheld (anonymous, or a From
// header without a number).
func callerNumber(req *sip.Request) string {
	var user string
	if pai := req.GetHeader("P-Asserted-Identity"); pai != nil {
		var u sip.Uri
		if _, err := sip.ParseAddressValue(pai.Value(), &u, nil); err == nil {
			user = u.User
		}
	}
	if user == "" {
		if from := req.From(); from != nil {
			user = from.Address.User
		}
	}
	if n := normalizeNumber(user); n != "" && n[0] == '+' && isDialString(n) {
		return n
	}
	return ""
}

// normalizeNumber turns a SIP user part into E.164 ("+494211234567") where it is a German
// or international phone number; other user parts (extensions, names) come back as they
// are, lower-cased, with visual separators removed. Anonymous callers give "".
func normalizeNumber(user string) string {
	user = strings.TrimSpace(user)
	if i := strings.IndexByte(user, ';'); i >= 0 { // tel-URI style parameters: ;phone-context=…
		user = user[:i]
	}
	if user == "" || strings.EqualFold(user, "anonymous") {
		return ""
	}
	if len(user) > 64 {
		user = user[:64]
	}
	digits := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '/':
			return -1
		}
		return r
	}, user)
	if strings.HasPrefix(digits, "00") {
		digits = "+" + digits[2:]
	}
	if !isDialString(digits) {
		return strings.ToLower(user)
	}
	if digits[0] != '+' && (len(digits) < 6 || digits[0] != '0') {
		// short internal numbers and numbers without a trunk prefix stay as dialled
		return digits
	}
	num, err := phonenumbers.Parse(digits, "DE")
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return digits
	}
	return phonenumbers.Format(num, phonenumbers.E164)
}

func isDialString(s string) bool {
	if s == "" || s == "+" {
		return false
	}
	for i, r := range s {
		if r == '+' && i == 0 {
			continue
		}
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
