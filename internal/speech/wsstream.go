package speech

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// WSStream is what the recognisers that stream over a WebSocket share of a Stream: writing
// a message in time, ending the audio and waiting for the last result, reading the peer's
// messages, and the end of reading, which closes Results. A provider's stream embeds it
// and adds its protocol: the messages it writes and what it makes of those it reads.
type WSStream struct {
	// Mu orders the messages: Send is called with it held. It guards the closing and the
	// timer, and a provider's stream may guard what it keeps of its protocol with it.
	Mu      sync.Mutex
	closing bool
	timer   *time.Timer

	conn    *websocket.Conn
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timeout time.Duration
	peer    WSPeer
	results chan Result
	done    chan struct{} // closed when the reader has ended, just before results
	endSent atomic.Bool   // the message that ends the audio went out

	errMu sync.Mutex
	err   error
}

// WSPeer is how a stream words its errors.
type WSPeer struct {
	// Name is the other side in messages: "Dienst" (a provider) or "Server" (one of the
	// practice's own), as in DialFault.
	Name string
	// Fault makes the provider's error of a German message and a cause that carries no
	// data.
	Fault func(msg string, cause error) error
	// Closed answers Write after Close.
	Closed error
	// CloseError makes the cause of a close status other than a normal closure; a close
	// reason is free text, and CloseError keeps of it only what it knows to be a code.
	CloseError func(websocket.CloseError) error
}

// errEnded ends the stream's context when reading stopped (the other cause not the
// caller's is errFinalTimeout).
var errEnded = errors.New("stream ended")

// errFinalTimeout is the cause that ends a stream's context when no final result came
// within its time after the end of the audio.
var errFinalTimeout = errors.New("no final result in time")

// NewWSStream returns the stream on conn, dialled for ctx. timeout bounds writing a
// message and, after the end of the audio, the wait for the last result. The provider
// starts Run, or calls Abort when its setup fails.
func NewWSStream(ctx context.Context, conn *websocket.Conn, timeout time.Duration, peer WSPeer) *WSStream {
	sctx, cancel := context.WithCancelCause(ctx)
	return &WSStream{
		conn:    conn,
		ctx:     sctx,
		cancel:  cancel,
		timeout: timeout,
		peer:    peer,
		results: make(chan Result, 16),
		done:    make(chan struct{}),
	}
}

func (s *WSStream) Results() <-chan Result { return s.results }

func (s *WSStream) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Context ends when the caller's does, when no final result came in time after the end of
// the audio, or when reading stopped.
func (s *WSStream) Context() context.Context { return s.ctx }

// Closing reports whether Close was called. Mu is held.
func (s *WSStream) Closing() bool { return s.closing }

// WriteAudio runs write, which sends audio with Send, under Mu while the audio goes on:
// after Close it answers the peer's Closed, after reading ended the stream's error.
func (s *WSStream) WriteAudio(write func() error) error {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.closing {
		return s.peer.Closed
	}
	if err := s.ended(); err != nil {
		return err
	}
	return write()
}

// CloseAudio ends the audio once: under Mu, end sends what is left of it and the message
// that ends it (SendEnd). Results closes when the last result has come, or after the
// timeout with an error. Once the stream failed or was cancelled, nothing is sent: Err
// says why.
func (s *WSStream) CloseAudio(end func() error) error {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.closing {
		return nil
	}
	s.closing = true
	if s.ended() != nil || s.ctx.Err() != nil {
		return nil // the stream failed or was cancelled; Err says why
	}
	if err := end(); err != nil {
		return err
	}
	s.timer = time.AfterFunc(s.timeout, func() { s.cancel(errFinalTimeout) })
	return nil
}

// ended returns the stream's error once the reader has ended.
func (s *WSStream) ended() error {
	select {
	case <-s.done:
		if err := s.Err(); err != nil {
			return err
		}
		return s.peer.Closed
	default:
		return nil
	}
}

