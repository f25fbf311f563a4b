package elevenlabs

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

// Recognizer transcribes callers with ElevenLabs' realtime speech to text. Tresen decides
// when a turn ends (commit_strategy=manual): Close commits the audio, and the committed
// transcript is the final result.
type Recognizer struct {
	url      *url.URL
	apiKey   string
	timeout  time.Duration
	provider speech.Provider
}

var _ speech.Recognizer = (*Recognizer)(nil)

// NewRecognizer returns a Recognizer for s, or the error of s.Validate.
func NewRecognizer(s Settings) (*Recognizer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	base, _ := s.baseURL()
	u := *base
	u.Path += "/v1/speech-to-text/realtime"
	q := url.Values{
		"model_id":        {or(s.STTModel, DefaultSTTModel)},
		"audio_format":    {"pcm_8000"},
		"language_code":   {or(s.Language, DefaultLanguage)},
		"commit_strategy": {"manual"},
	}
	if s.ZeroRetention {
		q.Set("enable_logging", "false")
	}
	u.RawQuery = q.Encode()
	return &Recognizer{url: &u, apiKey: s.APIKey, timeout: s.timeout(), provider: provider(base, s)}, nil
}

// Provider says what ElevenLabs promises for this endpoint and contract.
func (r *Recognizer) Provider() speech.Provider { return r.provider }

// sendEvery is how much audio one input_audio_chunk carries: 20 ms frames are batched to
// 100 ms, which keeps partial results quick and the message rate low.
const sendEvery = 5 * speech.FrameSize

// Stream opens a realtime session. ctx bounds the whole session.
func (r *Recognizer) Stream(ctx context.Context) (_ speech.Stream, err error) {
	defer errs.Wrap(&err, "elevenlabs.Stream")
	dialCtx, dialCancel := context.WithTimeoutCause(ctx, r.timeout, errTimeout)
	c, res, err := dial(dialCtx, r.url, r.apiKey)
	if err != nil {
		err = connError(dialCtx, "Spracherkennung", res, err)
		dialCancel()
		return nil, err
	}
	dialCancel()
	ctx, cancel := context.WithCancelCause(ctx)
	s := &stream{conn: c, ctx: ctx, cancel: cancel, timeout: r.timeout, results: make(chan speech.Result, 16)}
	go s.read()
	return s, nil
}

type stream struct {
	conn    *websocket.Conn
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timeout time.Duration
	results chan speech.Result

	mu      sync.Mutex // guards the fields below and serialises writes
	pending []int16
	sent    bool // any audio went out
	closed  bool // Close was called
	err     error
}

// clientChunk is the one client message of the protocol.
type clientChunk struct {
	MessageType string `json:"message_type"`
	Audio       string `json:"audio_base_64"`
	Commit      bool   `json:"commit"`
	SampleRate  int    `json:"sample_rate"`
}

func (s *stream) Write(pcm []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errs.E(errs.Internal, "Spracherkennung: Audio nach dem Ende der Aufnahme")
	}
	if err := s.failed(); err != nil {
		return err
	}
	s.pending = append(s.pending, pcm...)
	if len(s.pending) < sendEvery {
		return nil
	}
	return s.send(false)
}

// send writes the pending audio; s.mu is held.
func (s *stream) send(commit bool) error {
	b := make([]byte, 2*len(s.pending))
	for i, v := range s.pending {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	s.pending = s.pending[:0]
	msg, _ := json.Marshal(clientChunk{MessageType: "input_audio_chunk", Audio: base64.StdEncoding.EncodeToString(b), Commit: commit, SampleRate: speech.SampleRate})
	ctx, cancel := context.WithTimeoutCause(s.ctx, s.timeout, errTimeout)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		err = connError(ctx, "Spracherkennung", nil, err)
		s.cancel(err)
		return err
	}
	s.sent = true
	return nil
}

