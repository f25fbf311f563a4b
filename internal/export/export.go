// Package export writes the archives Tresen hands out: everything stored about one person
// (Art. 15 DSGVO: JSON for machines, a German summary for people) and a whole tenant's data
// at contract end. Archives are ZIP files.
package export

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/berlin"
	"github.com/tresen/tresen/internal/person"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
)

func germanTime(t time.Time) string { return t.In(berlin.Location).Format("02.01.2006 15:04") }

// kindLabel is the German name of a kind of record.
func kindLabel(k retention.Kind) string {
	if r, err := retention.Lookup(k); err == nil {
		return r.Label
	}
	return string(k)
}

// WritePerson writes the export of one person: daten.json, Zusammenfassung.txt and the
// files of their records under dateien/.
func WritePerson(w io.Writer, x store.PersonExport, now time.Time) error {
	z := zip.NewWriter(w)
	if err := writeJSON(z, "daten.json", x); err != nil {
		return err
	}
	f, err := z.Create("Zusammenfassung.txt")
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "Auskunft über gespeicherte Daten (Art. 15 DSGVO)\nErstellt am %s\n\n", germanTime(now))
	writePerson(f, x.Person)
	fmt.Fprintf(f, "\nGespeicherte Vorgänge: %d\n", len(x.Records))
	for _, r := range x.Records {
		fmt.Fprintf(f, "- %s vom %s (Nr. %s)", kindLabel(r.Kind), germanTime(r.CreatedAt), r.ID)
		if r.HasFile {
			fmt.Fprintf(f, ", Datei: dateien/%s", r.ID)
		}
		fmt.Fprintln(f)
	}
	if len(x.Appointments) > 0 {
		fmt.Fprintf(f, "\nTermine: %d\n", len(x.Appointments))
		for _, a := range x.Appointments {
			status := "gebucht"
			if a.Status == "cancelled" {
				status = "abgesagt"
			}
			fmt.Fprintf(f, "- %s (%s)\n", germanTime(a.Start), status)
		}
	}
	fmt.Fprintln(f, "\nDie vollständigen Inhalte stehen maschinenlesbar in daten.json.")
	ids := make([]string, 0, len(x.Files))
	for id := range x.Files {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := writeFile(z, "dateien/"+id, x.Files[id]); err != nil {
			return err
		}
	}
	return z.Close()
}

func writePerson(w io.Writer, p person.Person) {
	fmt.Fprintf(w, "Name: %s\n", p.Name)
	for _, f := range [][2]string{{"Geburtsdatum", p.BirthDate}, {"Versichertennummer", p.KVNR}, {"Telefon", p.Phone}, {"E-Mail", p.Email}, {"Anschrift", p.Address}} {
		if f[1] != "" {
			fmt.Fprintf(w, "%s: %s\n", f[0], f[1])
		}
	}
	fmt.Fprintf(w, "Gespeichert seit: %s\n", germanTime(p.CreatedAt))
}

func writeJSON(z *zip.Writer, name string, v any) error {
	f, err := z.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeFile(z *zip.Writer, name string, b []byte) error {
	f, err := z.Create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return err
}

// TenantArchive is a store.TenantSink that writes a tenant's export into a ZIP file:
// mandant.json, benutzer.jsonl, personen.jsonl, vorgaenge.jsonl with files under dateien/,
// protokoll.jsonl and a German Zusammenfassung.txt. Close finishes the archive.
type TenantArchive struct {
	z       *zip.Writer
	now     time.Time
	t       tenant.Tenant
	users   []user.User
	persons []person.Person
	records []store.Record
	entries []audit.Entry
}

var _ store.TenantSink = (*TenantArchive)(nil)

// NewTenantArchive starts a tenant archive on w.
func NewTenantArchive(w io.Writer, now time.Time) *TenantArchive {
	return &TenantArchive{z: zip.NewWriter(w), now: now}
}

func (a *TenantArchive) Tenant(t tenant.Tenant, p retention.Policy) error {
	a.t = t
	return writeJSON(a.z, "mandant.json", map[string]any{"tenant": t, "retention_days": p})
}

func (a *TenantArchive) User(u user.User) error { a.users = append(a.users, u); return nil }

func (a *TenantArchive) Person(p person.Person) error {
	a.persons = append(a.persons, p)
	return nil
}

func (a *TenantArchive) Record(r store.Record, file []byte) error {
	a.records = append(a.records, r)
	if file == nil {
		return nil
	}
	return writeFile(a.z, "dateien/"+r.ID, file)
}

func (a *TenantArchive) Audit(e audit.Entry) error { a.entries = append(a.entries, e); return nil }

// Close writes the collected lists and the summary and finishes the archive.
func (a *TenantArchive) Close() error {
	for name, list := range map[string]any{"benutzer.json": a.users, "personen.json": a.persons, "vorgaenge.json": a.records, "protokoll.json": a.entries} {
		if err := writeJSON(a.z, name, list); err != nil {
			return err
		}
	}
	f, err := a.z.Create("Zusammenfassung.txt")
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Datenexport des Mandanten %s (%s, %s)\nErstellt am %s\n\n", a.t.Name, a.t.Kind.Label(), a.t.Code, germanTime(a.now))
	fmt.Fprintf(&b, "Benutzer: %d\nPersonen: %d\nVorgänge: %d\nProtokolleinträge: %d\n", len(a.users), len(a.persons), len(a.records), len(a.entries))
	byKind := map[retention.Kind]int{}
	for _, r := range a.records {
		byKind[r.Kind]++
	}
	for _, rule := range retention.Rules(a.t.Kind) {
		fmt.Fprintf(&b, "  %s: %d\n", rule.Label, byKind[rule.Kind])
	}
	if _, err := io.WriteString(f, b.String()); err != nil {
		return err
	}
	return a.z.Close()
}
