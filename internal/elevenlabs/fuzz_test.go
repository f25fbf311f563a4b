package elevenlabs

import (
	"errors"
	"testing"
)

// FuzzParseAudio feeds arbitrary server messages of the text-to-speech stream: no panic,
// and every converter takes whatever audio is accepted.
func FuzzParseAudio(f *testing.F) {
	f.Add([]byte(`{"audio":"AAABAAIA","isFinal":null,"normalizedAlignment":{"charStartTimesMs":[0],"charDurationsMs":[70],"chars":["H"]}}`))
	f.Add([]byte(`{"audio":null,"isFinal":true}`))
	f.Add([]byte(`{"message":"Quota exceeded","error":"quota_exceeded","code":1008}`))
	f.Add([]byte(`{"error":{"nested":true}}`))
	f.Add([]byte(`{"audio":"###"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		audio, final, err := parseAudio(data)
		if err != nil {
			if se, ok := errors.AsType[*ServerError](err); ok && (se.Code == "" || len(se.Code) > 40) {
				t.Fatalf("server error code %q", se.Code)
			}
			if audio != nil || final {
				t.Fatal("audio or end with an error")
			}
			return
		}
		for _, format := range []string{PCM8000, PCM16000, ULaw8000} {
			c := newConverter(format)
			c.convert(audio)
			c.flush()
		}
	})
}

// FuzzParseEvent feeds arbitrary server messages of the realtime transcription: no panic,
// and only transcripts carry text.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"message_type":"session_started","session_id":"0f8a2c","config":{"sample_rate":8000}}`))
	f.Add([]byte(`{"message_type":"partial_transcript","text":"Ich hätte"}`))
	f.Add([]byte(`{"message_type":"committed_transcript","text":"Ich hätte gern einen Termin."}`))
	f.Add([]byte(`{"message_type":"committed_transcript_with_timestamps","text":"Ja.","language_code":"de","words":[{"text":"Ja.","start":0.1,"end":0.4,"type":"word","logprob":-0.1}]}`))
	f.Add([]byte(`{"message_type":"auth_error","error":"Invalid API key"}`))
	f.Add([]byte(`{"message_type":"brand_new_error","error":"x"}`))
	f.Add([]byte(`{"message_type":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := parseEvent(data)
		if err != nil {
			if ev != (event{}) {
				t.Fatal("an event with an error")
			}
			if se, ok := errors.AsType[*ServerError](err); ok && (se.Code == "" || len(se.Code) > 40) {
				t.Fatalf("server error code %q", se.Code)
			}
			return
		}
		if ev.kind != eventTranscript && (ev.text != "" || ev.final) {
			t.Fatalf("non-transcript event %+v", ev)
		}
	})
}
