// Package scanner takes scanned prescriptions from scanners: directly attached ones through
// SANE's scanimage and network ones through eSCL (AirScan). Each source hands the files the
// device delivers, one page (or one document) at a time, to a callback; decoding and
// storing them is the caller's.
package scanner

import (
	"github.com/tresen/tresen/internal/errs"
)

// Settings say how to scan. The zero value is what prescriptions need: 300 dpi, both sides
// (the back carries the patient's signature and the pharmacy's notes), in colour (the form
// is printed in red, which the OCR drops by colour).
//
// The switches name the exceptions (Simplex, Gray) rather than the defaults, so that a
// forgotten field cannot silently scan grey one-sided pages.
type Settings struct {
	DPI     int  // default 300
	Simplex bool // front sides only
	Gray    bool // greyscale instead of colour
}

func (s Settings) dpi() int {
	if s.DPI <= 0 {
		return 300
	}
	return s.DPI
}

// File is one scanned page (or one multi-page document) as the device delivered it: PNG
// from SANE, JPEG or PDF from eSCL. Name is made up here (page-0001.png), never the
// scanner's, and carries no personal data.
type File struct {
	Name string
	Data []byte
}

// The errors a scan ends with. Their messages are for the user (German); the wrapping
// error text adds the technical detail in English for the log. None carries image data.
var (
	ErrNotFound    = errs.E(errs.NotFound, "Scanner nicht gefunden")
	ErrFeederEmpty = errs.E(errs.Conflict, "Papiereinzug leer: bitte Rezepte einlegen")
	ErrJam         = errs.E(errs.Conflict, "Papierstau im Scanner: bitte das Papier entnehmen und die restlichen Rezepte erneut scannen")
	ErrCoverOpen   = errs.E(errs.Conflict, "Scannerdeckel offen")
	ErrBusy        = errs.E(errs.Conflict, "Der Scanner ist beschäftigt: bitte gleich noch einmal versuchen")
	ErrNoDuplex    = errs.E(errs.Invalid, "Der Scanner kann nicht beidseitig scannen: bitte einseitig scannen")
	ErrNoColor     = errs.E(errs.Invalid, "Der Scanner kann nicht farbig scannen")
	ErrResolution  = errs.E(errs.Invalid, "Der Scanner bietet diese Auflösung nicht an")
	ErrAccess      = errs.E(errs.Forbidden, "Kein Zugriff auf den Scanner (Berechtigung)")
	ErrDevice      = errs.E(errs.Conflict, "Der Scanner meldet einen Fehler: bitte Scanner und Verbindung prüfen")
	ErrProtocol    = errs.E(errs.Conflict, "Der Scanner antwortet unverständlich")
	ErrNoPages     = errs.E(errs.Conflict, "Der Scanner hat keine Seite geliefert")
	ErrTooLarge    = errs.E(errs.Conflict, "Der Scanner hat eine zu große Datei geliefert")
	ErrNoScanimage = errs.E(errs.Internal, "scanimage fehlt (Debian-Paket sane-utils)")
)
