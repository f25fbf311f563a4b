package scanner

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/scanner/escltest"
)

func collect(files *[]File) func(File) error {
	return func(f File) error { *files = append(*files, f); return nil }
}

func TestESCLDuplexBatch(t *testing.T) {
	f := &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfEmpty", Docs: escltest.Sheets(t, 3, 100), ContentType: "image/jpeg",
		// The device names itself by an address the client did not dial.
		Location: func(p string) string { return "http://192.0.2.99:8080" + p + "/" }}
	srv := f.Start(t)
	var got []File
	if err := (ESCL{URL: srv.URL + "/eSCL/"}).Scan(context.Background(), Settings{}, collect(&got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("%d pages, want 6 (3 sheets, both sides)", len(got))
	}
	for i, file := range got {
		if want := fmt.Sprintf("page-%04d.jpg", i+1); file.Name != want {
			t.Errorf("page %d named %q, want %q", i+1, file.Name, want)
		}
		if !bytes.Equal(file.Data, f.Docs[i]) {
			t.Errorf("page %d is not the scanner's document %d", i+1, i+1)
		}
		img, err := jpeg.Decode(bytes.NewReader(file.Data))
		if err != nil {
			t.Fatalf("page %d: %v", i+1, err)
		}
		if b := img.Bounds(); b.Dx() != 583 || b.Dy() != 413 {
			t.Errorf("page %d: %v, want 583 × 413 (Muster 16 at 100 dpi)", i+1, b)
		}
	}
	want := []escltest.Settings{{
		XMLName: xml.Name{Space: nsScan, Local: "ScanSettings"},
		Version: "2.63", Intent: "Document",
		Regions:     &escltest.Regions{Region: escltest.Region{Units: "escl:ThreeHundredthsOfInches", Width: 2550, Height: 3508}},
		InputSource: "Feeder", Duplex: "true", ColorMode: "RGB24", XResolution: 300, YResolution: 300,
		DocumentFormat: "image/jpeg", DocumentFormatExt: "image/jpeg",
	}}
	if diff := cmp.Diff(want, f.Posted()); diff != "" {
		t.Errorf("ScanSettings (-want +got):\n%s", diff)
	}
	if d := f.Deleted(); len(d) > 0 {
		t.Errorf("finished job deleted: %v", d)
	}
}

func TestESCLUnready(t *testing.T) {
	f := &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfEmpty", Docs: escltest.Sheets(t, 1, 100), ContentType: "image/jpeg", Unready: 2}
	srv := f.Start(t)
	var got []File
	start := time.Now()
	if err := (ESCL{URL: srv.URL + "/eSCL", RetryDelay: 5 * time.Millisecond}).Scan(context.Background(), Settings{}, collect(&got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || f.Answered503() != 4 {
		t.Errorf("%d pages after %d answers 503, want 2 after 4", len(got), f.Answered503())
	}
	// 5, 10 ms before the first page, again after it: well under a second.
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("scan took %v; the backoff did not start again after a page", d)
	}
}

func TestESCLFormats(t *testing.T) {
	tests := []struct {
		name    string
		caps    escltest.Caps
		set     Settings
		ct      string
		format  string
		mode    string
		pageExt string
	}{
		{"pdf only", escltest.Caps{Duplex: true, Formats: []string{"application/pdf"}}, Settings{}, "application/pdf", "application/pdf", "RGB24", ".pdf"},
		{"duplex as adf option", escltest.Caps{DuplexOption: true}, Settings{}, "image/jpeg", "image/jpeg", "RGB24", ".jpg"},
		{"grey simplex", escltest.Caps{}, Settings{Simplex: true, Gray: true, DPI: 600}, "image/jpeg; charset=binary", "image/jpeg", "Grayscale8", ".jpg"},
		{"no content type", escltest.Caps{Duplex: true}, Settings{}, "", "image/jpeg", "RGB24", ".jpg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &escltest.Scanner{Caps: tc.caps.XML(), ADF: "ScannerAdfEmpty", Docs: [][]byte{[]byte("%PDF-1.4 fake")}, ContentType: tc.ct}
			srv := f.Start(t)
			var got []File
			if err := (ESCL{URL: srv.URL + "/eSCL"}).Scan(context.Background(), tc.set, collect(&got)); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Name != "page-0001"+tc.pageExt {
				t.Errorf("files %v, want one page-0001%s", names(got), tc.pageExt)
			}
			p := f.Posted()[0]
			if p.DocumentFormat != tc.format || p.ColorMode != tc.mode || p.XResolution != tc.set.dpi() || p.Duplex != fmt.Sprint(!tc.set.Simplex) {
				t.Errorf("posted format %s, mode %s, %d dpi, duplex %s; want %s, %s, %d, %v",
					p.DocumentFormat, p.ColorMode, p.XResolution, p.Duplex, tc.format, tc.mode, tc.set.dpi(), !tc.set.Simplex)
			}
		})
	}
}

