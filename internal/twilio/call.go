package twilio

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/phone"
	"github.com/tresen/tresen/internal/speech"
)

type phoneHandler = phone.Handler

// message is one Media Streams message, either way.
type message struct {
	Event          string     `json:"event"`
	StreamSID      string     `json:"streamSid,omitempty"`
	SequenceNumber string     `json:"sequenceNumber,omitempty"`
	Start          *startInfo `json:"start,omitempty"`
	Media          *mediaInfo `json:"media,omitempty"`
	DTMF           *dtmfInfo  `json:"dtmf,omitempty"`
	Mark           *markInfo  `json:"mark,omitempty"`
	Stop           *stopInfo  `json:"stop,omitempty"`
}

type startInfo struct {
	StreamSID        string            `json:"streamSid"`
	AccountSID       string            `json:"accountSid"`
	CallSID          string            `json:"callSid"`
	Tracks           []string          `json:"tracks"`
	CustomParameters map[string]string `json:"customParameters"`
	MediaFormat      struct {
		Encoding   string `json:"encoding"`
		SampleRate int    `json:"sampleRate"`
		Channels   int    `json:"channels"`
	} `json:"mediaFormat"`
}

type mediaInfo struct {
	Track     string `json:"track,omitempty"`
	Chunk     string `json:"chunk,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`
	Payload   string `json:"payload"`
}

type dtmfInfo struct {
	Track string `json:"track,omitempty"`
	Digit string `json:"digit"`
}

type markInfo struct {
	Name string `json:"name"`
}

type stopInfo struct {
	AccountSID string `json:"accountSid"`
	CallSID    string `json:"callSid"`
}

// call is one stream as a phone.Call.
type call struct {
	h              *Handler
	c              *websocket.Conn
	stream, sid    string
	from, to       string
	audio          chan []int16
	dtmf           chan rune
	done           chan struct{}
	once           sync.Once
	pending        []int16 // decoded audio not yet a whole frame
	wmu            sync.Mutex
	mu             sync.Mutex
	gen            int           // playback generation: Flush starts a new one
	queued, played time.Duration // of this call, as marks report them
}

var _ phone.Call = (*call)(nil)

// open reads the stream's first messages up to "start" and checks it belongs to a call the
// webhook answered.
func (h *Handler) open(ctx context.Context, c *websocket.Conn) (*call, error) {
	for range 3 {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var m message
		err := wsjson.Read(rctx, c, &m)
		cancel()
		if err != nil {
			return nil, err
		}
		switch m.Event {
		case "connected":
			continue
		case "start":
			s := m.Start
			if s == nil || s.CallSID == "" || s.AccountSID != h.o.AccountSID {
				return nil, errors.New("start without call or of another account")
			}
			if !hmacEqual(s.CustomParameters["token"], h.streamToken(s.CallSID)) {
				return nil, errors.New("stream token does not match the call")
			}
			if s.MediaFormat.Encoding != "audio/x-mulaw" || s.MediaFormat.SampleRate != speech.SampleRate || s.MediaFormat.Channels != 1 {
				return nil, fmt.Errorf("unexpected media format %s/%d/%d", s.MediaFormat.Encoding, s.MediaFormat.SampleRate, s.MediaFormat.Channels)
			}
			stream := s.StreamSID
			if stream == "" {
				stream = m.StreamSID
			}
			return &call{h: h, c: c, stream: stream, sid: s.CallSID, from: s.CustomParameters["from"], to: s.CustomParameters["to"],
				audio: make(chan []int16, 50), dtmf: make(chan rune, 32), done: make(chan struct{})}, nil
		default:
			return nil, fmt.Errorf("unexpected %q before start", m.Event)
		}
	}
	return nil, errors.New("no start")
}

func hmacEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// read hands the caller's audio and keys to the flow until the stream ends.
func (c *call) read(ctx context.Context) {
	defer close(c.audio)
	defer close(c.dtmf)
	defer c.end()
	for {
		var m message
		if err := wsjson.Read(ctx, c.c, &m); err != nil {
			return
		}
		if !c.handle(m) {
			return
		}
	}
}

