// Package audit defines Tresen's audit log (Eingabekontrolle): append-only entries, each
// chained to its predecessor by a SHA-256 hash, so that any changed, removed or reordered
// entry is detected by Verify. Entries hold ids only, never personal data.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Action says what happened.
type Action string

const (
	Login         Action = "login"
	LoginFailed   Action = "login.failed"
	Lockout       Action = "lockout"
	Logout        Action = "logout"
	Create        Action = "create"
	Update        Action = "update"
	Delete        Action = "delete"
	Read          Action = "read" // a read of health data
	Export        Action = "export"
	Erase         Action = "erase"
	Purge         Action = "purge"
	Permission    Action = "permission" // a role or access right changed
	PasswordSet   Action = "password.change"
	PasswordReset Action = "password.reset"
	TOTPEnable    Action = "totp.enable"
	SupportGrant  Action = "support.grant"
	SupportRevoke Action = "support.revoke"
	SupportAccess Action = "support.access" // a support user used a grant or read a report
	SupportReport Action = "support.report" // the team shared a problem with support
	KeyRotate     Action = "key.rotate"
	Backup        Action = "backup"
	Restore       Action = "restore"
)

// SystemChain is the chain of entries that belong to no tenant (operator actions, the
// creation and deletion of tenants). Every tenant has a chain of its own, named by its id,
// so that tenants append without waiting for each other.
const SystemChain = "system"

// Entry is one audit record. Actor is a user id or "system"; Source is the client address
// or "cli"; Detail carries non-personal facts such as counts or changed field names.
type Entry struct {
	Chain      string
	Seq        int64 // 1, 2, 3 … within the chain
	At         time.Time
	TenantID   string
	Actor      string
	Action     Action
	ObjectType string
	ObjectID   string
	Source     string
	Detail     string
	PrevHash   string // hex; empty for the first entry
	Hash       string // hex SHA-256 over all fields above
}

// ComputeHash returns the hash of e over every field but Hash, each length-prefixed so that
// no two different entries encode alike.
func (e *Entry) ComputeHash() string {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	put := func(s string) {
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	put("tresen-audit-v1")
	put(e.Chain)
	put(strconv.FormatInt(e.Seq, 10))
	put(strconv.FormatInt(e.At.UnixMicro(), 10))
	put(e.TenantID)
	put(e.Actor)
	put(string(e.Action))
	put(e.ObjectType)
	put(e.ObjectID)
	put(e.Source)
	put(e.Detail)
	put(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal links e to the previous entry of its chain (nil for the first) and sets Seq and Hash.
func (e *Entry) Seal(prevSeq int64, prevHash string) {
	e.Seq = prevSeq + 1
	e.PrevHash = prevHash
	e.Hash = e.ComputeHash()
}

// Head is the recorded end of a chain: the last sequence number and hash appended.
type Head struct {
	Chain string
	Seq   int64
	Hash  string
}

// Problem is one defect found by verification.
type Problem struct {
	Chain string
	Seq   int64
	What  string
}

func (p Problem) String() string {
	return fmt.Sprintf("Kette %s, Eintrag %d: %s", p.Chain, p.Seq, p.What)
}

// Verifier checks chains entry by entry, in the order (chain, seq) in which the store
// returns them, so that a log of any length is checked in constant memory.
type Verifier struct {
	Problems []Problem
	Entries  int64
	chain    string
	seq      int64
	hash     string
	seen     map[string]Head
}

// Add checks the next entry.
func (v *Verifier) Add(e *Entry) {
	if v.seen == nil {
		v.seen = map[string]Head{}
	}
	v.Entries++
	if e.Chain != v.chain {
		if v.chain != "" {
			v.seen[v.chain] = Head{v.chain, v.seq, v.hash}
		}
		if _, dup := v.seen[e.Chain]; dup {
			v.report(e.Chain, e.Seq, "Einträge der Kette stehen nicht zusammenhängend (Reihenfolge verändert)")
		}
		v.chain, v.seq, v.hash = e.Chain, 0, ""
	}
	switch {
	case e.Seq <= v.seq:
		v.report(e.Chain, e.Seq, fmt.Sprintf("Reihenfolge verändert oder Eintrag doppelt (vorher %d)", v.seq))
	case e.Seq > v.seq+1:
		v.report(e.Chain, v.seq+1, fmt.Sprintf("Eintrag fehlt (auf %d folgt %d)", v.seq, e.Seq))
	}
	if e.ComputeHash() != e.Hash {
		v.report(e.Chain, e.Seq, "Inhalt verändert (Hash stimmt nicht)")
	}
	if e.PrevHash != v.hash && e.Seq == v.seq+1 {
		v.report(e.Chain, e.Seq, "Verkettung unterbrochen (Vorgänger-Hash stimmt nicht)")
	}
	v.seq, v.hash = e.Seq, e.Hash
}

// Finish compares the chains seen with the recorded heads: a chain that ends early lost its
// last entries; a head with no entries at all lost them all.
func (v *Verifier) Finish(heads []Head) {
	if v.seen == nil {
		v.seen = map[string]Head{}
	}
	if v.chain != "" {
		v.seen[v.chain] = Head{v.chain, v.seq, v.hash}
	}
	for _, h := range heads {
		got := v.seen[h.Chain]
		switch {
		case got.Seq < h.Seq:
			v.report(h.Chain, got.Seq+1, fmt.Sprintf("Einträge %d bis %d fehlen am Ende der Kette", got.Seq+1, h.Seq))
		case got.Seq > h.Seq:
			v.report(h.Chain, h.Seq+1, "Einträge nach dem verbuchten Kettenende angefügt")
		case got.Hash != h.Hash:
			v.report(h.Chain, h.Seq, "letzter Eintrag passt nicht zum verbuchten Kettenende")
		}
		delete(v.seen, h.Chain)
	}
	for c, got := range v.seen {
		v.report(c, got.Seq, "Kette ohne verbuchtes Kettenende")
	}
}

func (v *Verifier) report(chain string, seq int64, what string) {
	v.Problems = append(v.Problems, Problem{Chain: chain, Seq: seq, What: what})
}

// OK reports whether no problem was found.
func (v *Verifier) OK() bool { return len(v.Problems) == 0 }

// labels are the German names of the actions, for the audit page.
var labels = map[Action]string{
	Login: "Anmeldung", LoginFailed: "Anmeldung fehlgeschlagen", Lockout: "Zugang gesperrt", Logout: "Abmeldung",
	Create: "angelegt", Update: "geändert", Delete: "gelöscht", Read: "Gesundheitsdaten gelesen", Export: "exportiert",
	Erase: "Person gelöscht", Purge: "Fristablauf gelöscht", Permission: "Berechtigung geändert",
	PasswordSet: "Passwort geändert", PasswordReset: "Passwort zurückgesetzt", TOTPEnable: "Zweiter Faktor eingerichtet",
	SupportGrant: "Support freigegeben", SupportRevoke: "Support-Freigabe widerrufen", SupportAccess: "Support-Zugriff", SupportReport: "An den Support gemeldet",
	KeyRotate: "Schlüssel neu verpackt", Backup: "Sicherung", Restore: "Wiederherstellung",
}

// Label is the German name of the action.
func (a Action) Label() string {
	if l, ok := labels[a]; ok {
		return l
	}
	return string(a)
}
