package sip

import (
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/emiago/diago/media"
)

// offer is what Tresen takes from a caller's SDP offer before diago sees it.
type offer struct {
	// body is the offer rewritten in a form diago's parser is safe on: CRLF lines, no blank
	// lines, one audio stream.
	body []byte
	// codecs are the ones to answer with: A-law when offered (the German default), else
	// µ-law; then telephone-event with the caller's payload type, when offered.
	codecs []media.Codec
	// held is true when the caller puts us on hold (a=sendonly or inactive, or the old
	// c=0.0.0.0 form).
	held bool
	// secure is an SRTP offer (RTP/SAVP with an SDES key Tresen can use): taken only on
	// calls over TLS (keys in the SDP must not travel in clear).
	secure bool
}

// offerError is an SDP offer Tresen refuses, with the SIP status that says why.
type offerError struct {
	status int // 400 unreadable, 488 nothing we can take
	reason string
}

func (e *offerError) Error() string { return fmt.Sprintf("sdp: %d %s", e.status, e.reason) }

func badSDP(format string, args ...any) error {
	return &offerError{status: 400, reason: fmt.Sprintf(format, args...)}
}

func notAcceptable(format string, args ...any) error {
	return &offerError{status: 488, reason: fmt.Sprintf(format, args...)}
}

// maxSDP bounds an offer: a telephone offer is a few hundred bytes.
const maxSDP = 16 << 10

// parseOffer checks an SDP offer and picks the codecs to answer with. It is strict where
// diago's parser would fail or panic (blank lines, short c= or o= lines) and tolerant of
// what does not matter to a phone call (extra video or data streams are dropped).
func parseOffer(body []byte) (offer, error) {
	if len(body) == 0 {
		return offer{}, badSDP("no SDP offer")
	}
	if len(body) > maxSDP {
		return offer{}, badSDP("SDP offer too large")
	}
	var (
		session  []string // lines before the first m=
		audio    []string // the first audio media section, m= line first
		inAudio  bool
		seenM    bool
		haveAud  bool
		version  bool
		origin   bool
		sessConn string
		medConn  string
	)
	for _, raw := range strings.Split(string(body), "\n") {
		line := strings.TrimSuffix(raw, "\r")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return offer{}, badSDP("line %q is not type=value", truncate(line))
		}
		if strings.ContainsAny(line, "\r\x00") {
			return offer{}, badSDP("control character in line %q", truncate(line))
		}
		key, val := line[0], line[2:]
		if key == 'm' {
			seenM = true
			inAudio = false
			if !haveAud && strings.HasPrefix(val, "audio ") {
				haveAud, inAudio = true, true
				audio = append(audio, line)
			}
			continue
		}
		switch {
		case !seenM:
			switch key {
			case 'v':
				if val != "0" {
					return offer{}, badSDP("SDP version %q", truncate(val))
				}
				version = true
			case 'o':
				if err := checkOrigin(val); err != nil {
					return offer{}, err
				}
				origin = true
			case 'c':
				sessConn = val
			}
			session = append(session, line)
		case inAudio:
			if key == 'c' {
				medConn = val
				// diago reads the first c= line it meets; keep one, at session level.
				continue
			}
			audio = append(audio, line)
		}
	}
	if !version || !origin {
		return offer{}, badSDP("SDP offer without v= or o= line")
	}
	if !haveAud {
		return offer{}, notAcceptable("no audio stream offered")
	}
	conn := medConn
	if conn == "" {
		conn = sessConn
	}
	if conn == "" {
		return offer{}, badSDP("no connection address (c=)")
	}
	ip, err := checkConnection(conn)
	if err != nil {
		return offer{}, err
	}

	fields := strings.Fields(strings.TrimPrefix(audio[0], "m="))
	if len(fields) < 4 {
		return offer{}, badSDP("short media line %q", truncate(audio[0]))
	}
	port, err := strconv.Atoi(strings.SplitN(fields[1], "/", 2)[0])
	if err != nil || port < 0 || port > 65535 {
		return offer{}, badSDP("media port %q", truncate(fields[1]))
	}
	if port == 0 {
		return offer{}, notAcceptable("audio stream disabled (port 0)")
	}
	o := offer{}
	switch fields[2] {
	case "RTP/AVP":
	case "RTP/SAVP":
		o.secure = true
	default:
		return offer{}, notAcceptable("media profile %q (only RTP/AVP and RTP/SAVP)", truncate(fields[2]))
	}
	var attrs []string
	for _, l := range audio[1:] {
		if strings.HasPrefix(l, "a=") {
			attrs = append(attrs, l[2:])
		}
	}
	var alaw, ulaw bool
	var events []uint8
	var formats []string // canonical ("08" is 8), without repeats
	seen := map[uint64]bool{}
	for _, f := range fields[3:] {
		pt, err := strconv.ParseUint(f, 10, 8)
		if err != nil || pt > 127 {
			return offer{}, badSDP("payload type %q", truncate(f))
		}
		if seen[pt] {
			continue
		}
		seen[pt] = true
		f = strconv.FormatUint(pt, 10)
		formats = append(formats, f)
		name, rate, ok, err := rtpmap(attrs, f)
		if err != nil {
			return offer{}, err
		}
		switch {
		case pt == 8:
			alaw = true
		case pt == 0:
			ulaw = true
		case ok && strings.EqualFold(name, "telephone-event") && rate == 8000 && pt >= 96:
			events = append(events, uint8(pt))
		}
	}
	switch {
	case alaw:
		o.codecs = append(o.codecs, media.CodecAudioAlaw)
	case ulaw:
		o.codecs = append(o.codecs, media.CodecAudioUlaw)
	default:
		return offer{}, notAcceptable("neither G.711 A-law nor µ-law offered")
	}
	if len(events) > 0 {
		ev := media.CodecTelephoneEvent8000
		ev.PayloadType = events[0]
		o.codecs = append(o.codecs, ev)
	}
	for _, a := range attrs {
		if a == "sendonly" || a == "inactive" {
			o.held = true
		}
	}
	if ip.IsUnspecified() {
		o.held = true
	}

	// SDES (RFC 4568): of the keys offered, the first with the suite diago speaks; its
	// line is rewritten without lifetime. Keys with an MKI are not taken.
	crypto := ""
	for _, a := range attrs {
		if line, ok := sdesLine(a); ok && crypto == "" {
			crypto = line
		}
	}
	if o.secure && crypto == "" {
		return offer{}, notAcceptable("no SRTP key with AES_CM_128_HMAC_SHA1_80 offered")
	}
	kept := audio[:1]
	for _, l := range audio[1:] {
		if !strings.HasPrefix(l, "a=crypto:") {
			kept = append(kept, l)
		}
	}
	if o.secure {
		kept = append(kept, "a="+crypto)
	}
	audio = kept

	// Rebuild: session lines with one c= line, then the audio section. Everything is
	// checked above, so diago's parser sees only well-formed lines.
	var b strings.Builder
	for _, l := range session {
		if l[0] == 'c' {
			continue
		}
		b.WriteString(l)
		b.WriteString("\r\n")
		if l[0] == 's' {
			b.WriteString("c=" + conn + "\r\n")
		}
	}
	if !strings.Contains(b.String(), "\r\nc=") {
		b.WriteString("c=" + conn + "\r\n")
	}
	// A-law first, then µ-law: the order diago (and a leg placed for this call, see
	// ringFirst) takes as the caller's preference.
	slices.SortStableFunc(formats, func(a, b string) int { return g711Rank(a) - g711Rank(b) })
	audio[0] = "m=audio " + strconv.Itoa(port) + " RTP/AVP " + strings.Join(formats, " ")
	for _, l := range audio {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	o.body = []byte(b.String())
	return o, nil
}