// handle takes one message of Twilio's; false: the stream has stopped.
func (c *call) handle(m message) bool {
	switch m.Event {
	case "media":
		if m.Media == nil || (m.Media.Track != "" && m.Media.Track != "inbound") {
			return true
		}
		b, err := base64.StdEncoding.DecodeString(m.Media.Payload)
		if err != nil {
			return true
		}
		c.pending = audio.DecodeULaw(c.pending, b)
		for len(c.pending) >= speech.FrameSize {
			frame := make([]int16, speech.FrameSize)
			copy(frame, c.pending)
			c.pending = append(c.pending[:0], c.pending[speech.FrameSize:]...)
			select {
			case c.audio <- frame:
			default: // the flow is busy: the frame is dropped, never the carrier stalled
			}
		}
	case "dtmf":
		if m.DTMF != nil && len(m.DTMF.Digit) == 1 && strings.Contains("0123456789*#", m.DTMF.Digit) {
			select {
			case c.dtmf <- rune(m.DTMF.Digit[0]):
			default:
			}
		}
	case "mark":
		if m.Mark != nil {
			c.marked(m.Mark.Name)
		}
	case "stop":
		return false
	}
	return true
}

// marked takes Twilio's word that the audio up to a mark was played.
func (c *call) marked(name string) {
	g, d, ok := strings.Cut(name, "-")
	gen, err1 := strconv.Atoi(strings.TrimPrefix(g, "g"))
	ms, err2 := strconv.ParseInt(d, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.played = max(c.played, time.Duration(ms)*time.Millisecond)
	}
}

func (c *call) ID() string            { return c.sid }
func (c *call) From() string          { return c.from }
func (c *call) To() string            { return c.to }
func (c *call) Audio() <-chan []int16 { return c.audio }
func (c *call) DTMF() <-chan rune     { return c.dtmf }
func (c *call) Done() <-chan struct{} { return c.done }
func (c *call) end()                  { c.once.Do(func() { close(c.done) }) }

// Play sends the audio to Twilio, which plays it in real time, followed by a mark that
// Twilio echoes when it got there.
func (c *call) Play(pcm []int16) error {
	c.mu.Lock()
	c.queued += time.Duration(len(pcm)) * time.Second / speech.SampleRate
	mark := fmt.Sprintf("g%d-%d", c.gen, c.queued.Milliseconds())
	c.mu.Unlock()
	payload := base64.StdEncoding.EncodeToString(audio.EncodeULaw(nil, pcm))
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.c, message{Event: "media", StreamSID: c.stream, Media: &mediaInfo{Payload: payload}}); err != nil {
		return err
	}
	return wsjson.Write(ctx, c.c, message{Event: "mark", StreamSID: c.stream, Mark: &markInfo{Name: mark}})
}

// Flush tells Twilio to drop what it has not played; from then on what was queued counts
// as done.
func (c *call) Flush() {
	c.mu.Lock()
	c.gen++
	c.played = c.queued
	c.mu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	wsjson.Write(ctx, c.c, message{Event: "clear", StreamSID: c.stream})
}

func (c *call) Played() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.played
}

// Transfer hands the call to target through Twilio's REST API (the call leaves the stream).
func (c *call) Transfer(ctx context.Context, target string) error {
	b, err := xml.Marshal(twiML{Dial: dialTo(target)})
	if err != nil {
		return err
	}
	return c.update(ctx, url.Values{"Twiml": {string(b)}})
}

// Hangup ends the call through Twilio's REST API.
func (c *call) Hangup(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	return c.update(ctx, url.Values{"Status": {"completed"}})
}

func (c *call) update(ctx context.Context, form url.Values) error {
	o := c.h.o
	u := fmt.Sprintf("%s/2010-04-01/Accounts/%s/Calls/%s.json", strings.TrimSuffix(o.API, "/"), url.PathEscape(o.AccountSID), url.PathEscape(c.sid))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.SetBasicAuth(o.AccountSID, o.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := o.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("twilio: update call: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("twilio: update call: status %d", resp.StatusCode)
	}
	c.end()
	return nil
}
