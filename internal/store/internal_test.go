package store

// BackupTables exposes the tables a backup holds, with the columns each is ordered by, to
// the external tests.
func BackupTables() []struct{ Name, PK string } {
	out := make([]struct{ Name, PK string }, len(backupTables))
	for i, t := range backupTables {
		out[i].Name, out[i].PK = t.name, t.order
	}
	return out
}