func names(fs []File) []string {
	var n []string
	for _, f := range fs {
		n = append(n, f.Name)
	}
	return n
}

func TestESCLErrors(t *testing.T) {
	tests := []struct {
		name  string
		fake  *escltest.Scanner
		set   Settings
		want  error
		pages int
		post  bool // the job was posted
	}{
		{"feeder empty", &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfEmpty"}, Settings{}, ErrFeederEmpty, 0, true},
		{"no page, feeder loaded", &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfLoaded"}, Settings{}, ErrNoPages, 0, true},
		{"jam after two pages", &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfJam", Docs: [][]byte{[]byte("1"), []byte("2")}}, Settings{}, ErrJam, 2, true},
		{"busy", &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfLoaded", PostStatus: http.StatusConflict}, Settings{}, ErrBusy, 0, true},
		{"refused, feeder empty", &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfEmpty", PostStatus: http.StatusConflict}, Settings{}, ErrFeederEmpty, 0, true},
		{"refused", &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfLoaded", PostStatus: http.StatusInternalServerError}, Settings{}, ErrDevice, 0, true},
		{"no duplex", &escltest.Scanner{Caps: escltest.Caps{}.XML()}, Settings{}, ErrNoDuplex, 0, false},
		{"no colour", &escltest.Scanner{Caps: escltest.Caps{Duplex: true, Modes: []string{"Grayscale8"}}.XML()}, Settings{}, ErrNoColor, 0, false},
		{"no 300 dpi", &escltest.Scanner{Caps: escltest.Caps{Duplex: true, Resolutions: []int{200, 600}}.XML()}, Settings{}, ErrResolution, 0, false},
		{"malformed capabilities", &escltest.Scanner{Caps: `<?xml version="1.0"?><scan:ScannerCapabilities xmlns:scan="` + nsScan + `"><pwg:Version>2.6</scan:Version>`}, Settings{}, ErrProtocol, 0, false},
		{"not capabilities", &escltest.Scanner{Caps: `<html><body>Login</body></html>`}, Settings{}, ErrProtocol, 0, false},
		{"capabilities too large", &escltest.Scanner{Caps: "<scan:ScannerCapabilities>" + strings.Repeat(" ", maxXMLBytes) + "</scan:ScannerCapabilities>"}, Settings{}, ErrProtocol, 0, false},
		{"no job location", &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), Location: func(string) string { return "" }}, Settings{}, ErrProtocol, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake
			f.ContentType = "image/jpeg"
			srv := f.Start(t)
			var got []File
			err := (ESCL{URL: srv.URL + "/eSCL", RetryDelay: time.Millisecond}).Scan(context.Background(), tc.set, collect(&got))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Scan: %v, want %v", err, tc.want)
			}
			if got, want := errs.Message(err), errs.Message(tc.want); got != want {
				t.Errorf("user message %q, want %q", got, want)
			}
			if len(got) != tc.pages {
				t.Errorf("%d pages, want %d", len(got), tc.pages)
			}
			if posted := len(f.Posted()) > 0; posted != tc.post {
				t.Errorf("job posted: %v, want %v", posted, tc.post)
			}
		})
	}
}

func TestESCLCancel(t *testing.T) {
	f := &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfLoaded", Docs: escltest.Sheets(t, 2, 100), ContentType: "image/jpeg", Hold: 2}
	srv := f.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []File
	err := (ESCL{URL: srv.URL + "/eSCL"}).Scan(ctx, Settings{}, func(file File) error {
		got = append(got, file)
		// The scanner is feeding the next sheet; the user cancels meanwhile.
		time.AfterFunc(20*time.Millisecond, cancel)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Scan: %v, want context.Canceled", err)
	}
	if len(got) != 1 {
		t.Errorf("%d pages, want 1", len(got))
	}
	if diff := cmp.Diff([]string{escltest.JobID}, f.Deleted()); diff != "" {
		t.Errorf("DELETEd jobs (-want +got):\n%s", diff)
	}
}

func TestESCLCallbackErrorDeletesJob(t *testing.T) {
	f := &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfLoaded", Docs: [][]byte{[]byte("1"), []byte("2"), []byte("3")}, ContentType: "image/jpeg"}
	srv := f.Start(t)
	full := errors.New("store full")
	err := (ESCL{URL: srv.URL + "/eSCL"}).Scan(context.Background(), Settings{}, func(File) error { return full })
	if !errors.Is(err, full) {
		t.Fatalf("Scan: %v, want the callback's error", err)
	}
	if len(f.Deleted()) != 1 || f.Fetches() != 1 {
		t.Errorf("%d fetches, DELETEd %v; want 1 fetch and the job deleted", f.Fetches(), f.Deleted())
	}
}

func TestESCLDocumentTooLarge(t *testing.T) {
	f := &escltest.Scanner{Caps: escltest.Caps{Duplex: true}.XML(), ADF: "ScannerAdfLoaded", Docs: [][]byte{make([]byte, 2<<20)}, ContentType: "image/jpeg"}
	srv := f.Start(t)
	err := (ESCL{URL: srv.URL + "/eSCL", maxDocument: 1 << 20}).Scan(context.Background(), Settings{}, func(File) error { return nil })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Scan: %v, want ErrTooLarge", err)
	}
	if len(f.Deleted()) != 1 {
		t.Errorf("DELETEd %v, want the job", f.Deleted())
	}
}

func TestESCLCapabilities(t *testing.T) {
	f := &escltest.Scanner{Caps: escltest.Caps{Duplex: true, Resolutions: []int{300, 200, 300, 600}}.XML()}
	srv := f.Start(t)
	got, err := (ESCL{URL: srv.URL + "/eSCL"}).Capabilities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	in := &Input{MaxWidth: 2550, MaxHeight: 3508, ColorModes: []string{"BlackAndWhite1", "Grayscale8", "RGB24"},
		Formats: []string{"image/jpeg", "application/pdf"}, FormatsExt: true, Resolutions: []int{200, 300, 600},
		Intents: []string{"Document", "TextAndGraphic", "Photo", "Preview"}}
	want := Capabilities{Version: "2.63", MakeAndModel: "Tresen Testscanner 3000", Platen: in, Feeder: in, FeederDuplex: in}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
}

// A range of resolutions, two profiles, prefixes bound to other names and a status in the
// wrong namespace: what devices send.
func TestParseCapabilitiesVariants(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<e:ScannerCapabilities xmlns:e="http://schemas.hp.com/imaging/escl/2011/05/03" xmlns:p="http://www.pwg.org/schemas/2010/12/sm">
 <p:Version> 2.0 </p:Version><p:MakeAndModel>Beispiel
   MFP  1</p:MakeAndModel>
 <e:Adf><e:AdfSimplexInputCaps><e:MaxWidth>2550</e:MaxWidth><e:MaxHeight>4200</e:MaxHeight>
  <e:SettingProfiles>
   <e:SettingProfile><e:ColorModes><e:ColorMode>RGB24</e:ColorMode></e:ColorModes>
    <e:DocumentFormats><p:DocumentFormat>image/jpeg</p:DocumentFormat></e:DocumentFormats>
    <e:SupportedResolutions><e:ResolutionRange>
     <e:XResolutionRange><e:Min>75</e:Min><e:Max>600</e:Max><e:Normal>300</e:Normal><e:Step>1</e:Step></e:XResolutionRange>
     <e:YResolutionRange><e:Min>75</e:Min><e:Max>1200</e:Max><e:Normal>300</e:Normal><e:Step>1</e:Step></e:YResolutionRange>
    </e:ResolutionRange></e:SupportedResolutions></e:SettingProfile>
   <e:SettingProfile><e:ColorModes><e:ColorMode>Grayscale8</e:ColorMode><e:ColorMode>RGB24</e:ColorMode><e:ColorMode>evil value &lt;x&gt;</e:ColorMode></e:ColorModes>
    <e:SupportedResolutions><e:DiscreteResolutions><e:DiscreteResolution><e:XResolution>1200</e:XResolution><e:YResolution>600</e:YResolution></e:DiscreteResolution></e:DiscreteResolutions></e:SupportedResolutions>
   </e:SettingProfile></e:SettingProfiles></e:AdfSimplexInputCaps></e:Adf>
</e:ScannerCapabilities>`
	got, err := parseCapabilities([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := Capabilities{Version: "2.0", MakeAndModel: "Beispiel MFP 1", Feeder: &Input{MaxWidth: 2550, MaxHeight: 4200,
		ColorModes: []string{"RGB24", "Grayscale8"}, Formats: []string{"image/jpeg"}, MinDPI: 75, MaxDPI: 600}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
	if !got.Feeder.Offers(300) || got.Feeder.Offers(1200) {
		t.Error("Offers: want 300 dpi in the range, 1200 (not the same across and down) not")
	}

	st, err := parseStatus([]byte(`<ScannerStatus xmlns="http://schemas.hp.com/imaging/escl/2011/05/03"><State xmlns="http://www.pwg.org/schemas/2010/12/sm">Processing</State><pwg:AdfState xmlns:pwg="http://www.pwg.org/schemas/2010/12/sm">ScannerAdfJam</pwg:AdfState></ScannerStatus>`))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Status{State: "Processing", ADF: "ScannerAdfJam"}); st != want {
		t.Errorf("status %+v, want %+v", st, want)
	}
}

// Hostile documents end in an error, quickly, and name nothing of their content beyond
// the parser's message.
func TestParseHostileXML(t *testing.T) {
	deep := strings.Repeat("<a>", maxXMLBytes/3-100)
	laughs := `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><ScannerCapabilities><Version>&c;</Version></ScannerCapabilities>`
	limit := 2 * time.Second // a few hundred ms at most; runaway parsing takes minutes
	if raceEnabled {
		limit *= 10
	}
	for name, doc := range map[string]string{
		"deep":        "<ScannerCapabilities>" + deep,
		"deep status": "<ScannerStatus>" + deep,
		"entities":    laughs,
		"not utf-8":   `<?xml version="1.0" encoding="ISO-8859-1"?><ScannerStatus><State>Idle</State></ScannerStatus>`,
		"empty":       "",
		"truncated":   `<ScannerStatus><State>Idle`,
		"mismatched":  `<ScannerStatus><State>Idle</Status></ScannerStatus>`,
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err1 := parseCapabilities([]byte(doc))
			_, err2 := parseStatus([]byte(doc))
			if d := time.Since(start); d > limit {
				t.Errorf("parsing took %v", d)
			}
			if !errors.Is(err1, ErrProtocol) || !errors.Is(err2, ErrProtocol) {
				t.Errorf("errors %v, %v; want ErrProtocol", err1, err2)
			}
		})
	}
}

func FuzzCapabilities(f *testing.F) {
	f.Add([]byte(escltest.Caps{Duplex: true}.XML()))
	f.Add([]byte(escltest.Caps{DuplexOption: true, Formats: []string{"application/pdf"}}.XML()))
	f.Add([]byte(`<ScannerCapabilities><Adf><AdfSimplexInputCaps><SettingProfiles><SettingProfile><SupportedResolutions><ResolutionRange><XResolutionRange><Min>1</Min><Max>99</Max></XResolutionRange></ResolutionRange></SupportedResolutions></SettingProfile></SettingProfiles></AdfSimplexInputCaps></Adf></ScannerCapabilities>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCapabilities(data)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		for _, in := range []*Input{c.Platen, c.Feeder, c.FeederDuplex} {
			if in == nil {
				continue
			}
			if in.MinDPI > in.MaxDPI || in.MinDPI < 0 || len(in.ColorModes) > maxList || len(in.Intents) > maxList {
				t.Fatalf("implausible input %+v", in)
			}
			for i, r := range in.Resolutions {
				if r <= 0 || (i > 0 && r <= in.Resolutions[i-1]) {
					t.Fatalf("resolutions %v not positive and ascending", in.Resolutions)
				}
			}
			for _, v := range append(append(in.ColorModes, in.Formats...), in.Intents...) {
				if token(v) != v {
					t.Fatalf("value %q kept that is no token", v)
				}
			}
			// Whatever a device says must make well-formed settings.
			s, err := chooseSettings(c, Settings{Simplex: true})
			if err == nil {
				var p escltest.Settings
				if err := xml.Unmarshal(s.xml(), &p); err != nil {
					t.Fatalf("settings from %q do not parse: %v", data, err)
				}
			}
		}
	})
}

func FuzzStatus(f *testing.F) {
	f.Add([]byte(escltest.StatusXML("Idle", "ScannerAdfLoaded")))
	f.Add([]byte(escltest.StatusXML("Processing", "ScannerAdfJam")))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseStatus(data)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if token(s.State) != s.State || token(s.ADF) != s.ADF {
			t.Fatalf("status %+v holds no tokens", s)
		}
	})
}
