package scanner

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The eSCL namespaces (Mopria/Apple eSCL, PWG Semantic Model).
const (
	nsScan = "http://schemas.hp.com/imaging/escl/2011/05/03"
	nsPWG  = "http://www.pwg.org/schemas/2010/12/sm"
)

// maxXMLBytes bounds a capabilities or status document; real ones are a few tens of KiB.
const maxXMLBytes = 1 << 20

// Capabilities is what an eSCL scanner says it can do (GET ScannerCapabilities).
type Capabilities struct {
	Version      string // the eSCL version the device speaks, echoed in scan settings
	MakeAndModel string
	Platen       *Input // the flatbed; nil when there is none
	Feeder       *Input // the document feeder, front sides; nil when there is none
	FeederDuplex *Input // the feeder scanning both sides; nil when it cannot
}

// Input is what one input source offers, merged over its setting profiles.
type Input struct {
	MaxWidth, MaxHeight int      // in 1/300 inch
	ColorModes          []string // e.g. RGB24, Grayscale8, BlackAndWhite1
	Formats             []string // MIME types, e.g. image/jpeg, application/pdf
	FormatsExt          bool     // the device takes scan:DocumentFormatExt (eSCL 2.1 and later)
	Resolutions         []int    // discrete resolutions in dpi, the same across and down
	MinDPI, MaxDPI      int      // a range of resolutions, where the device gives one
	Intents             []string // e.g. Document, TextAndGraphic, Photo
}

// Offers reports whether the input scans at dpi. An input that names no resolution at
// all is taken at its word for any.
func (in *Input) Offers(dpi int) bool {
	if len(in.Resolutions) == 0 && in.MaxDPI == 0 {
		return true
	}
	return slices.Contains(in.Resolutions, dpi) || (in.MinDPI <= dpi && dpi <= in.MaxDPI)
}

// Status is the scanner's state (GET ScannerStatus).
type Status struct {
	State string // pwg:State: Idle, Processing, Testing, Stopped, Down
	ADF   string // scan:AdfState, e.g. ScannerAdfLoaded, ScannerAdfEmpty, ScannerAdfJam
}

// The documents as encoding/xml reads them. Elements are matched by local name only:
// devices are not all careful with prefixes (some put AdfState in pwg:, Version in scan:).
type (
	xmlCapabilities struct {
		XMLName      xml.Name  `xml:"ScannerCapabilities"`
		Version      string    `xml:"Version"`
		MakeAndModel string    `xml:"MakeAndModel"`
		Platen       *xmlInput `xml:"Platen>PlatenInputCaps"`
		Adf          *struct {
			Simplex *xmlInput `xml:"AdfSimplexInputCaps"`
			Duplex  *xmlInput `xml:"AdfDuplexInputCaps"`
			Options []string  `xml:"AdfOptions>AdfOption"`
		} `xml:"Adf"`
	}
	xmlInput struct {
		MaxWidth  string       `xml:"MaxWidth"`
		MaxHeight string       `xml:"MaxHeight"`
		Profiles  []xmlProfile `xml:"SettingProfiles>SettingProfile"`
		Intents   []string     `xml:"SupportedIntents>Intent"`
	}
	xmlProfile struct {
		ColorModes  []string `xml:"ColorModes>ColorMode"`
		Formats     []string `xml:"DocumentFormats>DocumentFormat"`
		FormatsExt  []string `xml:"DocumentFormats>DocumentFormatExt"`
		Resolutions struct {
			Discrete []struct {
				X string `xml:"XResolution"`
				Y string `xml:"YResolution"`
			} `xml:"DiscreteResolutions>DiscreteResolution"`
			Ranges []struct {
				X xmlRange `xml:"XResolutionRange"`
				Y xmlRange `xml:"YResolutionRange"`
			} `xml:"ResolutionRange"`
		} `xml:"SupportedResolutions"`
	}
	xmlRange struct {
		Min string `xml:"Min"`
		Max string `xml:"Max"`
	}
	xmlStatus struct {
		XMLName  xml.Name `xml:"ScannerStatus"`
		State    string   `xml:"State"`
		AdfState string   `xml:"AdfState"`
	}
)

