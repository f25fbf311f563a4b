// Package berlin holds the time zone German practices and pharmacies work in, embedded so
// that the service does not depend on the host's zoneinfo.
package berlin

import (
	"time"
	_ "time/tzdata" // the zone database, in case the host has none
)

// Location is Europe/Berlin.
var Location = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err) // unreachable: time/tzdata is embedded
	}
	return loc
}()
