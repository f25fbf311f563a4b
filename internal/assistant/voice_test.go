package assistant_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/assistant"
	"github.com/tresen/tresen/internal/azurespeech"
	"github.com/tresen/tresen/internal/azurespeech/azuretest"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/speech"
)

// TestAzureRecognizerStreams: a practice that chose Azure hears the caller through the
// streaming recognition, with interim results while the caller speaks.
func TestAzureRecognizerStreams(t *testing.T) {
	srv := azuretest.NewServer(t, azuretest.Script{
		Replies: []azuretest.Msg{azuretest.Hypothesis("ich brauche ein rezept", 0, 9_000_000)},
		OnEnd:   []azuretest.Msg{azuretest.Phrase("Ich brauche ein Rezept.", 0.92, 0, 12_000_000)},
	})
	v := assistant.VoiceSettings{Recognizer: "azure", Azure: &azurespeech.Settings{
		Region: "germanywestcentral", Key: "azure-key", ZeroRetention: true, STTEndpoint: srv.Endpoint(), Timeout: 2 * time.Second,
	}}
	if err := v.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	rec, err := v.NewRecognizer()
	if err != nil {
		t.Fatalf("NewRecognizer: %v", err)
	}
	if diff := cmp.Diff(speech.Provider{Name: "azurespeech", EUResidency: true, ZeroRetention: true}, rec.Provider()); diff != "" {
		t.Errorf("provider (-want +got):\n%s", diff)
	}
	st, err := rec.Stream(t.Context())
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	for range 10 {
		if err := st.Write(make([]int16, speech.FrameSize)); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	st.Close()
	var got []speech.Result
	for r := range st.Results() {
		got = append(got, r)
	}
	if err := st.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	want := []speech.Result{{Text: "ich brauche ein rezept"}, {Text: "Ich brauche ein Rezept.", Final: true, Confidence: 0.92}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if conn := srv.Only(t); len(conn.Turns) != 1 || !conn.Turns[0].Ended {
		t.Errorf("turns = %+v", conn.Turns)
	}
}

// TestAzureRecognizerPromises: Azure is refused outside the EU and without the practice's
// confirmation that nothing is kept.
func TestAzureRecognizerPromises(t *testing.T) {
	for name, tc := range map[string]struct {
		s     azurespeech.Settings
		field string
	}{
		"outside the EU":    {azurespeech.Settings{Region: "switzerlandnorth", Key: "k", ZeroRetention: true}, "region"},
		"not confirmed":     {azurespeech.Settings{Region: "westeurope", Key: "k"}, "zero_retention"},
		"other region host": {azurespeech.Settings{Region: "westeurope", Key: "k", ZeroRetention: true, STTEndpoint: "wss://eastus.stt.speech.microsoft.com/speech/recognition/conversation/cognitiveservices/v1"}, "stt_endpoint"},
	} {
		_, err := assistant.VoiceSettings{Recognizer: "azure", Azure: &tc.s}.NewRecognizer()
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Field != tc.field {
			t.Errorf("%s: NewRecognizer = %v, want invalid %s", name, err, tc.field)
		}
	}
	if _, err := (assistant.VoiceSettings{Recognizer: "azure"}).NewRecognizer(); !errs.Is(err, errs.Invalid) {
		t.Errorf("azure without settings: %v", err)
	}
}
