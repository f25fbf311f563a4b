package scanner

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/muster16/synth"
)

// caps describes the fake scanner's capabilities document.
type caps struct {
	duplex      bool     // an AdfDuplexInputCaps
	duplexOpt   bool     // duplex only as AdfOption (older devices)
	formats     []string // default image/jpeg and application/pdf
	resolutions []int    // discrete; default 100, 200, 300, 600
	modes       []string // default BlackAndWhite1, Grayscale8, RGB24
}

func (c caps) xml() string {
	if c.formats == nil {
		c.formats = []string{"image/jpeg", "application/pdf"}
	}
	if c.resolutions == nil {
		c.resolutions = []int{100, 200, 300, 600}
	}
	if c.modes == nil {
		c.modes = []string{"BlackAndWhite1", "Grayscale8", "RGB24"}
	}
	var in strings.Builder
	in.WriteString(`<scan:MinWidth>16</scan:MinWidth><scan:MaxWidth>2550</scan:MaxWidth>
      <scan:MinHeight>16</scan:MinHeight><scan:MaxHeight>3508</scan:MaxHeight>
      <scan:MaxScanRegions>1</scan:MaxScanRegions>
      <scan:SettingProfiles><scan:SettingProfile><scan:ColorModes>`)
	for _, m := range c.modes {
		fmt.Fprintf(&in, "<scan:ColorMode>%s</scan:ColorMode>", m)
	}
	in.WriteString("</scan:ColorModes><scan:DocumentFormats>")
	for _, f := range c.formats {
		fmt.Fprintf(&in, "<pwg:DocumentFormat>%s</pwg:DocumentFormat><scan:DocumentFormatExt>%[1]s</scan:DocumentFormatExt>", f)
	}
	in.WriteString("</scan:DocumentFormats><scan:SupportedResolutions><scan:DiscreteResolutions>")
	for _, r := range c.resolutions {
		fmt.Fprintf(&in, "<scan:DiscreteResolution><scan:XResolution>%d</scan:XResolution><scan:YResolution>%[1]d</scan:YResolution></scan:DiscreteResolution>", r)
	}
	in.WriteString(`</scan:DiscreteResolutions></scan:SupportedResolutions>
      <scan:ColorSpaces><scan:ColorSpace>RGB</scan:ColorSpace></scan:ColorSpaces>
      </scan:SettingProfile></scan:SettingProfiles>
      <scan:SupportedIntents><scan:Intent>Document</scan:Intent><scan:Intent>TextAndGraphic</scan:Intent><scan:Intent>Photo</scan:Intent><scan:Intent>Preview</scan:Intent></scan:SupportedIntents>
      <scan:MaxOpticalXResolution>600</scan:MaxOpticalXResolution><scan:MaxOpticalYResolution>600</scan:MaxOpticalYResolution>`)
	adf := "<scan:AdfSimplexInputCaps>" + in.String() + "</scan:AdfSimplexInputCaps>"
	if c.duplex {
		adf += "<scan:AdfDuplexInputCaps>" + in.String() + "</scan:AdfDuplexInputCaps>"
	}
	adf += "<scan:FeederCapacity>50</scan:FeederCapacity><scan:AdfOptions><scan:AdfOption>DetectPaperLoaded</scan:AdfOption>"
	if c.duplex || c.duplexOpt {
		adf += "<scan:AdfOption>Duplex</scan:AdfOption>"
	}
	adf += "</scan:AdfOptions>"
	return `<?xml version="1.0" encoding="UTF-8"?>
<scan:ScannerCapabilities xmlns:pwg="http://www.pwg.org/schemas/2010/12/sm" xmlns:scan="http://schemas.hp.com/imaging/escl/2011/05/03">
  <pwg:Version>2.63</pwg:Version>
  <pwg:MakeAndModel>Tresen Testscanner 3000</pwg:MakeAndModel>
  <pwg:SerialNumber>TS3000-0001</pwg:SerialNumber>
  <scan:UUID>4509a320-00a0-008f-00b6-002507510eca</scan:UUID>
  <scan:Platen><scan:PlatenInputCaps>` + in.String() + `</scan:PlatenInputCaps></scan:Platen>
  <scan:Adf>` + adf + `</scan:Adf>
  <scan:BrightnessSupport><scan:Min>1</scan:Min><scan:Max>2000</scan:Max><scan:Normal>1000</scan:Normal><scan:Step>1</scan:Step></scan:BrightnessSupport>
</scan:ScannerCapabilities>
`
}

