// Package espeak is the embedded voice: German speech synthesised on the server itself by
// the espeak-ng command (Debian package espeak-ng), sentence by sentence, so that a caller
// hears the first sentence while the rest is still being made.
package espeak

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/audio"
	"github.com/tresen/tresen/internal/speech"
)

// Options configure a Voice. The zero value speaks German at 155 words a minute.
type Options struct {
	Path  string // the espeak-ng binary; default: espeak-ng on PATH
	Voice string // espeak-ng voice; default "de"
	Speed int    // words per minute; default 155 (espeak-ng's own default, 175, is hurried on the phone)
	Pitch int    // 0–99; default espeak-ng's (50)
}

// Voice speaks with espeak-ng. It is safe for concurrent use: each sentence runs its own
// process.
type Voice struct {
	path  string
	args  []string
	trace func(event string, sentence int) // for tests: "start", "end" of each process
}

var _ speech.Voice = (*Voice)(nil)

// New finds espeak-ng and returns a Voice.
func New(o Options) (*Voice, error) {
	if o.Path == "" {
		o.Path = "espeak-ng"
	}
	path, err := exec.LookPath(o.Path)
	if err != nil {
		return nil, fmt.Errorf("espeak: %s not found: install the Debian package espeak-ng (apt-get install espeak-ng): %w", o.Path, err)
	}
	if o.Voice == "" {
		o.Voice = "de"
	}
	if o.Speed == 0 {
		o.Speed = 155
	}
	if o.Speed < 80 || o.Speed > 450 {
		return nil, fmt.Errorf("espeak: speed %d words a minute; want 80–450", o.Speed)
	}
	args := []string{"-v", o.Voice, "-s", strconv.Itoa(o.Speed), "-b", "1", "--stdout"}
	if o.Pitch != 0 {
		if o.Pitch < 0 || o.Pitch > 99 {
			return nil, fmt.Errorf("espeak: pitch %d; want 0–99", o.Pitch)
		}
		args = append(args, "-p", strconv.Itoa(o.Pitch))
	}
	return &Voice{path: path, args: args}, nil
}

// Provider says that espeak-ng runs on Tresen's own server and keeps nothing.
func (v *Voice) Provider() speech.Provider {
	return speech.Provider{Name: "espeak-ng", Local: true, EUResidency: true, ZeroRetention: true}
}

// Speak synthesises text sentence by sentence and hands each sentence's audio to out as
// espeak-ng writes it, in pieces of at least one frame. out owns the slices it gets. When
// ctx ends, the running espeak-ng is killed and Speak returns ctx's error.
func (v *Voice) Speak(ctx context.Context, text string, out func(pcm []int16) error) error {
	for i, s := range Sentences(text) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := v.sentence(ctx, i, s, out); err != nil {
			return err
		}
	}
	return nil
}

// errOut marks an error of out, which Speak passes on as it is.
type errOut struct{ err error }

func (e errOut) Error() string { return e.err.Error() }

func (v *Voice) sentence(parent context.Context, i int, text string, out func([]int16) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel() // kills espeak-ng when out fails
	cmd := exec.CommandContext(ctx, v.path, v.args...)
	cmd.Stdin = strings.NewReader(text)
	var stderr bytes.Buffer
	cmd.Stderr = &limited{buf: &stderr, n: 1024}
	cmd.WaitDelay = 200 * time.Millisecond
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("espeak: %w", err)
	}
	if v.trace != nil {
		v.trace("start", i)
		defer v.trace("end", i)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("espeak: starting espeak-ng: %w", err)
	}
	rerr := v.read(ctx, stdout, out)
	if rerr != nil {
		cancel()
	}
	werr := cmd.Wait()
	var eo errOut
	switch {
	case errors.As(rerr, &eo):
		return eo.err
	case parent.Err() != nil:
		// The caller's ctx ended (barge-in, hangup): that is the reason, not the kill.
		return parent.Err()
	case werr != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "no message"
		}
		return fmt.Errorf("espeak: espeak-ng failed (%v): %s", werr, msg)
	case rerr != nil:
		return fmt.Errorf("espeak: reading espeak-ng's audio: %w", rerr)
	}
	return nil
}

// read converts espeak-ng's WAV stream to 8 kHz and hands it to out as it comes.
func (v *Voice) read(ctx context.Context, r io.Reader, out func([]int16) error) error {
	br := bufio.NewReaderSize(r, 8192)
	f, err := audio.ReadWAVHeader(br)
	if err != nil {
		return err
	}
	if f.Channels != 1 {
		return fmt.Errorf("espeak-ng wrote %d channels", f.Channels)
	}
	rs, err := audio.NewResampler(f.SampleRate, speech.SampleRate)
	if err != nil {
		return err
	}
	buf := make([]byte, 4096)
	var in []int16
	var pending []int16
	odd := []byte(nil) // a sample split between two reads
	for {
		n, err := br.Read(buf)
		if n > 0 {
			b := append(odd, buf[:n]...)
			odd = nil
			if len(b)%2 == 1 {
				odd = []byte{b[len(b)-1]}
				b = b[:len(b)-1]
			}
			in = audio.DecodePCM16(in[:0], b)
			pending = rs.Process(pending, in)
			if len(pending) >= speech.FrameSize {
				if err := ctx.Err(); err != nil {
					return err // barge-in: not one frame more
				}
				if err := out(pending); err != nil {
					return errOut{err}
				}
				pending = nil
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	pending = rs.Flush(pending)
	if len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := out(pending); err != nil {
			return errOut{err}
		}
	}
	return nil
}

// limited keeps the first n bytes written to it: enough of espeak-ng's messages to say
// what went wrong.
type limited struct {
	buf *bytes.Buffer
	n   int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
