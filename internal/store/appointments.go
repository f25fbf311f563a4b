package store

import (
	"cmp"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/audit"
	"github.com/tresen/tresen/internal/errs"
)

// settingSchedule names the practice calendar's setup among a tenant's settings.
const settingSchedule = "schedule"

// Schedule returns a practice's calendar setup; errs.NotFound before it was set.
func (db *DB) Schedule(ctx context.Context, tenantID string) (s appointment.Schedule, err error) {
	defer errs.Wrap(&err, "Schedule")
	err = db.View(ctx, tenantID, func(tx *Tx) error {
		return tx.setting(tenantID, settingSchedule, &s)
	})
	return s, err
}

// SetSchedule stores a practice's calendar setup once it validates; audited.
func (db *DB) SetSchedule(ctx context.Context, tenantID string, s appointment.Schedule) (err error) {
	defer errs.Wrap(&err, "SetSchedule")
	if err := s.Validate(); err != nil {
		return err
	}
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		if _, err := tx.findTenant(tenantID); err != nil {
			return err
		}
		if err := tx.setSetting(tenantID, settingSchedule, s); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Update, "setting", settingSchedule, "")
	})
}

// unit is the length of one appointment_units row.
const unit = 5 * time.Minute

// units are the five-minute steps [start, end) covers.
func units(start, end time.Time) []int64 {
	first := start.Unix() / int64(unit/time.Second)
	last := (end.Unix() + int64(unit/time.Second) - 1) / int64(unit/time.Second)
	out := make([]int64, 0, last-first)
	for u := first; u < last; u++ {
		out = append(out, u)
	}
	return out
}

// maxAppointment bounds an appointment's length.
const maxAppointment = 12 * time.Hour

// appointmentData is what of an appointment is stored encrypted.
type appointmentData struct {
	PersonID string              `json:"person_id,omitempty"`
	Patient  appointment.Patient `json:"patient"`
	Note     string              `json:"note,omitempty"`
	Source   string              `json:"source"`
}

// BookAppointment books an appointment: it takes its time of each of its resources, or
// fails with errs.Conflict when any of it is taken, also by a booking on another node at
// the same moment. The booking is audited.
func (db *DB) BookAppointment(ctx context.Context, tenantID string, a appointment.Appointment) (_ appointment.Appointment, err error) {
	defer errs.Wrap(&err, "BookAppointment")
	if err := checkAppointment(a); err != nil {
		return a, err
	}
	a.ID, a.Status = newID(), appointment.Booked
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		if err := tx.insertAppointment(tenantID, a); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Create, "appointment", a.ID, "source="+a.Source)
	})
	return a, err
}

func checkAppointment(a appointment.Appointment) error {
	switch {
	case a.Doctor == "" || a.Type == "":
		return errs.Field("doctor", "Termin ohne Ärztin oder Arzt oder ohne Terminart")
	case !a.End.After(a.Start) || a.End.Sub(a.Start) > maxAppointment:
		return errs.Field("end", "das Ende muss nach dem Beginn liegen und höchstens 12 Stunden danach")
	}
	for _, r := range a.Takes() {
		if r == "" || strings.Contains(r, ",") {
			return errs.Field("resources", "ungültige Ressource")
		}
	}
	return nil
}

// sealAppointment returns what of a is kept encrypted: the patient, note and source.
func (tx *Tx) sealAppointment(tenantID string, a appointment.Appointment) ([]byte, error) {
	c, err := tx.cipher(tenantID)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(appointmentData{PersonID: a.PersonID, Patient: a.Patient, Note: a.Note, Source: a.Source})
	if err != nil {
		return nil, err
	}
	return c.Seal(data, []byte("appointments.data|"+a.ID)), nil
}