// sdesLine checks an SDES crypto attribute ("crypto:1 AES_CM_128_HMAC_SHA1_80
// inline:KEY[|lifetime]") and returns it as diago reads it, or false when Tresen cannot
// use it (another suite, a key of the wrong length, an MKI).
func sdesLine(attr string) (string, bool) {
	rest, ok := strings.CutPrefix(attr, "crypto:")
	if !ok {
		return "", false
	}
	f := strings.Fields(rest)
	if len(f) < 3 || f[1] != "AES_CM_128_HMAC_SHA1_80" {
		return "", false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return "", false
	}
	key, ok := strings.CutPrefix(f[2], "inline:")
	if !ok {
		return "", false
	}
	parts := strings.Split(key, "|")
	if len(parts) > 2 || len(parts) == 2 && strings.Contains(parts[1], ":") {
		return "", false // an MKI, or more than a lifetime
	}
	if raw, err := base64.StdEncoding.DecodeString(parts[0]); err != nil || len(raw) != 30 {
		return "", false
	}
	return "crypto:" + strconv.Itoa(tag) + " AES_CM_128_HMAC_SHA1_80 inline:" + parts[0], true
}

func g711Rank(format string) int {
	switch format {
	case "8":
		return 0
	case "0":
		return 1
	}
	return 2
}

// rtpmap finds a=rtpmap:<pt> <name>/<rate>[/<channels>] for payload type f.
func rtpmap(attrs []string, f string) (name string, rate int, ok bool, err error) {
	prefix := "rtpmap:" + f + " "
	for _, a := range attrs {
		if !strings.HasPrefix(a, prefix) {
			continue
		}
		v := strings.Fields(a[len(prefix):])
		if len(v) == 0 {
			return "", 0, false, badSDP("empty rtpmap for %s", f)
		}
		parts := strings.Split(v[0], "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
			return "", 0, false, badSDP("rtpmap %q", truncate(a))
		}
		r, err := strconv.ParseUint(parts[1], 10, 32)
		if err != nil {
			return "", 0, false, badSDP("rtpmap clock rate %q", truncate(a))
		}
		if len(parts) == 3 {
			if _, err := strconv.ParseUint(parts[2], 10, 32); err != nil {
				return "", 0, false, badSDP("rtpmap channels %q", truncate(a))
			}
		}
		return parts[0], int(r), true, nil
	}
	return "", 0, false, nil
}

func checkOrigin(val string) error {
	f := strings.Fields(val)
	if len(f) != 6 {
		return badSDP("origin line needs 6 fields")
	}
	if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
		return badSDP("origin session id %q", truncate(f[1]))
	}
	if _, err := strconv.ParseUint(f[2], 10, 64); err != nil {
		return badSDP("origin session version %q", truncate(f[2]))
	}
	return nil
}

func checkConnection(val string) (net.IP, error) {
	f := strings.Fields(val)
	if len(f) != 3 || f[0] != "IN" {
		return nil, badSDP("connection line %q", truncate(val))
	}
	ip := net.ParseIP(strings.SplitN(f[2], "/", 2)[0])
	switch {
	case ip == nil:
		return nil, badSDP("connection address %q (must be an IP address)", truncate(f[2]))
	case f[1] == "IP4" && ip.To4() != nil:
		return ip, nil
	case f[1] == "IP6" && ip.To4() == nil:
		return ip, nil
	}
	return nil, badSDP("connection address type %q for %q", truncate(f[1]), truncate(f[2]))
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
