package callflow

import "github.com/tresen/tresen/internal/audio"

// VAD returns detectors of the caller's turns by voice activity (package audio).
func VAD(cfg audio.VADConfig) func() Detector {
	return func() Detector { return vad{audio.NewDetector(cfg)} }
}

type vad struct{ d *audio.Detector }

func (v vad) Feed(frame []int16) Event {
	switch v.d.Feed(frame).Kind {
	case audio.SpeechStart:
		return SpeechStart
	case audio.SpeechEnd:
		return TurnEnd
	}
	return None
}

// Prompts are the texts the flow itself says, which never change: a voice caches them at
// start.
func Prompts() []string {
	return []string{sayTrouble, sayMaxCall, sayMenu, sayBirth, sayKeypadOK, sayNoNumber, sayNoTransfer, sayRecorded, sayVoicemail}
}
