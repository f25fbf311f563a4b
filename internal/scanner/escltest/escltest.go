// Package escltest is a fake eSCL (AirScan) network scanner for tests of package scanner
// and of the service scanning from it: capabilities and status documents, one scan job
// that hands out given documents page by page, and synthetic prescriptions to feed it.
package escltest

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The eSCL namespaces (Mopria/Apple eSCL, PWG Semantic Model).
const (
	nsScan = "http://schemas.hp.com/imaging/escl/2011/05/03"
	nsPWG  = "http://www.pwg.org/schemas/2010/12/sm"
)

// JobID names the one job the fake scanner creates: its Location is
// /eSCL/ScanJobs/JobID, and Deleted reports it when the job is cancelled.
const JobID = "4d7a1f9e"

// Caps describes a capabilities document. The zero value is a simplex feeder and platen
// offering JPEG and PDF, 100 to 600 dpi and colour, grey and black-and-white.
type Caps struct {
	Duplex       bool     // an AdfDuplexInputCaps
	DuplexOption bool     // duplex only as AdfOption (older devices)
	Formats      []string // default image/jpeg and application/pdf
	Resolutions  []int    // discrete; default 100, 200, 300, 600
	Modes        []string // default BlackAndWhite1, Grayscale8, RGB24
}

// XML renders the ScannerCapabilities document of a "Tresen Testscanner 3000", eSCL 2.63,
// with the prefixes devices commonly use.
func (c Caps) XML() string {
	if c.Formats == nil {
		c.Formats = []string{"image/jpeg", "application/pdf"}
	}
	if c.Resolutions == nil {
		c.Resolutions = []int{100, 200, 300, 600}
	}
	if c.Modes == nil {
		c.Modes = []string{"BlackAndWhite1", "Grayscale8", "RGB24"}
	}
	var in strings.Builder
	in.WriteString(`<scan:MinWidth>16</scan:MinWidth><scan:MaxWidth>2550</scan:MaxWidth>
      <scan:MinHeight>16</scan:MinHeight><scan:MaxHeight>3508</scan:MaxHeight>
      <scan:MaxScanRegions>1</scan:MaxScanRegions>
      <scan:SettingProfiles><scan:SettingProfile><scan:ColorModes>`)
	for _, m := range c.Modes {
		fmt.Fprintf(&in, "<scan:ColorMode>%s</scan:ColorMode>", m)
	}
	in.WriteString("</scan:ColorModes><scan:DocumentFormats>")
	for _, f := range c.Formats {
		fmt.Fprintf(&in, "<pwg:DocumentFormat>%s</pwg:DocumentFormat><scan:DocumentFormatExt>%[1]s</scan:DocumentFormatExt>", f)
	}
	in.WriteString("</scan:DocumentFormats><scan:SupportedResolutions><scan:DiscreteResolutions>")
	for _, r := range c.Resolutions {
		fmt.Fprintf(&in, "<scan:DiscreteResolution><scan:XResolution>%d</scan:XResolution><scan:YResolution>%[1]d</scan:YResolution></scan:DiscreteResolution>", r)
	}
	in.WriteString(`</scan:DiscreteResolutions></scan:SupportedResolutions>
      <scan:ColorSpaces><scan:ColorSpace>RGB</scan:ColorSpace></scan:ColorSpaces>
      </scan:SettingProfile></scan:SettingProfiles>
      <scan:SupportedIntents><scan:Intent>Document</scan:Intent><scan:Intent>TextAndGraphic</scan:Intent><scan:Intent>Photo</scan:Intent><scan:Intent>Preview</scan:Intent></scan:SupportedIntents>
      <scan:MaxOpticalXResolution>600</scan:MaxOpticalXResolution><scan:MaxOpticalYResolution>600</scan:MaxOpticalYResolution>`)
	adf := "<scan:AdfSimplexInputCaps>" + in.String() + "</scan:AdfSimplexInputCaps>"
	if c.Duplex {
		adf += "<scan:AdfDuplexInputCaps>" + in.String() + "</scan:AdfDuplexInputCaps>"
	}
	adf += "<scan:FeederCapacity>50</scan:FeederCapacity><scan:AdfOptions><scan:AdfOption>DetectPaperLoaded</scan:AdfOption>"
	if c.Duplex || c.DuplexOption {
		adf += "<scan:AdfOption>Duplex</scan:AdfOption>"
	}
	adf += "</scan:AdfOptions>"
	return `<?xml version="1.0" encoding="UTF-8"?>
<scan:ScannerCapabilities xmlns:pwg="` + nsPWG + `" xmlns:scan="` + nsScan + `">
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

// StatusXML renders a ScannerStatus document with the given pwg:State (e.g. Idle,
// Processing) and scan:AdfState (e.g. ScannerAdfLoaded, ScannerAdfEmpty, ScannerAdfJam).
func StatusXML(state, adf string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<scan:ScannerStatus xmlns:pwg="` + nsPWG + `" xmlns:scan="` + nsScan + `">
  <pwg:Version>2.63</pwg:Version>
  <pwg:State>` + state + `</pwg:State>
  <scan:AdfState>` + adf + `</scan:AdfState>
  <scan:Jobs></scan:Jobs>
</scan:ScannerStatus>
`
}