// decodeXML reads one bounded document. encoding/xml expands no entities beyond XML's
// five (no DTD), and the size bound keeps time and memory bounded on hostile input.
func decodeXML(data []byte, v any, what string) error {
	if len(data) > maxXMLBytes {
		return fmt.Errorf("%s over %d KiB: %w", what, maxXMLBytes>>10, ErrProtocol)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(v); err != nil {
		msg := err.Error()
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return fmt.Errorf("%s: %s: %w", what, strings.ToValidUTF8(msg, "?"), ErrProtocol)
	}
	return nil
}

func parseCapabilities(data []byte) (Capabilities, error) {
	var x xmlCapabilities
	if err := decodeXML(data, &x, "ScannerCapabilities"); err != nil {
		return Capabilities{}, err
	}
	c := Capabilities{Version: token(x.Version), MakeAndModel: text(x.MakeAndModel)}
	c.Platen = x.Platen.input()
	if x.Adf != nil {
		c.Feeder = x.Adf.Simplex.input()
		c.FeederDuplex = x.Adf.Duplex.input()
		// Older devices announce duplex as an ADF option and describe only one side.
		if c.FeederDuplex == nil && c.Feeder != nil && slices.Contains(trimAll(x.Adf.Options), "Duplex") {
			d := *c.Feeder
			c.FeederDuplex = &d
		}
	}
	return c, nil
}

func (x *xmlInput) input() *Input {
	if x == nil {
		return nil
	}
	in := &Input{MaxWidth: number(x.MaxWidth), MaxHeight: number(x.MaxHeight), Intents: set(x.Intents)}
	var modes, formats, ext []string
	for _, p := range x.Profiles {
		modes = append(modes, p.ColorModes...)
		formats = append(formats, p.Formats...)
		ext = append(ext, p.FormatsExt...)
		for _, r := range p.Resolutions.Discrete {
			dx, dy := number(r.X), number(r.Y)
			if dx > 0 && (dy == dx || dy == 0) {
				in.Resolutions = append(in.Resolutions, dx)
			}
		}
		for _, r := range p.Resolutions.Ranges {
			lo, hi := max(number(r.X.Min), number(r.Y.Min)), number(r.X.Max)
			if y := number(r.Y.Max); y > 0 {
				hi = min(hi, y)
			}
			if lo > 0 && lo <= hi {
				if in.MaxDPI == 0 {
					in.MinDPI, in.MaxDPI = lo, hi
				} else {
					in.MinDPI, in.MaxDPI = min(in.MinDPI, lo), max(in.MaxDPI, hi)
				}
			}
		}
	}
	in.ColorModes = set(modes)
	in.FormatsExt = len(set(ext)) > 0
	in.Formats = set(append(formats, ext...))
	slices.Sort(in.Resolutions)
	in.Resolutions = slices.Compact(in.Resolutions)
	return in
}

func parseStatus(data []byte) (Status, error) {
	var x xmlStatus
	if err := decodeXML(data, &x, "ScannerStatus"); err != nil {
		return Status{}, err
	}
	return Status{State: token(x.State), ADF: token(x.AdfState)}, nil
}

// maxList bounds the values kept of one list (modes, formats, intents).
const maxList = 32

// set trims, drops empty and repeated values and non-tokens, and keeps at most maxList.
func set(vs []string) []string {
	var out []string
	for _, v := range trimAll(vs) {
		if v = token(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
			if len(out) == maxList {
				break
			}
		}
	}
	return out
}

func trimAll(vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

// tokenRE is what eSCL's enumerations, versions and MIME types look like; anything else
// from a device is dropped rather than echoed back to it or into a message.
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+/_:-]{0,63}$`)

func token(s string) string {
	s = strings.TrimSpace(s)
	if !tokenRE.MatchString(s) {
		return ""
	}
	return s
}

// text is free text from a device, cut short and made printable.
func text(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "")), " ")
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100])
	}
	return s
}

// number reads a positive count (dpi, 1/300 inch) up to 1,000,000; anything else is 0.
func number(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 || n > 1_000_000 {
		return 0
	}
	return n
}

// scanSettings is the body of POST ScanJobs.
type scanSettings struct {
	Version       string
	Intent        string // empty: none sent
	Source        string // Platen or Feeder
	Duplex        bool
	ColorMode     string
	DPI           int
	Format        string
	FormatExt     bool
	Width, Height int // the scan region in 1/300 inch; 0: none sent
}

func (s scanSettings) xml() []byte {
	var b bytes.Buffer
	el := func(ns, name, value string) {
		fmt.Fprintf(&b, "  <%s:%s>", ns, name)
		_ = xml.EscapeText(&b, []byte(value))
		fmt.Fprintf(&b, "</%s:%s>\n", ns, name)
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<scan:ScanSettings xmlns:scan="` + nsScan + `" xmlns:pwg="` + nsPWG + `">` + "\n")
	el("pwg", "Version", s.Version)
	if s.Intent != "" {
		el("scan", "Intent", s.Intent)
	}
	if s.Width > 0 && s.Height > 0 {
		fmt.Fprintf(&b, "  <pwg:ScanRegions>\n    <pwg:ScanRegion>\n"+
			"      <pwg:ContentRegionUnits>escl:ThreeHundredthsOfInches</pwg:ContentRegionUnits>\n"+
			"      <pwg:XOffset>0</pwg:XOffset>\n      <pwg:YOffset>0</pwg:YOffset>\n"+
			"      <pwg:Width>%d</pwg:Width>\n      <pwg:Height>%d</pwg:Height>\n"+
			"    </pwg:ScanRegion>\n  </pwg:ScanRegions>\n", s.Width, s.Height)
	}
	el("pwg", "InputSource", s.Source)
	if s.Source == "Feeder" {
		el("scan", "Duplex", strconv.FormatBool(s.Duplex))
	}
	el("scan", "ColorMode", s.ColorMode)
	el("scan", "XResolution", strconv.Itoa(s.DPI))
	el("scan", "YResolution", strconv.Itoa(s.DPI))
	el("pwg", "DocumentFormat", s.Format)
	if s.FormatExt {
		el("scan", "DocumentFormatExt", s.Format)
	}
	b.WriteString("</scan:ScanSettings>\n")
	return b.Bytes()
}