func statusXML(state, adf string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<scan:ScannerStatus xmlns:pwg="http://www.pwg.org/schemas/2010/12/sm" xmlns:scan="http://schemas.hp.com/imaging/escl/2011/05/03">
  <pwg:Version>2.63</pwg:Version>
  <pwg:State>` + state + `</pwg:State>
  <scan:AdfState>` + adf + `</scan:AdfState>
  <scan:Jobs></scan:Jobs>
</scan:ScannerStatus>
`
}

// postedSettings is a ScanSettings document as the fake scanner reads it: with the
// namespaces the spec gives, so that a wrong prefix binding fails.
type postedSettings struct {
	XMLName xml.Name `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 ScanSettings"`
	Version string   `xml:"http://www.pwg.org/schemas/2010/12/sm Version"`
	Intent  string   `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 Intent"`
	Regions *struct {
		Region struct {
			Units  string `xml:"http://www.pwg.org/schemas/2010/12/sm ContentRegionUnits"`
			Width  int    `xml:"http://www.pwg.org/schemas/2010/12/sm Width"`
			Height int    `xml:"http://www.pwg.org/schemas/2010/12/sm Height"`
		} `xml:"http://www.pwg.org/schemas/2010/12/sm ScanRegion"`
	} `xml:"http://www.pwg.org/schemas/2010/12/sm ScanRegions"`
	InputSource       string `xml:"http://www.pwg.org/schemas/2010/12/sm InputSource"`
	Duplex            string `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 Duplex"`
	ColorMode         string `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 ColorMode"`
	XResolution       int    `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 XResolution"`
	YResolution       int    `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 YResolution"`
	DocumentFormat    string `xml:"http://www.pwg.org/schemas/2010/12/sm DocumentFormat"`
	DocumentFormatExt string `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 DocumentFormatExt"`
}

// fakeESCL is a small eSCL scanner: capabilities, status, one job at a time that serves
// its documents in order, 503 while a page is "being scanned", DELETE to cancel.
type fakeESCL struct {
	t           *testing.T
	caps        string
	adf         string   // AdfState reported in ScannerStatus
	docs        [][]byte // what the feeder yields, in order
	contentType string
	unready     int // 503 answers before each document
	postStatus  int // answer POST ScanJobs with this status instead of 201
	hold        int // block NextDocument for this document (1-based) until the request ends
	location    func(string) string

	mu          sync.Mutex
	posted      []postedSettings
	deleted     []string
	served      int
	answered503 int
	fetches     int
}

