package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WAVFormat describes the audio of a RIFF WAVE file with 16-bit PCM samples.
type WAVFormat struct {
	SampleRate int
	Channels   int
	// DataSize is the size of the sample data in bytes as the header states it. Writers
	// that stream (espeak-ng --stdout) cannot know it and put a placeholder there, so
	// readers read up to it or to the end of the input, whichever comes first.
	DataSize int64
}

// ReadWAVHeader reads a WAV header up to the start of the sample data and leaves r there.
// It accepts 16-bit PCM only (format 1, or WAVE_FORMAT_EXTENSIBLE with PCM), mono or
// stereo, and skips chunks other than "fmt " and "data".
func ReadWAVHeader(r io.Reader) (WAVFormat, error) {
	var f WAVFormat
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return f, fmt.Errorf("audio: WAV header: %w", noEOF(err))
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return f, errors.New("audio: not a WAV file (no RIFF/WAVE header)")
	}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return f, fmt.Errorf("audio: WAV file without a data chunk: %w", noEOF(err))
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1<<10 {
				return f, fmt.Errorf("audio: WAV fmt chunk of %d bytes", size)
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return f, fmt.Errorf("audio: WAV fmt chunk: %w", noEOF(err))
			}
			tag := binary.LittleEndian.Uint16(b[0:2])
			f.Channels = int(binary.LittleEndian.Uint16(b[2:4]))
			f.SampleRate = int(binary.LittleEndian.Uint32(b[4:8]))
			bits := binary.LittleEndian.Uint16(b[14:16])
			if tag == 0xfffe && size >= 40 { // WAVE_FORMAT_EXTENSIBLE: the sub-format says PCM
				tag = binary.LittleEndian.Uint16(b[24:26])
			}
			if tag != 1 || bits != 16 {
				return f, fmt.Errorf("audio: WAV format %d with %d bits per sample; want 16-bit PCM", tag, bits)
			}
			if f.Channels < 1 || f.Channels > 2 {
				return f, fmt.Errorf("audio: WAV with %d channels; want mono or stereo", f.Channels)
			}
			if f.SampleRate < 1000 || f.SampleRate > 384000 {
				return f, fmt.Errorf("audio: WAV sample rate %d Hz", f.SampleRate)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return f, errors.New("audio: WAV data chunk before its fmt chunk")
			}
			f.DataSize = size
			return f, nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return f, fmt.Errorf("audio: WAV chunk %q: %w", id, noEOF(err))
			}
		}
	}
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadWAV reads a whole WAV file and returns its samples, mixed down to mono, and its
// sample rate.
func ReadWAV(r io.Reader) ([]int16, int, error) {
	f, err := ReadWAVHeader(r)
	if err != nil {
		return nil, 0, err
	}
	b, err := io.ReadAll(io.LimitReader(r, f.DataSize))
	if err != nil {
		return nil, 0, fmt.Errorf("audio: WAV data: %w", err)
	}
	pcm := DecodePCM16(make([]int16, 0, len(b)/2), b)
	if f.Channels == 2 {
		pcm = StereoToMono(pcm)
	}
	return pcm, f.SampleRate, nil
}

// DecodePCM16 appends the little-endian 16-bit samples in b to dst (an odd last byte is
// ignored) and returns it.
func DecodePCM16(dst []int16, b []byte) []int16 {
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	return dst
}

// StereoToMono averages interleaved left and right samples, in place.
func StereoToMono(pcm []int16) []int16 {
	n := len(pcm) / 2
	for i := 0; i < n; i++ {
		pcm[i] = int16((int32(pcm[2*i]) + int32(pcm[2*i+1])) / 2)
	}
	return pcm[:n]
}

// WriteWAV writes pcm as a mono 16-bit PCM WAV file at the given sample rate.
func WriteWAV(w io.Writer, pcm []int16, rate int) error {
	n := uint32(2 * len(pcm))
	h := make([]byte, 44, 44+n)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+n)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], n)
	for _, s := range pcm {
		h = binary.LittleEndian.AppendUint16(h, uint16(s))
	}
	_, err := w.Write(h)
	return err
}
