package azurespeech

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"
	"unicode"

	"github.com/coder/websocket"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

// audioChunk is how much audio goes into one message: 100 ms, as the Speech SDK sends a
// stream pushed to it. The service takes at most 8192 bytes of audio in a message.
const audioChunk = speech.SampleRate / 10 * 2

// maxMessage bounds one message from the service: a detailed phrase lists a few
// hypotheses of an utterance, well under this.
const maxMessage = 1 << 20

// Recognizer recognises speech with Azure's streaming recognition (conversation mode,
// detailed results) in the region of the practice's resource. It is safe for concurrent
// use; every Stream is a connection of its own.
type Recognizer struct {
	endpoint string // the wss URL with its query
	key      string
	token    func(context.Context) (string, error)
	timeout  time.Duration
	provider speech.Provider
	client   *http.Client
	config   []byte // the body of speech.config
}

var _ speech.Recognizer = (*Recognizer)(nil)

// Option changes how a Recognizer authenticates.
type Option func(*Recognizer)

// WithToken authenticates every stream with an authorization token that token returns (one
// of the resource's issueToken endpoint, valid for ten minutes, or a Microsoft Entra
// token in Azure's "aad#resource#token" form), sent as "Authorization: Bearer …", instead
// of the resource's key.
func WithToken(token func(ctx context.Context) (string, error)) Option {
	return func(r *Recognizer) { r.token = token }
}

// NewRecognizer returns a Recognizer for s, or the error of s.Validate.
func NewRecognizer(s Settings, opts ...Option) (*Recognizer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	r := &Recognizer{
		endpoint: s.sttURL(),
		key:      s.Key,
		timeout:  s.timeout(),
		provider: s.provider(),
		client:   newClient(),
		config:   speechConfig(),
	}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Provider declares EU residency for a region in the EU only, and zero retention where the
// practice confirmed it.
func (r *Recognizer) Provider() speech.Provider { return r.provider }

// speechConfig describes the client and its audio to the service, which wants to know
// them before the first audio. It names no practice and no caller.
func speechConfig() []byte {
	type source struct {
		Connectivity  string `json:"connectivity"`
		Manufacturer  string `json:"manufacturer"`
		Model         string `json:"model"`
		Type          string `json:"type"`
		SampleRate    int    `json:"samplerate"`
		BitsPerSample int    `json:"bitspersample"`
		ChannelCount  int    `json:"channelcount"`
	}
	var c struct {
		Context struct {
			System struct {
				Name    string `json:"name"`
				Version string `json:"version"`
				Build   string `json:"build"`
				Lang    string `json:"lang"`
			} `json:"system"`
			OS struct {
				Platform string `json:"platform"`
				Name     string `json:"name"`
				Version  string `json:"version"`
			} `json:"os"`
			Audio struct {
				Source source `json:"source"`
			} `json:"audio"`
		} `json:"context"`
		Recognition string `json:"recognition"`
	}
	c.Context.System.Name, c.Context.System.Version, c.Context.System.Build, c.Context.System.Lang = "Tresen", "1.0.0", "Go", "Go"
	c.Context.OS.Platform, c.Context.OS.Name, c.Context.OS.Version = runtime.GOOS, "Tresen", runtime.Version()
	c.Context.Audio.Source = source{Connectivity: "Unknown", Manufacturer: "Tresen", Model: "Telefon", Type: "Phone",
		SampleRate: speech.SampleRate, BitsPerSample: 16, ChannelCount: 1}
	c.Recognition = "conversation"
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // fixed types: cannot fail
	}
	return b
}

// wavHeader starts the audio of a turn: 16-bit mono PCM at 8 kHz, the telephone's own
// rate, which Azure takes as it is; the lengths are unknown and left at zero samples.
func wavHeader() []byte {
	var b bytes.Buffer
	audio.WriteWAV(&b, nil, speech.SampleRate)
	return b.Bytes()
}

// Stream connects, sends speech.config and the WAV header that starts the turn, as the
// Speech SDK does, and returns the running recognition.
func (r *Recognizer) Stream(ctx context.Context) (_ speech.Stream, err error) {
	defer errs.Wrap(&err, "azurespeech.Stream")
	dialCtx, cancelDial := context.WithTimeout(ctx, r.timeout)
	defer cancelDial()
	header := http.Header{}
	header.Set("User-Agent", "Tresen")
	header.Set("X-ConnectionId", newID())
	if r.token != nil {
		tok, err := r.token(dialCtx)
		if err != nil {
			return nil, sttFault("kein Zugangstoken für die Azure-Speech-Ressource", err)
		}
		if tok == "" || strings.ContainsFunc(tok, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
			return nil, sttFault("das Zugangstoken ist leer oder enthält unzulässige Zeichen", nil)
		}
		header.Set("Authorization", "Bearer "+tok)
	} else {
		header.Set("Ocp-Apim-Subscription-Key", r.key)
	}
	conn, resp, err := websocket.Dial(dialCtx, r.endpoint, &websocket.DialOptions{HTTPClient: r.client, HTTPHeader: header})
	if err != nil {
		return nil, dialError(ctx, resp, err)
	}
	conn.SetReadLimit(maxMessage)
	requestID := newID()
	s := &stream{WSStream: speech.NewWSStream(ctx, conn, r.timeout, sttPeer), requestID: requestID}
	s.Mu.Lock()
	err = s.Send(websocket.MessageText, textMessage(pathConfig, s.requestID, time.Now(), contentJSON, r.config))
	if err == nil {
		err = s.startTurn()
	}
	s.Mu.Unlock()
	if err != nil {
		s.Abort()
		return nil, err
	}
	go s.Run(func() error { return s.receive(requestID) })
	return s, nil
}