// failed is the stream's error once it failed; s.mu is held.
func (s *stream) failed() error {
	if s.ctx.Err() == nil {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return fault("Spracherkennung: beendet", context.Cause(s.ctx))
}

// Close commits what was said. The committed transcript follows on Results, which then
// closes. Without any audio nothing is sent and Results closes at once.
func (s *stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.failed(); err != nil {
		return err
	}
	if !s.sent && len(s.pending) == 0 {
		s.cancel(errDone)
		return nil
	}
	if err := s.send(true); err != nil {
		return err
	}
	// The final result must come within the timeout.
	time.AfterFunc(s.timeout, func() { s.cancel(errTimeout) })
	return nil
}

var errDone = errors.New("recognition ended")

func (s *stream) Results() <-chan speech.Result { return s.results }

func (s *stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *stream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// read delivers the server's transcripts until the committed one after Close, a failure,
// or the end of ctx.
func (s *stream) read() {
	var err error
	defer func() {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		s.cancel(errDone)
		if err == nil {
			s.conn.Close(websocket.StatusNormalClosure, "")
		} else {
			s.conn.CloseNow()
		}
		close(s.results)
	}()
	for {
		typ, data, rerr := s.conn.Read(s.ctx)
		if rerr != nil {
			if errors.Is(context.Cause(s.ctx), errDone) {
				return // Close without audio
			}
			err = connError(s.ctx, "Spracherkennung", nil, rerr)
			return
		}
		if typ != websocket.MessageText {
			err = fault("Spracherkennung: unerwartete Nachricht von ElevenLabs", nil)
			return
		}
		ev, perr := parseEvent(data)
		if perr != nil {
			if se, ok := errors.AsType[*ServerError](perr); ok {
				if s.isClosed() && nothingHeard(se.Code) {
					return // the turn held no speech: no result
				}
				err = fault("Spracherkennung: ElevenLabs meldet einen Fehler", se)
				return
			}
			err = fault("Spracherkennung: Nachricht von ElevenLabs nicht lesbar", nil)
			return
		}
		if ev.kind == eventOther || ev.text == "" && !ev.final {
			continue
		}
		if ev.final && ev.text == "" && !s.isClosed() {
			continue
		}
		if ev.text != "" {
			select {
			case s.results <- speech.Result{Text: ev.text, Final: ev.final}:
			case <-s.ctx.Done():
				err = connError(s.ctx, "Spracherkennung", nil, s.ctx.Err())
				return
			}
		}
		if ev.final && s.isClosed() {
			return
		}
	}
}

// nothingHeard reports whether code says that a commit held no usable speech, which after
// Close is a turn without words rather than a failure.
func nothingHeard(code string) bool {
	return code == "insufficient_audio_activity" || code == "commit_throttled"
}

type eventKind int

const (
	eventOther eventKind = iota
	eventTranscript
)

type event struct {
	kind  eventKind
	text  string
	final bool
}

// parseEvent reads one server message of the realtime protocol.
func parseEvent(data []byte) (event, error) {
	var m struct {
		MessageType string  `json:"message_type"`
		Text        *string `json:"text"`
		Error       any     `json:"error"`
	}
	if err := json.Unmarshal(data, &m); err != nil || m.MessageType == "" {
		return event{}, errMalformed
	}
	switch m.MessageType {
	case "session_started":
		return event{}, nil
	case "partial_transcript", "committed_transcript", "committed_transcript_with_timestamps":
		if m.Text == nil {
			return event{}, errMalformed
		}
		return event{kind: eventTranscript, text: *m.Text, final: m.MessageType != "partial_transcript"}, nil
	case "error", "auth_error", "quota_exceeded", "commit_throttled", "unaccepted_terms", "rate_limited",
		"queue_overflow", "resource_exhausted", "session_time_limit_exceeded", "input_error",
		"chunk_size_exceeded", "insufficient_audio_activity", "transcriber_error":
		return event{}, &ServerError{Code: m.MessageType}
	}
	if m.Error != nil { // an error type newer than this adapter
		return event{}, &ServerError{Code: safeToken(m.MessageType)}
	}
	return event{}, nil
}
