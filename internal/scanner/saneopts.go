package scanner

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// saneOption is one device option as scanimage --help describes it.
type saneOption struct {
	values  []string // the allowed values of a list constraint, units left on
	lo, hi  float64  // a range constraint
	isRange bool
}

var stepsRE = regexp.MustCompile(`\s*\(in steps of [^)]*\)$`)

// parseHelp reads the device's options from scanimage --help, e.g.
//
//	Options specific to device `fujitsu:fi-7160:12345':
//	  Standard:
//	    --source Flatbed|ADF Front|ADF Back|ADF Duplex [ADF Front]
//	    --mode Lineart|Halftone|Gray|Color [Lineart]
//	    --resolution 50..600dpi (in steps of 1) [300]
//	    --duplex[=(yes|no)] [no]
//
// It reports false when the output has no device section: scanimage could not open the
// device.
func parseHelp(help string) (map[string]saneOption, bool) {
	_, section, ok := strings.Cut(help, "Options specific to device")
	if !ok {
		return nil, false
	}
	opts := map[string]saneOption{}
	for line := range strings.SplitSeq(section, "\n") {
		// Options are indented four spaces, their descriptions eight.
		if !strings.HasPrefix(line, "    -") {
			continue
		}
		line = strings.TrimSpace(line)
		end := strings.IndexAny(line, " [")
		if end < 0 {
			end = len(line)
		}
		name := strings.TrimLeft(line[:end], "-")
		rest := line[end:]
		if strings.HasPrefix(rest, "[=(") { // a bool: --duplex[=(yes|no)]
			vals, _, _ := strings.Cut(strings.TrimPrefix(rest, "[=("), ")")
			opts[name] = saneOption{values: strings.Split(vals, "|")}
			continue
		}
		rest = strings.TrimSpace(rest)
		// The current value and flags follow in brackets: [300], [inactive], [advanced].
		for range 3 {
			j := openingBracket(rest)
			if j <= 0 || rest[j-1] != ' ' {
				break
			}
			rest = strings.TrimSpace(rest[:j])
		}
		rest = stepsRE.ReplaceAllString(rest, "")
		var o saneOption
		if lo, hi, ok := strings.Cut(rest, ".."); ok && !strings.Contains(rest, "|") && !strings.Contains(rest, ",") {
			l, err1 := strconv.ParseFloat(strings.TrimSpace(lo), 64)
			h, err2 := strconv.ParseFloat(strings.TrimRight(strings.TrimSpace(hi), "abcdefghijklmnopqrstuvwxyz%"), 64)
			if err1 == nil && err2 == nil {
				o = saneOption{lo: l, hi: h, isRange: true}
			}
		} else if rest != "" && !strings.HasPrefix(rest, "<") {
			o.values = strings.Split(rest, "|")
		}
		opts[name] = o
	}
	return opts, true
}

// openingBracket finds the '[' that matches a closing ']' at the end of s, or -1.
func openingBracket(s string) int {
	if !strings.HasSuffix(s, "]") {
		return -1
	}
	depth := 0
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ']':
			depth++
		case '[':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func anyFold(s string, subs ...string) bool {
	s = strings.ToLower(s)
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// Backends name their sources differently: "ADF Duplex" (fujitsu, canon_dr, epjitsu,
// escl, airscan, pixma), "Automatic Document Feeder(left aligned,Duplex)" (brother),
// "Automatic Document Feeder" (test), "ADF" with a separate --adf-mode Duplex (epson2) or
// --duplex=yes (kvs1025, kodak).
func isDuplexSource(v string) bool { return anyFold(v, "duplex") }
func isFeederSource(v string) bool {
	return anyFold(v, "adf", "feeder", "automatic document") && !anyFold(v, "back", "duplex")
}

// chooseOptions picks the device options for set from what the device offers, or says
// why the device cannot scan so. A device without a feeder scans one page (flatbed).
func chooseOptions(opts map[string]saneOption, set Settings) ([]string, error) {
	var args []string
	dpi := set.dpi()
	if o, ok := opts["resolution"]; ok {
		if !o.offers(dpi) {
			return nil, fmt.Errorf("%d dpi not offered (%s): %w", dpi, o, ErrResolution)
		}
		args = append(args, fmt.Sprintf("--resolution=%d", dpi))
	}
	if o, ok := opts["mode"]; ok && len(o.values) > 0 {
		mode, ok := o.pick("color", "colour")
		if set.Gray {
			mode, ok = o.pick("gray", "grey")
		}
		if !ok {
			if !set.Gray {
				return nil, fmt.Errorf("modes %s: %w", o, ErrNoColor)
			}
			mode = o.values[0]
		}
		args = append(args, "--mode="+mode)
	}

	source := opts["source"]
	feeder, hasFeeder := source.find(isFeederSource)
	adfMode, duplexFlag := opts["adf-mode"], opts["duplex"]
	if !set.Simplex {
		if v, ok := source.find(isDuplexSource); ok {
			return append(args, "--source="+v), nil
		}
		if hasFeeder || len(source.values) == 0 {
			if hasFeeder {
				args = append(args, "--source="+feeder)
			}
			if slices.Contains(adfMode.values, "Duplex") {
				return append(args, "--adf-mode=Duplex"), nil
			}
			if slices.Contains(duplexFlag.values, "yes") {
				return append(args, "--duplex=yes"), nil
			}
		}
		return nil, fmt.Errorf("sources %s: %w", source, ErrNoDuplex)
	}
	if hasFeeder {
		args = append(args, "--source="+feeder)
		if slices.Contains(adfMode.values, "Simplex") {
			args = append(args, "--adf-mode=Simplex")
		}
		if slices.Contains(duplexFlag.values, "no") {
			args = append(args, "--duplex=no")
		}
		return args, nil
	}
	// A flatbed in batch mode would scan the same glass for ever.
	if v, ok := source.find(func(v string) bool { return anyFold(v, "flatbed", "platen") }); ok {
		args = append(args, "--source="+v)
	}
	return append(args, "--batch-count=1"), nil
}

// offers reports whether a numeric option allows v (units such as "dpi" ignored).
func (o saneOption) offers(v int) bool {
	if o.isRange {
		return o.lo <= float64(v) && float64(v) <= o.hi
	}
	if len(o.values) == 0 {
		return true // unconstrained
	}
	for _, s := range o.values {
		f, err := strconv.ParseFloat(strings.TrimRight(strings.TrimSpace(s), "abcdefghijklmnopqrstuvwxyz%"), 64)
		if err == nil && f == float64(v) {
			return true
		}
	}
	return false
}

// pick returns the value equal to the first word (ignoring case), else the first that
// contains one of the words.
func (o saneOption) pick(words ...string) (string, bool) {
	for _, v := range o.values {
		if strings.EqualFold(v, words[0]) {
			return v, true
		}
	}
	return o.find(func(v string) bool { return anyFold(v, words...) })
}

func (o saneOption) find(match func(string) bool) (string, bool) {
	for _, v := range o.values {
		if match(v) {
			return v, true
		}
	}
	return "", false
}

func (o saneOption) String() string {
	if o.isRange {
		return fmt.Sprintf("%g..%g", o.lo, o.hi)
	}
	if len(o.values) == 0 {
		return "none"
	}
	return strings.Join(o.values, "|")
}