func (tx *Tx) insertAppointment(tenantID string, a appointment.Appointment) error {
	sealed, err := tx.sealAppointment(tenantID, a)
	if err != nil {
		return err
	}
	if a.PersonID != "" {
		if _, err := tx.findPerson(tenantID, a.PersonID); err != nil {
			return err
		}
	}
	if _, err := tx.exec(`INSERT INTO appointments (id, tenant_id, type_id, resources, start_at, end_at, status, person_id, data_enc, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
		a.ID, tenantID, a.Type, strings.Join(a.Takes(), ","), ms(a.Start), ms(a.End), a.Status, nullable(a.PersonID),
		sealed, ms(tx.now)); err != nil {
		return err
	}
	return tx.takeUnits(tenantID, a)
}

// takeUnits claims an appointment's five-minute steps of each resource.
func (tx *Tx) takeUnits(tenantID string, a appointment.Appointment) error {
	for _, r := range a.Takes() {
		for _, u := range units(a.Start, a.End) {
			if _, err := tx.exec(`INSERT INTO appointment_units (tenant_id, resource, unit, appointment_id) VALUES ($1, $2, $3, $4)`,
				tenantID, r, u, a.ID); err != nil {
				if isUniqueViolation(err) {
					return errs.E(errs.Conflict, "Dieser Termin ist leider schon vergeben.")
				}
				return err
			}
		}
	}
	return nil
}

// CancelAppointment cancels an appointment and frees its time; audited.
func (db *DB) CancelAppointment(ctx context.Context, tenantID, id string) (err error) {
	defer errs.Wrap(&err, "CancelAppointment")
	return db.Update(ctx, tenantID, func(tx *Tx) error {
		a, err := tx.findAppointment(tenantID, id)
		if err != nil {
			return err
		}
		if a.Status == appointment.Cancelled {
			return errs.E(errs.Conflict, "Der Termin ist bereits abgesagt.")
		}
		if _, err := tx.exec(`UPDATE appointments SET status = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4`,
			appointment.Cancelled, ms(tx.now), tenantID, id); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM appointment_units WHERE tenant_id = $1 AND appointment_id = $2`, tenantID, id); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Update, "appointment", id, "cancelled")
	})
}

// MoveAppointment moves an appointment to a new start (and, with resources, to other
// doctors or rooms) in one transaction: either it has its new time or still its old one.
func (db *DB) MoveAppointment(ctx context.Context, tenantID, id string, start time.Time, doctor string) (a appointment.Appointment, err error) {
	defer errs.Wrap(&err, "MoveAppointment")
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		if a, err = tx.findAppointment(tenantID, id); err != nil {
			return err
		}
		if a.Status != appointment.Booked {
			return errs.E(errs.Conflict, "Ein abgesagter Termin lässt sich nicht verschieben.")
		}
		length := a.End.Sub(a.Start)
		a.Start, a.End = start, start.Add(length)
		if doctor != "" {
			a.Doctor = doctor
		}
		if err := checkAppointment(a); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM appointment_units WHERE tenant_id = $1 AND appointment_id = $2`, tenantID, id); err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE appointments SET resources = $1, start_at = $2, end_at = $3, updated_at = $4 WHERE tenant_id = $5 AND id = $6`,
			strings.Join(a.Takes(), ","), ms(a.Start), ms(a.End), ms(tx.now), tenantID, id); err != nil {
			return err
		}
		if err := tx.takeUnits(tenantID, a); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Update, "appointment", id, "moved")
	})
	return a, err
}

// SetAppointmentNotify records the channel a patient agreed to get confirmations, changes
// and reminders of a booked appointment on (appointment.NotifyEmail to email,
// appointment.NotifySMS to phone in E.164), or "" when they withdrew, and returns the
// appointment as it now is. The consent is stored before any message goes out; the
// change is audited with the channel only.
func (db *DB) SetAppointmentNotify(ctx context.Context, tenantID, id, channel, address string) (a appointment.Appointment, err error) {
	defer errs.Wrap(&err, "SetAppointmentNotify")
	switch {
	case channel == appointment.NotifyEmail && address == "":
		return a, errs.Field("email", "Für Nachrichten per E-Mail fehlt die E-Mail-Adresse.")
	case channel == appointment.NotifySMS && address == "":
		return a, errs.Field("phone", "Für Nachrichten per SMS fehlt die Handynummer.")
	case channel != "" && channel != appointment.NotifyEmail && channel != appointment.NotifySMS:
		return a, errs.Field("notify", "Unbekannter Weg für Nachrichten.")
	}
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		if a, err = tx.findAppointment(tenantID, id); err != nil {
			return err
		}
		if a.Status != appointment.Booked {
			return errs.E(errs.Conflict, "Der Termin ist abgesagt.")
		}
		a.Patient.Notify = channel
		switch channel {
		case appointment.NotifyEmail:
			a.Patient.Email = address
		case appointment.NotifySMS:
			a.Patient.Phone = address
		}
		sealed, err := tx.sealAppointment(tenantID, a)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`UPDATE appointments SET data_enc = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4`,
			sealed, ms(tx.now), tenantID, id); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Update, "appointment", id, "notify="+cmp.Or(channel, "none"))
	})
	return a, err
}