type stream struct {
	*speech.WSStream
	// guarded by Mu
	requestID string // of the running turn
	buf       []byte // audio not yet sent, 16-bit little-endian
}

// sttPeer words the stream's errors, without anything the service sent but its close
// code: a close reason is free text.
var sttPeer = speech.WSPeer{
	Name:  "Dienst",
	Fault: sttFault,
	// Closed answers Write after Close.
	Closed:     &errs.Error{Kind: errs.Invalid, Message: "Spracherkennung (Azure): die Aufnahme ist bereits beendet"},
	CloseError: func(ce websocket.CloseError) error { return &CloseError{Code: int(ce.Code)} },
}

// Write sends the audio in chunks of 100 ms.
func (s *stream) Write(pcm []int16) error {
	return s.WriteAudio(func() error {
		for _, v := range pcm {
			s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(v))
		}
		for len(s.buf) >= audioChunk {
			err := s.Send(websocket.MessageBinary, audioMessage(s.requestID, time.Now(), "", s.buf[:audioChunk]))
			s.buf = append(s.buf[:0], s.buf[audioChunk:]...)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Close sends the rest of the audio and the empty audio message that ends it: Azure
// finishes what it heard, sends the last phrase and turn.end. Results closes then, or
// after the timeout with an error. Close may be called more than once.
func (s *stream) Close() error {
	return s.CloseAudio(func() error {
		if len(s.buf) > 0 {
			err := s.Send(websocket.MessageBinary, audioMessage(s.requestID, time.Now(), "", s.buf))
			s.buf = nil
			if err != nil {
				return err
			}
		}
		return s.SendEnd(websocket.MessageBinary, audioMessage(s.requestID, time.Now(), "", nil))
	})
}

// startTurn sends the WAV header with which the audio of a turn begins. Mu is held.
func (s *stream) startTurn() error {
	return s.Send(websocket.MessageBinary, audioMessage(s.requestID, time.Now(), contentWAV, wavHeader()))
}

// nextTurn continues the audio in a new turn when Azure ended one before the audio ended
// (as it may after long silence, or after ten minutes); done when the audio had ended.
func (s *stream) nextTurn() (id string, done bool, err error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.Closing() {
		return "", true, nil
	}
	// Audio still on its way under the old id is dropped by the service.
	s.requestID = newID()
	return s.requestID, false, s.startTurn()
}

// receive reads the service's messages until the turn that Close ended has ended.
func (s *stream) receive(requestID string) error {
	last := "" // the interim text delivered last; Azure repeats a hypothesis at times
	for {
		data, err := s.ReadText()
		if err != nil {
			return err
		}
		m, err := parseMessage(data)
		if err != nil {
			return err
		}
		if !strings.EqualFold(m.requestID, requestID) {
			continue // a turn that is over
		}
		k, res, err := m.interpret()
		if err != nil {
			return err
		}
		switch k {
		case kindInterim:
			if res.Text == "" || res.Text == last {
				continue
			}
			last = res.Text
		case kindFinal:
			last = ""
		case kindTurnEnd:
			id, done, err := s.nextTurn()
			if done || err != nil {
				return err
			}
			requestID, last = id, ""
			continue
		default:
			continue
		}
		if err := s.Deliver(res); err != nil {
			return err
		}
	}
}

// CloseError is the cause of a stream error when Azure closed the connection with a
// WebSocket status other than a normal closure: 1007 for audio or a message it refused,
// 1002 for a protocol violation, 1011 for a fault of its own.
type CloseError struct {
	Code int
}

func (e *CloseError) Error() string { return fmt.Sprintf("WebSocket-Status %d", e.Code) }

func dialError(ctx context.Context, resp *http.Response, err error) error {
	return sttFault(speech.DialFault(ctx, resp, err, "Dienst", map[int]string{
		http.StatusUnauthorized:    "Zugang abgelehnt – bitte Schlüssel und Region der Azure-Speech-Ressource prüfen",
		http.StatusForbidden:       "Zugang abgelehnt – bitte Schlüssel und Region der Azure-Speech-Ressource prüfen",
		http.StatusNotFound:        "Adresse nicht gefunden – bitte Region oder Endpunkt prüfen",
		http.StatusTooManyRequests: "zu viele gleichzeitige Verbindungen",
	}, func(code int) error { return &StatusError{StatusCode: code} }))
}

func sttFault(msg string, cause error) error {
	return fault("Spracherkennung (Azure): "+msg, cause)
}
