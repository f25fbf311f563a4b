// Package muster16 knows the paper GKV prescription (Muster 16, "Arzneiverordnungsblatt")
// as OCR reads it: where each field is printed, what it may contain, how its printed form
// becomes the value `tresen rx ocr` reports, and how a misread character in a number with a
// check digit is corrected — only when exactly one candidate passes the check. Positions
// and formats follow ../shared/spec/muster16.md; millimetres from the form's top-left
// corner.
package muster16

// Size of the form: 148 × 105 mm (A6 landscape).
const (
	WidthMM  = 148.0
	HeightMM = 105.0
)

// Box is a rectangle on the form in millimetres: x to the right, y downwards.
type Box struct{ X, Y, W, H float64 }

// Kind is what a field holds, which decides how it is read.
type Kind int

const (
	Text         Kind = iota // printed text, whitespace collapsed
	Digits                   // a number of fixed length, read with a digits-only character set
	KVNR                     // a capital letter and nine digits
	Date                     // TT.MM.JJ, reported as YYYY-MM-DD
	Cross                    // a box marked with an X
	Digit                    // a box marked with its pre-printed digit (6, 7, 8, 9) in black
	Amount                   // euros, printed in cents ("1234") or with a comma ("12,34")
	Status                   // seven digits (Versichertenart, Personengruppe, DMP, Rechtsgrundlage)
	Factor                   // an integer as printed
	DispenseDate             // TTMMJJ in six cells, or TT.MM.JJ
)

// Field is one value of the form.
type Field struct {
	Key string
	// Boxes are where the value is printed; more than one when it spans lines (the
	// patient's name and address), read in order and joined with ", ".
	Boxes []Box
	Kind  Kind
	// Len is the number of characters of a Digits field.
	Len int
	// Mark is the digit of a Digit box.
	Mark rune
	// By is who prints the value.
	By Printer
	// Pitch is the width of a character cell (mm) where the print is fixed-pitch: Courier
	// at 10 cpi in the Personalienfeld (spec §3.1, official); 0 where it may be anything.
	Pitch float64
}

// cpi10 is the pitch of 10 characters per inch.
const cpi10 = 2.54

// Printer is who prints a field: the practice software (PVS) or the pharmacy. Each prints
// in its own pass through its own printer, so each print lies off the form by its own
// offset, often 1–2 mm (spec §1).
type Printer int

const (
	Practice Printer = iota
	Pharmacy
)

// Line is a line of print that always begins at its first position, so that where it
// begins shows how far the printer's print lies off the form.
type Line struct {
	By Printer
	// X is where the line's first character cell begins, Baseline its baseline (mm).
	X, Baseline float64
}

// Lines are the lines that begin at a fixed place when printed: the Personalienfeld's
// Zeilen 1–7 at position 1 (spec §3.1: x = 12.6), the pharmacy's IK and its Taxzeilen,
// whose PZN begins in the first cell (spec §3.4, approx).
var Lines = []Line{
	{Practice, 12.6, 13.0}, {Practice, 12.6, 20.7}, {Practice, 12.6, 24.95}, {Practice, 12.6, 29.2},
	{Practice, 12.6, 33.4}, {Practice, 12.6, 41.5}, {Practice, 12.6, 50.0},
	{Pharmacy, 120.6, 13.5}, {Pharmacy, 91.4, 33.6}, {Pharmacy, 91.4, 41.7}, {Pharmacy, 91.4, 50.2},
}

