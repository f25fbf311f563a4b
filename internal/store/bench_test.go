package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tresen/tresen/internal/appointment"
	"github.com/tresen/tresen/internal/password"
	"github.com/tresen/tresen/internal/retention"
	"github.com/tresen/tresen/internal/store"
	"github.com/tresen/tresen/internal/store/storetest"
	"github.com/tresen/tresen/internal/tenant"
	"github.com/tresen/tresen/internal/user"
	"github.com/tresen/tresen/internal/vault"
)

// benchDoc is a typical request document, about 1 KiB of JSON.
var benchDoc = func() []byte {
	b, _ := json.Marshal(map[string]any{
		"anliegen": "prescription_refill", "kanal": "telefon",
		"text":    fmt.Sprintf("%0900d", 0),
		"patient": map[string]string{"name": "Erika Mustermann", "geburtsdatum": "1964-08-12"},
	})
	return b
}()

func perSecond(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit+"/s")
}

// BenchmarkLogin measures a login with the production argon2id parameters.
func BenchmarkLogin(b *testing.B) {
	for _, e := range storetest.Engines {
		b.Run(string(e), func(b *testing.B) {
			cfg := storetest.Config(b, e, storetest.Options{})
			cfg.Argon = password.Default
			db, err := store.Open(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			t := mustTenant(b, db, tenant.Practice, "031234567", "Hausarztpraxis Dr. Erika Schneider")
			mustUser(b, db, t.ID, "praxis.team", user.Staff)
			b.ResetTimer()
			for range b.N {
				if _, err := db.Authenticate(ctx, "praxis.team", goodPW); err != nil {
					b.Fatal(err)
				}
			}
			perSecond(b, "logins")
		})
	}
}

// benchStore opens a store on engine e with one practice and returns it with the
// practice's cipher.
func benchStore(b *testing.B, e store.Engine) (*store.DB, tenant.Tenant, *vault.Cipher) {
	b.Helper()
	db := storetest.Open(b, e, storetest.Options{})
	t := mustTenant(b, db, tenant.Practice, "031234567", "Hausarztpraxis Dr. Erika Schneider")
	c, err := db.Vault.Cipher(ctx, t.ID)
	if err != nil {
		b.Fatal(err)
	}
	return db, t, c
}

// BenchmarkRecordWrite compares writing a record: plain (the row without encryption or
// audit), sealed (the same row encrypted: the cost of encryption alone), and the full
// AddRecord (encrypted, with its audit entry, in one transaction).
func BenchmarkRecordWrite(b *testing.B) {
	for _, e := range storetest.Engines {
		b.Run(string(e), func(b *testing.B) {
			db, t, c := benchStore(b, e)
			n := 0 // row ids stay unique across the benchmark's repeated runs
			raw := func(seal bool) func(*testing.B) {
				return func(b *testing.B) {
					for range b.N {
						n++
						id := fmt.Sprintf("bench-%d", n)
						data := benchDoc
						if seal {
							data = c.Seal(benchDoc, []byte("records.data|"+id))
						}
						err := db.Update(ctx, t.ID, func(tx *store.Tx) error {
							_, err := tx.ExecContext(ctx, `INSERT INTO records (id, tenant_id, kind, created_at, data_enc) VALUES ($1, $2, 'request', 0, $3)`, id, t.ID, data)
							return err
						})
						if err != nil {
							b.Fatal(err)
						}
					}
					perSecond(b, "records")
				}
			}
			b.Run("plain", raw(false))
			b.Run("sealed", raw(true))
			b.Run("AddRecord", func(b *testing.B) {
				for range b.N {
					if _, err := db.AddRecord(ctx, t.ID, store.Record{Kind: retention.Request, Data: benchDoc}, nil); err != nil {
						b.Fatal(err)
					}
				}
				perSecond(b, "records")
			})
		})
	}
}

// BenchmarkRecordRead compares reading a record by id: plain, sealed (read and decrypt),
// and the full FindRecordByID (decrypt, with the audit entry every read of health data gets).
func BenchmarkRecordRead(b *testing.B) {
	for _, e := range storetest.Engines {
		b.Run(string(e), func(b *testing.B) {
			db, t, c := benchStore(b, e)
			r, err := db.AddRecord(ctx, t.ID, store.Record{Kind: retention.Request, Data: benchDoc}, nil)
			if err != nil {
				b.Fatal(err)
			}
			err = db.Update(ctx, t.ID, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO records (id, tenant_id, kind, created_at, data_enc) VALUES ('plain', $1, 'request', 0, $2)`, t.ID, benchDoc)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			read := func(id string, open bool) func(*testing.B) {
				return func(b *testing.B) {
					for range b.N {
						err := db.View(ctx, t.ID, func(tx *store.Tx) error {
							var data []byte
							if err := tx.QueryRowContext(ctx, `SELECT data_enc FROM records WHERE tenant_id = $1 AND id = $2`, t.ID, id).Scan(&data); err != nil {
								return err
							}
							if open {
								_, err := c.Open(data, []byte("records.data|"+id))
								return err
							}
							return nil
						})
						if err != nil {
							b.Fatal(err)
						}
					}
					perSecond(b, "records")
				}
			}
			b.Run("plain", read("plain", false))
			b.Run("sealed", read(r.ID, true))
			b.Run("FindRecordByID", func(b *testing.B) {
				for range b.N {
					if _, err := db.FindRecordByID(ctx, t.ID, r.ID); err != nil {
						b.Fatal(err)
					}
				}
				perSecond(b, "records")
			})
		})
	}
}

// BenchmarkBookAppointment books 15-minute appointments one after another on one doctor's
// calendar: each booking is a transaction with its encrypted patient data, three units and
// an audit entry.
func BenchmarkBookAppointment(b *testing.B) {
	for _, e := range storetest.Engines {
		b.Run(string(e), func(b *testing.B) {
			db, t, _ := benchStore(b, e)
			start := time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)
			n := 0
			b.ResetTimer()
			for range b.N {
				s := start.Add(time.Duration(n) * 15 * time.Minute)
				n++
				if _, err := db.BookAppointment(ctx, t.ID, appointment.Appointment{Type: "kontrolle", Doctor: "schneider", Start: s,
					End: s.Add(15 * time.Minute), Patient: appointment.Patient{Name: "Erika Mustermann"}, Source: "assistant"}); err != nil {
					b.Fatal(err)
				}
			}
			perSecond(b, "bookings")
		})
	}
}
