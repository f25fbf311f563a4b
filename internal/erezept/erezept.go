// Package erezept reads E-Rezept files into the prescription model: the doctor's KBV
// prescription bundle (KBV_PR_ERP_Bundle), the pharmacy's DAV Abgabedaten (GKV and PKV)
// and gematik's MedicationDispense ($close input), in XML or JSON. Files for one
// prescription are matched by their Rezept-ID.
package erezept

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/errs"
	"github.com/tresen/tresen/internal/fhir"
	"github.com/tresen/tresen/internal/prescription"
)

// What a file is.
const (
	KindPrescription = "prescription" // KBV bundle
	KindDispense     = "dispense"     // Abgabedaten or MedicationDispense
	KindOther        = "other"        // a receipt or a billing bundle: read, not checked
)

// File is one file read.
type File struct {
	Name    string
	Kind    string
	Profile string // "https://fhir.kbv.de/StructureDefinition/KBV_PR_ERP_Bundle|1.4"
	// Supported is false for a profile, or a version of it, that the readers do not know;
	// what could be read is still there, and the checks report it.
	Supported      bool
	PrescriptionID string
	Prescription   *prescription.Prescription
	Dispense       *prescription.Dispense
}

// Systems and profiles.
const (
	sysPrescriptionID = "https://gematik.de/fhir/erp/NamingSystem/GEM_ERP_NS_PrescriptionId"
	sysPZN            = "http://fhir.de/CodeSystem/ifa/pzn"
	sysTA1            = "http://TA1.abda.de"
	sysIK             = "http://fhir.de/sid/arge-ik/iknr"
	sysKVNR           = "http://fhir.de/sid/gkv/kvid-10"
	sysKVNRPKV        = "http://fhir.de/sid/pkv/kvid-10"
	sysLANR           = "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR"
	sysZANR           = "http://fhir.de/sid/kzbv/zahnarztnummer"
	sysBSNR           = "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_BSNR"
	sysKZVAbrechnung  = "http://fhir.de/sid/kzbv/kzvabrechnungsnummer"
	sysASK            = "http://fhir.de/CodeSystem/ask"
	sysPruefnummer    = "https://fhir.kbv.de/NamingSystem/KBV_NS_FOR_Pruefnummer"

	profKBVBundle   = "https://fhir.kbv.de/StructureDefinition/KBV_PR_ERP_Bundle"
	profDAVBundle   = "http://fhir.abda.de/eRezeptAbgabedaten/StructureDefinition/DAV-PR-ERP-AbgabedatenBundle"
	profDAVPKV      = "http://fhir.abda.de/eRezeptAbgabedaten/StructureDefinition/DAV-PKV-PR-ERP-AbgabedatenBundle"
	profGEMClose    = "https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_PR_PAR_CloseOperation_Input"
	profGEMDispense = "https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_PR_MedicationDispense"
	profGEMBundle   = "https://gematik.de/fhir/erp/StructureDefinition/GEM_ERP_PR_Bundle"
	profTA7         = "https://fhir.gkvsv.de/StructureDefinition/GKVSV_PR_TA7_Rechnung_Bundle"
)

// versions are the profile versions the readers know. A file names a version as "1.4" or
// "1.4.2"; only the first two numbers count.
var versions = map[string][]string{
	profKBVBundle:   {"1.3", "1.4"},
	profDAVBundle:   {"1.5"},
	profDAVPKV:      {"1.4"},
	profGEMClose:    {"1.5", "1.6"},
	profGEMDispense: {"1.5", "1.6"},
	profGEMBundle:   {"1.5", "1.6"},
	profTA7:         {"1.5"},
}

func supported(url, version string) bool {
	major, minor, _ := strings.Cut(version, ".")
	minor, _, _ = strings.Cut(minor, ".")
	for _, v := range versions[url] {
		if v == major+"."+minor {
			return true
		}
	}
	return false
}

// Read reads one E-Rezept file. An error (errs.Invalid) means the file is unreadable:
// no FHIR, or not an E-Rezept document at all. A file of an unknown profile version is
// read as far as its structure allows and marked unsupported.
func Read(name string, data []byte) (File, error) {
	root, err := fhir.Parse(data)
	if err != nil {
		return File{}, err
	}
	url, version := root.Profile()
	f := File{Name: name, Profile: url + "|" + version, Supported: supported(url, version)}
	if url == "" {
		f.Profile = ""
	}
	switch root.Name {
	case "Bundle":
		b, err := fhir.NewBundle(root)
		if err != nil {
			return File{}, err
		}
		f.PrescriptionID = root.Identifier(sysPrescriptionID)
		switch {
		case url == profKBVBundle || b.First("MedicationRequest") != nil:
			f.Kind = KindPrescription
			f.Prescription = readKBV(b, f.Profile)
		case url == profDAVBundle || url == profDAVPKV || b.First("Invoice") != nil && b.First("MedicationDispense") != nil:
			f.Kind = KindDispense
			f.Dispense = readDAV(b, f.Profile)
			if f.PrescriptionID == "" {
				f.PrescriptionID = f.Dispense.PrescriptionID
			}
		case b.First("MedicationDispense") != nil:
			f.Kind = KindDispense
			f.Dispense = readGEMDispense(root, f.Profile)
			f.PrescriptionID = f.Dispense.PrescriptionID
		default:
			f.Kind = KindOther
		}
	case "Parameters", "MedicationDispense":
		f.Kind = KindDispense
		f.Dispense = readGEMDispense(root, f.Profile)
		f.PrescriptionID = f.Dispense.PrescriptionID
	default:
		return File{}, errs.E(errs.Invalid, "%s ist kein E-Rezept-Dokument (Bundle, Parameters oder MedicationDispense)", clip(root.Name))
	}
	return f, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// boolean reads a FHIR boolean; anything else is false.
func boolean(s string) bool { return s == "true" }

// cents reads a decimal euro amount ("27.69", "-1.77", "5") into cents, rounding half
// away from zero; ok is false for anything else.
func cents(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
		return 0, false
	}
	return int64(math.Round(f * 100)), true
}

// handedOver reads a FHIR date or dateTime; HasTime tells which. Dates are days in Berlin.
func handedOver(s string) (time.Time, bool, bool) {
	if s == "" {
		return time.Time{}, false, false
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, berlin.Location); err == nil {
		return d, false, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(berlin.Location), true, true
	}
	return time.Time{}, false, false
}