// Settings is a posted ScanSettings document as the fake scanner reads it. Every element
// is matched with the namespace the spec gives it, so that a client binding a prefix
// wrongly fails to decode rather than passing unnoticed.
type Settings struct {
	XMLName           xml.Name `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 ScanSettings"`
	Version           string   `xml:"http://www.pwg.org/schemas/2010/12/sm Version"`
	Intent            string   `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 Intent"`
	Regions           *Regions `xml:"http://www.pwg.org/schemas/2010/12/sm ScanRegions"`
	InputSource       string   `xml:"http://www.pwg.org/schemas/2010/12/sm InputSource"`
	Duplex            string   `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 Duplex"`
	ColorMode         string   `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 ColorMode"`
	XResolution       int      `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 XResolution"`
	YResolution       int      `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 YResolution"`
	DocumentFormat    string   `xml:"http://www.pwg.org/schemas/2010/12/sm DocumentFormat"`
	DocumentFormatExt string   `xml:"http://schemas.hp.com/imaging/escl/2011/05/03 DocumentFormatExt"`
}

// Regions is pwg:ScanRegions with its one pwg:ScanRegion.
type Regions struct {
	Region Region `xml:"http://www.pwg.org/schemas/2010/12/sm ScanRegion"`
}

// Region is the area to scan; Units is e.g. escl:ThreeHundredthsOfInches.
type Region struct {
	Units  string `xml:"http://www.pwg.org/schemas/2010/12/sm ContentRegionUnits"`
	Width  int    `xml:"http://www.pwg.org/schemas/2010/12/sm Width"`
	Height int    `xml:"http://www.pwg.org/schemas/2010/12/sm Height"`
}

// Scanner is a small eSCL scanner under /eSCL: capabilities, status, and one job at a
// time (JobID) that serves Docs in order, then 404; 503 while a page is "being
// scanned"; DELETE to cancel. Set the fields before Start and leave them alone after.
type Scanner struct {
	Caps        string   // the ScannerCapabilities document, e.g. Caps{Duplex: true}.XML()
	ADF         string   // scan:AdfState in ScannerStatus, e.g. ScannerAdfEmpty
	Docs        [][]byte // what the feeder yields, in order, one per NextDocument
	ContentType string   // of each document; empty sends an empty one, never a sniffed type
	Unready     int      // 503 answers before each document
	PostStatus  int      // answer POST ScanJobs with this status instead of 201 Created
	Hold        int      // block NextDocument for this document (1-based) until the request ends
	// Location, if set, rewrites the job's Location header (given as a path): a device
	// may name itself by another address, or send none.
	Location func(path string) string

	mu          sync.Mutex
	posted      []Settings
	deleted     []string
	served      int
	answered503 int
	fetches     int
}

// Start serves the scanner on a local port until the test ends; its eSCL root is the
// server's URL + "/eSCL". A ScanSettings document that does not decode fails tb.
func (s *Scanner) Start(tb testing.TB) *httptest.Server {
	tb.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /eSCL/ScannerCapabilities", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, s.Caps)
	})
	mux.HandleFunc("GET /eSCL/ScannerStatus", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, StatusXML("Idle", s.ADF))
	})
	mux.HandleFunc("POST /eSCL/ScanJobs", func(w http.ResponseWriter, r *http.Request) {
		var set Settings
		if err := xml.NewDecoder(r.Body).Decode(&set); err != nil {
			tb.Errorf("escltest: ScanSettings: %v", err)
			http.Error(w, "bad settings", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.posted = append(s.posted, set)
		s.mu.Unlock()
		if s.PostStatus != 0 {
			w.WriteHeader(s.PostStatus)
			return
		}
		loc := "/eSCL/ScanJobs/" + JobID
		if s.Location != nil {
			loc = s.Location(loc)
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /eSCL/ScanJobs/{id}/NextDocument", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != JobID {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.fetches++
		if s.served >= len(s.Docs) {
			s.mu.Unlock()
			http.NotFound(w, r)
			return
		}
		if s.answered503 < s.Unready*(s.served+1) {
			s.answered503++
			s.mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if s.Hold == s.served+1 {
			s.mu.Unlock()
			<-r.Context().Done()
			return
		}
		doc := s.Docs[s.served]
		s.served++
		s.mu.Unlock()
		w.Header().Set("Content-Type", s.ContentType) // even empty: net/http must not sniff one
		w.Write(doc)
	})
	mux.HandleFunc("DELETE /eSCL/ScanJobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.deleted = append(s.deleted, r.PathValue("id"))
		s.mu.Unlock()
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

// Posted returns the ScanSettings of every POST ScanJobs so far, in order.
func (s *Scanner) Posted() []Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Settings(nil), s.posted...)
}

// Deleted returns the ids of the jobs DELETEd so far, in order.
func (s *Scanner) Deleted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.deleted...)
}

// Fetches counts the NextDocument requests for the job, whatever their answer.
func (s *Scanner) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// Answered503 counts the NextDocument requests answered 503 (page not ready yet).
func (s *Scanner) Answered503() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answered503
}