func (f *fakeESCL) start() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /eSCL/ScannerCapabilities", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, f.caps)
	})
	mux.HandleFunc("GET /eSCL/ScannerStatus", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		f.mu.Lock()
		adf := f.adf
		f.mu.Unlock()
		io.WriteString(w, statusXML("Idle", adf))
	})
	mux.HandleFunc("POST /eSCL/ScanJobs", func(w http.ResponseWriter, r *http.Request) {
		var s postedSettings
		if err := xml.NewDecoder(r.Body).Decode(&s); err != nil {
			f.t.Errorf("ScanSettings: %v", err)
			http.Error(w, "bad settings", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.posted = append(f.posted, s)
		f.mu.Unlock()
		if f.postStatus != 0 {
			w.WriteHeader(f.postStatus)
			return
		}
		loc := "/eSCL/ScanJobs/4d7a1f9e"
		if f.location != nil {
			loc = f.location(loc)
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /eSCL/ScanJobs/{id}/NextDocument", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "4d7a1f9e" {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		f.fetches++
		if f.served >= len(f.docs) {
			f.mu.Unlock()
			http.NotFound(w, r)
			return
		}
		if f.answered503 < f.unready*(f.served+1) {
			f.answered503++
			f.mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if f.hold == f.served+1 {
			f.mu.Unlock()
			<-r.Context().Done()
			return
		}
		doc := f.docs[f.served]
		f.served++
		f.mu.Unlock()
		w.Header().Set("Content-Type", f.contentType)
		w.Write(doc)
	})
	mux.HandleFunc("DELETE /eSCL/ScanJobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.deleted = append(f.deleted, r.PathValue("id"))
		f.mu.Unlock()
	})
	srv := httptest.NewServer(mux)
	f.t.Cleanup(srv.Close)
	return srv
}

// sheets renders n synthetic prescriptions (front: the Muster 16 of synth.Record; back: a
// white page with a signature stroke) as the JPEGs a scanner sends, front and back in turn.
func sheets(t *testing.T, n int) [][]byte {
	t.Helper()
	var docs [][]byte
	for i := range n {
		front, err := synth.Render(synth.Record(uint64(100+i)), synth.Options{DPI: 100, Seed: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		back := image.NewRGBA(front.Bounds())
		draw.Draw(back, back.Bounds(), image.White, image.Point{}, draw.Src)
		for x := 100 + 20*i; x < 400; x++ { // a signature, different on each sheet
			back.Set(x, 300+(x%40)/2, color.RGBA{0x1F, 0x2A, 0x8C, 0xFF})
		}
		for _, img := range []image.Image{front, back} {
			var b bytes.Buffer
			if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
				t.Fatal(err)
			}
			docs = append(docs, b.Bytes())
		}
	}
	return docs
}

func collect(files *[]File) func(File) error {
	return func(f File) error { *files = append(*files, f); return nil }
}

func TestESCLDuplexBatch(t *testing.T) {
	f := &fakeESCL{t: t, caps: caps{duplex: true}.xml(), adf: "ScannerAdfEmpty", docs: sheets(t, 3), contentType: "image/jpeg",
		// The device names itself by an address the client did not dial.
		location: func(p string) string { return "http://192.0.2.99:8080" + p + "/" }}
	srv := f.start()
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
		if !bytes.Equal(file.Data, f.docs[i]) {
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
	want := []postedSettings{{
		XMLName: xml.Name{Space: nsScan, Local: "ScanSettings"},
		Version: "2.63", Intent: "Document",
		Regions: &struct {
			Region struct {
				Units  string `xml:"http://www.pwg.org/schemas/2010/12/sm ContentRegionUnits"`
				Width  int    `xml:"http://www.pwg.org/schemas/2010/12/sm Width"`
				Height int    `xml:"http://www.pwg.org/schemas/2010/12/sm Height"`
			} `xml:"http://www.pwg.org/schemas/2010/12/sm ScanRegion"`
		}{},
		InputSource: "Feeder", Duplex: "true", ColorMode: "RGB24", XResolution: 300, YResolution: 300,
		DocumentFormat: "image/jpeg", DocumentFormatExt: "image/jpeg",
	}}
	want[0].Regions.Region.Units, want[0].Regions.Region.Width, want[0].Regions.Region.Height = "escl:ThreeHundredthsOfInches", 2550, 3508
	if diff := cmp.Diff(want, f.posted); diff != "" {
		t.Errorf("ScanSettings (-want +got):\n%s", diff)
	}
	if len(f.deleted) > 0 {
		t.Errorf("finished job deleted: %v", f.deleted)
	}
}

func TestESCLUnready(t *testing.T) {
	f := &fakeESCL{t: t, caps: caps{duplex: true}.xml(), adf: "ScannerAdfEmpty", docs: sheets(t, 1), contentType: "image/jpeg", unready: 2}
	srv := f.start()
	var got []File
	start := time.Now()
	if err := (ESCL{URL: srv.URL + "/eSCL", RetryDelay: 5 * time.Millisecond}).Scan(context.Background(), Settings{}, collect(&got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || f.answered503 != 4 {
		t.Errorf("%d pages after %d answers 503, want 2 after 4", len(got), f.answered503)
	}
	// 5, 10 ms before the first page, again after it: well under a second.
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("scan took %v; the backoff did not start again after a page", d)
	}
}

func TestESCLFormats(t *testing.T) {
	tests := []struct {
		name    string
		caps    caps
		set     Settings
		ct      string
		format  string
		mode    string
		pageExt string
	}{
		{"pdf only", caps{duplex: true, formats: []string{"application/pdf"}}, Settings{}, "application/pdf", "application/pdf", "RGB24", ".pdf"},
		{"duplex as adf option", caps{duplexOpt: true}, Settings{}, "image/jpeg", "image/jpeg", "RGB24", ".jpg"},
		{"grey simplex", caps{}, Settings{Simplex: true, Gray: true, DPI: 600}, "image/jpeg; charset=binary", "image/jpeg", "Grayscale8", ".jpg"},
		{"no content type", caps{duplex: true}, Settings{}, "", "image/jpeg", "RGB24", ".jpg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeESCL{t: t, caps: tc.caps.xml(), adf: "ScannerAdfEmpty", docs: [][]byte{[]byte("%PDF-1.4 fake")}, contentType: tc.ct}
			srv := f.start()
			var got []File
			if err := (ESCL{URL: srv.URL + "/eSCL"}).Scan(context.Background(), tc.set, collect(&got)); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Name != "page-0001"+tc.pageExt {
				t.Errorf("files %v, want one page-0001%s", names(got), tc.pageExt)
			}
			p := f.posted[0]
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
		fake  *fakeESCL
		set   Settings
		want  error
		pages int
		post  bool // the job was posted
	}{
		{"feeder empty", &fakeESCL{caps: caps{duplex: true}.xml(), adf: "ScannerAdfEmpty"}, Settings{}, ErrFeederEmpty, 0, true},
		{"no page, feeder loaded", &fakeESCL{caps: caps{duplex: true}.xml(), adf: "ScannerAdfLoaded"}, Settings{}, ErrNoPages, 0, true},
		{"jam after two pages", &fakeESCL{caps: caps{duplex: true}.xml(), adf: "ScannerAdfJam", docs: [][]byte{[]byte("1"), []byte("2")}}, Settings{}, ErrJam, 2, true},
		{"busy", &fakeESCL{caps: caps{duplex: true}.xml(), adf: "ScannerAdfLoaded", postStatus: http.StatusConflict}, Settings{}, ErrBusy, 0, true},
		{"refused, feeder empty", &fakeESCL{caps: caps{duplex: true}.xml(), adf: "ScannerAdfEmpty", postStatus: http.StatusConflict}, Settings{}, ErrFeederEmpty, 0, true},
		{"refused", &fakeESCL{caps: caps{duplex: true}.xml(), adf: "ScannerAdfLoaded", postStatus: http.StatusInternalServerError}, Settings{}, ErrDevice, 0, true},
		{"no duplex", &fakeESCL{caps: caps{}.xml()}, Settings{}, ErrNoDuplex, 0, false},
		{"no colour", &fakeESCL{caps: caps{duplex: true, modes: []string{"Grayscale8"}}.xml()}, Settings{}, ErrNoColor, 0, false},
		{"no 300 dpi", &fakeESCL{caps: caps{duplex: true, resolutions: []int{200, 600}}.xml()}, Settings{}, ErrResolution, 0, false},
		{"malformed capabilities", &fakeESCL{caps: `<?xml version="1.0"?><scan:ScannerCapabilities xmlns:scan="` + nsScan + `"><pwg:Version>2.6</scan:Version>`}, Settings{}, ErrProtocol, 0, false},
		{"not capabilities", &fakeESCL{caps: `<html><body>Login</body></html>`}, Settings{}, ErrProtocol, 0, false},
		{"capabilities too large", &fakeESCL{caps: "<scan:ScannerCapabilities>" + strings.Repeat(" ", maxXMLBytes) + "</scan:ScannerCapabilities>"}, Settings{}, ErrProtocol, 0, false},
		{"no job location", &fakeESCL{caps: caps{duplex: true}.xml(), location: func(string) string { return "" }}, Settings{}, ErrProtocol, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake
			f.t, f.contentType = t, "image/jpeg"
			srv := f.start()
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
			if posted := len(f.posted) > 0; posted != tc.post {
				t.Errorf("job posted: %v, want %v", posted, tc.post)
			}
		})
	}
}

func TestESCLCancel(t *testing.T) {
	f := &fakeESCL{t: t, caps: caps{duplex: true}.xml(), adf: "ScannerAdfLoaded", docs: sheets(t, 2), contentType: "image/jpeg", hold: 2}
	srv := f.start()
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
	f.mu.Lock()
	defer f.mu.Unlock()
	if diff := cmp.Diff([]string{"4d7a1f9e"}, f.deleted); diff != "" {
		t.Errorf("DELETEd jobs (-want +got):\n%s", diff)
	}
}

func TestESCLCallbackErrorDeletesJob(t *testing.T) {
	f := &fakeESCL{t: t, caps: caps{duplex: true}.xml(), adf: "ScannerAdfLoaded", docs: [][]byte{[]byte("1"), []byte("2"), []byte("3")}, contentType: "image/jpeg"}
	srv := f.start()
	full := errors.New("store full")
	err := (ESCL{URL: srv.URL + "/eSCL"}).Scan(context.Background(), Settings{}, func(File) error { return full })
	if !errors.Is(err, full) {
		t.Fatalf("Scan: %v, want the callback's error", err)
	}
	if len(f.deleted) != 1 || f.fetches != 1 {
		t.Errorf("%d fetches, DELETEd %v; want 1 fetch and the job deleted", f.fetches, f.deleted)
	}
}

func TestESCLDocumentTooLarge(t *testing.T) {
	f := &fakeESCL{t: t, caps: caps{duplex: true}.xml(), adf: "ScannerAdfLoaded", docs: [][]byte{make([]byte, 2<<20)}, contentType: "image/jpeg"}
	srv := f.start()
	err := (ESCL{URL: srv.URL + "/eSCL", maxDocument: 1 << 20}).Scan(context.Background(), Settings{}, func(File) error { return nil })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Scan: %v, want ErrTooLarge", err)
	}
	if len(f.deleted) != 1 {
		t.Errorf("DELETEd %v, want the job", f.deleted)
	}
}

func TestESCLCapabilities(t *testing.T) {
	f := &fakeESCL{t: t, caps: caps{duplex: true, resolutions: []int{300, 200, 300, 600}}.xml()}
	srv := f.start()
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
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("parsing took %v", d)
			}
			if !errors.Is(err1, ErrProtocol) || !errors.Is(err2, ErrProtocol) {
				t.Errorf("errors %v, %v; want ErrProtocol", err1, err2)
			}
		})
	}
}

func FuzzCapabilities(f *testing.F) {
	f.Add([]byte(caps{duplex: true}.xml()))
	f.Add([]byte(caps{duplexOpt: true, formats: []string{"application/pdf"}}.xml()))
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
				var p postedSettings
				if err := xml.Unmarshal(s.xml(), &p); err != nil {
					t.Fatalf("settings from %q do not parse: %v", data, err)
				}
			}
		}
	})
}

func FuzzStatus(f *testing.F) {
	f.Add([]byte(statusXML("Idle", "ScannerAdfLoaded")))
	f.Add([]byte(statusXML("Processing", "ScannerAdfJam")))
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