const appointmentColumns = `id, type_id, resources, start_at, end_at, status, data_enc`

func (tx *Tx) scanAppointment(tenantID string, s scanner) (appointment.Appointment, error) {
	var a appointment.Appointment
	var resources string
	var start, end int64
	var data []byte
	if err := s.Scan(&a.ID, &a.Type, &resources, &start, &end, &a.Status, &data); err != nil {
		return a, notFound(err, "Termin")
	}
	takes := strings.Split(resources, ",")
	a.Doctor, a.Resources = takes[0], takes[1:]
	if len(a.Resources) == 0 {
		a.Resources = nil
	}
	a.Start, a.End = fromMS(start), fromMS(end)
	c, err := tx.cipher(tenantID)
	if err != nil {
		return a, err
	}
	plain, err := c.Open(data, []byte("appointments.data|"+a.ID))
	if err != nil {
		return a, err
	}
	var d appointmentData
	if err := json.Unmarshal(plain, &d); err != nil {
		return a, err
	}
	a.PersonID, a.Patient, a.Note, a.Source = d.PersonID, d.Patient, d.Note, d.Source
	return a, nil
}

func (tx *Tx) findAppointment(tenantID, id string) (appointment.Appointment, error) {
	return tx.scanAppointment(tenantID, tx.queryRow(`SELECT `+appointmentColumns+` FROM appointments WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// FindAppointmentByID returns an appointment; the read is audited.
func (db *DB) FindAppointmentByID(ctx context.Context, tenantID, id string) (a appointment.Appointment, err error) {
	err = db.Update(ctx, tenantID, func(tx *Tx) error {
		if a, err = tx.findAppointment(tenantID, id); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Read, "appointment", id, "")
	})
	return a, err
}

// ListAppointments returns the appointments that start in [from, to), cancelled ones
// included, by start; the read is audited with its count.
func (db *DB) ListAppointments(ctx context.Context, tenantID string, from, to time.Time) ([]appointment.Appointment, error) {
	var out []appointment.Appointment
	err := db.Update(ctx, tenantID, func(tx *Tx) error {
		rows, err := tx.query(`SELECT `+appointmentColumns+` FROM appointments WHERE tenant_id = $1 AND start_at >= $2 AND start_at < $3 ORDER BY start_at, id`,
			tenantID, ms(from), ms(to))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := tx.scanAppointment(tenantID, rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.appendAudit(tenantID, audit.Read, "appointments", "", "count="+itoa(len(out)))
	})
	return out, err
}

// BusyTimes returns when each resource is booked in [from, to): what slot search needs,
// without any patient data.
func (db *DB) BusyTimes(ctx context.Context, tenantID string, from, to time.Time) ([]appointment.Busy, error) {
	var out []appointment.Busy
	err := db.View(ctx, tenantID, func(tx *Tx) error {
		rows, err := tx.query(`SELECT resources, start_at, end_at FROM appointments WHERE tenant_id = $1 AND status = $2 AND end_at > $3 AND start_at < $4 ORDER BY start_at, id`,
			tenantID, appointment.Booked, ms(from), ms(to))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var resources string
			var start, end int64
			if err := rows.Scan(&resources, &start, &end); err != nil {
				return err
			}
			for _, r := range strings.Split(resources, ",") {
				out = append(out, appointment.Busy{Resource: r, Start: fromMS(start), End: fromMS(end)})
			}
		}
		return rows.Err()
	})
	return out, err
}