// Send writes one message. Mu is held. A failed write has closed the connection, so the
// reader ends too, with the better reason: a close frame it got, or the caller's context.
func (s *WSStream) Send(typ websocket.MessageType, msg []byte) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	if err := s.conn.Write(ctx, typ, msg); err != nil {
		if s.ctx.Err() != nil {
			return s.peer.Fault("abgebrochen", context.Cause(s.ctx))
		}
		return s.peer.Fault("Senden an den "+s.peer.Name+" fehlgeschlagen", NetCause(err))
	}
	return nil
}

// SendEnd sends the message that ends the audio, after which the peer may close the
// connection normally. Mu is held.
func (s *WSStream) SendEnd(typ websocket.MessageType, msg []byte) error {
	s.endSent.Store(true)
	return s.Send(typ, msg)
}

// EndSent reports whether the message that ends the audio went out.
func (s *WSStream) EndSent() bool { return s.endSent.Load() }

// Run reads with receive until it returns, and ends the stream: Results closes, and Err
// says why receive failed. receive returns nil, or io.EOF from ReadText, when the
// recognition ended normally. The provider runs it in a goroutine of its own.
func (s *WSStream) Run(receive func() error) {
	err := receive()
	if err == io.EOF {
		err = nil
	}
	s.Mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.Mu.Unlock()
	s.errMu.Lock()
	s.err = err
	s.errMu.Unlock()
	s.cancel(errEnded)
	close(s.done) // first, so that Write fails once Results is seen closed
	close(s.results)
	if err == nil {
		s.conn.Close(websocket.StatusNormalClosure, "")
	} else {
		s.conn.CloseNow()
	}
}

// Abort ends a stream whose setup failed before Run.
func (s *WSStream) Abort() {
	s.cancel(errEnded)
	s.conn.CloseNow()
}

// ReadText returns the peer's next message, which must be text. When reading ends it
// returns why: io.EOF when the peer closed normally after the end of the audio, else a
// fault that carries nothing the peer sent.
func (s *WSStream) ReadText() ([]byte, error) {
	typ, msg, err := s.conn.Read(s.ctx)
	if err != nil {
		return nil, s.readError(err)
	}
	if typ != websocket.MessageText {
		return nil, s.peer.Fault("unerwartete Binärnachricht vom "+s.peer.Name, nil)
	}
	return msg, nil
}

// Deliver hands r to the reader of Results; the error says why the stream ended first.
func (s *WSStream) Deliver(r Result) error {
	select {
	case s.results <- r:
		return nil
	case <-s.ctx.Done():
		return s.readError(s.ctx.Err())
	}
}

// readError says why reading stopped, in German for the practice, with a cause that
// carries no data: cancelled or out of time (the context's cause), closed by the peer
// (CloseError makes the cause of its close status), or a network error. It is io.EOF when
// the peer closed normally after the end of the audio: nothing more was to come.
func (s *WSStream) readError(err error) error {
	if s.ctx.Err() != nil {
		cause := context.Cause(s.ctx)
		if errors.Is(cause, errFinalTimeout) {
			return s.peer.Fault("kein Ergebnis in der Zeitgrenze nach dem Ende der Aufnahme", context.DeadlineExceeded)
		}
		return s.peer.Fault("abgebrochen", cause)
	}
	ce, ok := errors.AsType[websocket.CloseError](err)
	switch {
	case !ok:
		return s.peer.Fault("Verbindung zum "+s.peer.Name+" unterbrochen", NetCause(err))
	case ce.Code == websocket.StatusNormalClosure && s.endSent.Load():
		return io.EOF
	case ce.Code == websocket.StatusNormalClosure:
		return s.peer.Fault("der "+s.peer.Name+" hat die Verbindung vorzeitig beendet", nil)
	}
	return s.peer.Fault("der "+s.peer.Name+" hat die Verbindung mit einem Fehler beendet", s.peer.CloseError(ce))
}