// Fields are the form's values in the order of the spec (§2), each key once.
var Fields = []Field{
	{Key: "payer_name", Boxes: []Box{{12.1, 9.8, 62.0, 4.4}}, Kind: Text, Pitch: cpi10},
	{Key: "payer_ik", Boxes: []Box{{12.1, 38.3, 23.9, 4.4}}, Kind: Digits, Len: 9, Pitch: cpi10},
	{Key: "patient_name", Boxes: []Box{{12.1, 17.5, 77.2, 4.4}, {12.1, 21.75, 54.3, 4.4}}, Kind: Text, Pitch: cpi10},
	{Key: "patient_address", Boxes: []Box{{12.1, 26.0, 77.2, 4.4}, {12.1, 30.2, 62.0, 4.4}}, Kind: Text, Pitch: cpi10},
	{Key: "birth_date", Boxes: []Box{{68.0, 21.75, 21.3, 4.4}}, Kind: Date, Pitch: cpi10},
	{Key: "kvnr", Boxes: []Box{{37.5, 38.3, 31.5, 4.4}}, Kind: KVNR, Pitch: cpi10},
	{Key: "status", Boxes: []Box{{70.5, 38.3, 18.8, 4.4}}, Kind: Status, Pitch: cpi10},
	{Key: "bsnr", Boxes: []Box{{12.1, 46.8, 23.9, 4.4}}, Kind: Digits, Len: 9, Pitch: cpi10},
	{Key: "lanr", Boxes: []Box{{37.5, 46.8, 23.9, 4.4}}, Kind: Digits, Len: 9, Pitch: cpi10},
	{Key: "date", Boxes: []Box{{65.4, 46.8, 21.3, 4.4}}, Kind: Date, Pitch: cpi10},
	{Key: "gebuehr_frei", Boxes: []Box{{3.02, 8.57, 4.96, 4.96}}, Kind: Cross},
	{Key: "geb_pfl", Boxes: []Box{{3.02, 14.95, 4.96, 4.96}}, Kind: Cross},
	{Key: "noctu", Boxes: []Box{{3.02, 21.33, 4.96, 4.96}}, Kind: Cross},
	{Key: "sonstige", Boxes: []Box{{3.02, 29.82, 4.96, 4.96}}, Kind: Cross},
	{Key: "unfall", Boxes: []Box{{3.02, 38.33, 4.96, 4.96}}, Kind: Cross},
	{Key: "arbeitsunfall", Boxes: []Box{{3.02, 46.82, 4.96, 4.96}}, Kind: Cross},
	{Key: "bvg", Boxes: []Box{{91.07, 9.07, 4.93, 5.85}}, Kind: Digit, Mark: '6'},
	{Key: "hilfsmittel", Boxes: []Box{{96.0, 9.07, 5.0, 5.85}}, Kind: Digit, Mark: '7'},
	{Key: "impfstoff", Boxes: []Box{{101.0, 9.07, 5.0, 5.85}}, Kind: Digit, Mark: '8'},
	{Key: "sprechstundenbedarf", Boxes: []Box{{106.0, 9.07, 4.92, 5.85}}, Kind: Digit, Mark: '9'},
	{Key: "begruendungspflicht", Boxes: []Box{{113.08, 9.07, 4.85, 5.85}}, Kind: Cross},
	{Key: "aut_idem_1", Boxes: []Box{{3.02, 59.57, 4.96, 4.96}}, Kind: Cross},
	{Key: "aut_idem_2", Boxes: []Box{{3.02, 68.07, 4.96, 4.96}}, Kind: Cross},
	{Key: "aut_idem_3", Boxes: []Box{{3.02, 76.58, 4.96, 4.96}}, Kind: Cross},
	{Key: "rx_line_1", Boxes: []Box{{9.5, 59.0, 91.0, 6.5}}, Kind: Text},
	{Key: "rx_line_2", Boxes: []Box{{9.5, 67.5, 91.0, 6.5}}, Kind: Text},
	{Key: "rx_line_3", Boxes: []Box{{9.5, 76.0, 91.0, 6.5}}, Kind: Text},
	{Key: "pharmacy_ik", Boxes: []Box{{120.07, 9.07, 23.85, 5.85}}, Kind: Digits, Len: 9, By: Pharmacy},
	{Key: "total_gross", Boxes: []Box{{110.27, 17.69, 33.54, 7.62}}, Kind: Amount, By: Pharmacy},
	{Key: "copayment", Boxes: []Box{{91.19, 17.69, 19.08, 7.62}}, Kind: Amount, By: Pharmacy},
	{Key: "pzn_1", Boxes: []Box{{91.07, 28.32, 31.93, 6.35}}, Kind: Digits, Len: 8, By: Pharmacy},
	{Key: "factor_1", Boxes: []Box{{123.0, 28.32, 6.0, 6.35}}, Kind: Factor, By: Pharmacy},
	{Key: "price_1", Boxes: []Box{{129.0, 28.32, 14.92, 6.35}}, Kind: Amount, By: Pharmacy},
	{Key: "pzn_2", Boxes: []Box{{91.07, 35.33, 31.93, 7.85}}, Kind: Digits, Len: 8, By: Pharmacy},
	{Key: "factor_2", Boxes: []Box{{123.0, 35.33, 6.0, 7.85}}, Kind: Factor, By: Pharmacy},
	{Key: "price_2", Boxes: []Box{{129.0, 35.33, 14.92, 7.85}}, Kind: Amount, By: Pharmacy},
	{Key: "pzn_3", Boxes: []Box{{91.07, 43.82, 31.93, 8.11}}, Kind: Digits, Len: 8, By: Pharmacy},
	{Key: "factor_3", Boxes: []Box{{123.0, 43.82, 6.0, 8.11}}, Kind: Factor, By: Pharmacy},
	{Key: "price_3", Boxes: []Box{{129.0, 43.82, 14.92, 8.11}}, Kind: Amount, By: Pharmacy},
	{Key: "dispense_date", Boxes: []Box{{30.02, 81.92, 26.85, 6.11}}, Kind: DispenseDate, By: Pharmacy},
}

// FieldByKey returns the field with key.
func FieldByKey(key string) (Field, bool) {
	for _, f := range Fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// Charset is the characters OCR may return for a field of this kind (Tesseract's
// tessedit_char_whitelist); "" allows all.
func (k Kind) Charset() string {
	switch k {
	case Digits, Status, Factor:
		return "0123456789"
	case KVNR:
		return "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	case Date, DispenseDate:
		return "0123456789."
	case Amount:
		return "0123456789,."
	case Digit:
		return "6789"
	case Cross:
		return "Xx"
	}
	return ""
}
