// Package hotfolder takes the files that a scanner's own software writes into a folder (the
// "hot folder"), each once it is complete, hands them on, and removes them once the caller
// has stored them; files the caller rejects go to the folder's fehler/ subfolder with the
// reason beside them.
package hotfolder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tresen/tresen/internal/errs"
)

// ErrRejected marks a file that handling it again will not help (not an image, a
// damaged file). Run moves such a file to FailedDir with the error's text as the reason,
// so the handler should wrap it with a German explanation:
//
//	fmt.Errorf("%w: keine lesbare Bilddatei", hotfolder.ErrRejected)
var ErrRejected = errs.E(errs.Invalid, "Datei abgelehnt")

// FailedDir is the subfolder (of Folder.Dir) for rejected files ("fehler": failed).
const FailedDir = "fehler"

// Folder watches one hot folder by polling: it works on network shares, where change
// notifications (inotify) do not arrive.
//
// Scanner software writes flat into the folder, so subfolders are not walked: that keeps
// FailedDir out of the scan and leaves alone what other programs keep there.
type Folder struct {
	Dir string
	// Interval is the time between polls; default 2 s. A file is taken when its size and
	// modification time are the same at two polls in a row, so a writer that stalls for
	// longer than Interval in the middle of a file would hand over half a file.
	Interval time.Duration
	// MaxSize bounds a file; larger ones are rejected unread. Default 200 MiB.
	MaxSize int64
	// Now dates the reasons of rejected files; default time.Now.
	Now func() time.Time
	// Log receives the failures that Run lives with (a file that could not be read or
	// removed, a handler's error); default none. File names are not logged: staff name
	// files after patients now and then.
	Log *slog.Logger

	afterPoll func(context.Context) // tests: called after each poll
}

// DefaultMaxSize is MaxSize's default.
const DefaultMaxSize = 200 << 20

// Run polls the folder until ctx is done and then returns ctx's error; it returns earlier
// only when Dir is not a directory. Each complete file is passed to handle, one at a time,
// in name order (scanner software numbers its files):
//
//   - handle returns nil: the caller has stored the file (encrypted), and Run removes it,
//     so that no plaintext patient image lingers in the folder;
//   - handle returns an error wrapping ErrRejected: the file moves to FailedDir, with
//     NAME.txt beside it giving the error's text as the reason;
//   - any other error: the file stays and is handed over again at the next poll.
//
// Several nodes may watch the same folder (a network share): a file is taken by renaming
// it to a hidden claim name first, which only one of them can, and given back under its
// name when handling it failed for now. A claim left by a node that stopped while handling
// is given back after staleClaim.
//
// Files whose names mark them as temporary or hidden are left alone: a leading "." or
// "~", a trailing "~", ".tmp", ".part", ".partial", ".crdownload"; so are Thumbs.db and
// desktop.ini, which Windows puts into shared folders.
func (f Folder) Run(ctx context.Context, handle func(name string, data []byte) error) error {
	info, err := os.Stat(f.Dir)
	if err != nil || !info.IsDir() {
		return &errs.Error{Kind: errs.Invalid, Message: "Der Scan-Ordner ist kein erreichbarer Ordner",
			Err: fmt.Errorf("hotfolder %s: %v", f.Dir, errOrNotDir(err))}
	}
	if f.Interval <= 0 {
		f.Interval = 2 * time.Second
	}
	if f.MaxSize <= 0 {
		f.MaxSize = DefaultMaxSize
	}
	if f.Now == nil {
		f.Now = time.Now
	}
	if f.Log == nil {
		f.Log = slog.New(slog.DiscardHandler)
	}
	p := &poller{Folder: f, handle: handle, seen: map[string]stamp{}, stuck: map[string]bool{}}
	p.releaseStale()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		p.poll(ctx)
		if f.afterPoll != nil {
			f.afterPoll(ctx)
		}
		t.Reset(f.Interval) // from the end of a poll: a long handler does not pile up polls
	}
}

func errOrNotDir(err error) error {
	if err != nil {
		return err
	}
	return errors.New("not a directory")
}

// stamp is what tells a file still being written from a finished one.
type stamp struct {
	size int64
	mod  time.Time
}

type poller struct {
	Folder
	handle func(string, []byte) error
	seen   map[string]stamp // at the last poll
	stuck  map[string]bool  // claim names of handled files whose removal failed: tried again
}

// claimPrefix makes a claimed file's name: hidden, so that every poller passes it by.
const claimPrefix = ".tresen-claim-"

// staleClaim is how long after its claim a file still claimed is given back: far longer
// than storing a file takes.
const staleClaim = 10 * time.Minute

// releaseStale gives back the files whose claim is older than staleClaim (its node
// stopped while handling them).
func (p *poller) releaseStale() {
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), claimPrefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || p.Now().Sub(claimedAt(info)) < staleClaim {
			continue
		}
		if err := os.Rename(filepath.Join(p.Dir, e.Name()), filepath.Join(p.Dir, name)); err != nil {
			p.Log.Warn("hotfolder: a stale claim could not be given back", "err", bare(err))
		}
	}
}

// claimedAt is when a file was last renamed: its inode's change time.
func claimedAt(info fs.FileInfo) time.Time {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return info.ModTime()
}

func (p *poller) poll(ctx context.Context) {
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		// A network share that is away for a moment: try again at the next poll.
		p.Log.Warn("hotfolder: folder unreadable", "err", bare(err))
		return
	}
	for claim := range p.stuck {
		p.remove(claim)
	}
	present := map[string]bool{}
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		name := e.Name()
		if !e.Type().IsRegular() || skipped(name) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		present[name] = true
		now := stamp{info.Size(), info.ModTime()}
		before, ok := p.seen[name]
		p.seen[name] = now
		if ok && before == now {
			p.take(name, now)
		}
	}
	for name := range p.seen {
		if !present[name] {
			delete(p.seen, name)
		}
	}
}

// take claims a file that has stopped changing and hands it over.
func (p *poller) take(name string, s stamp) {
	claim := claimPrefix + name
	if err := os.Rename(filepath.Join(p.Dir, name), filepath.Join(p.Dir, claim)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			delete(p.seen, name) // another node took it
		} else {
			p.Log.Warn("hotfolder: file could not be claimed, trying again", "err", bare(err))
		}
		return
	}
	// Handed over, rejected or given back to be taken at the next poll (seen as it is).
	delete(p.seen, name)
	if s.size > p.MaxSize {
		p.reject(name, claim, fmt.Errorf("%w: Datei zu groß (%d MiB, höchstens %d MiB)", ErrRejected, s.size>>20, p.MaxSize>>20))
		return
	}
	data, after, err := read(filepath.Join(p.Dir, claim), p.MaxSize)
	switch {
	case err != nil:
		p.Log.Warn("hotfolder: file unreadable, trying again", "err", bare(err))
		p.giveBack(name, claim)
		p.seen[name] = s
		return
	case after != s: // written to while we read: wait until it is still again
		p.giveBack(name, claim)
		p.seen[name] = after
		return
	}
	switch err := p.handle(name, data); {
	case err == nil:
		p.remove(claim)
	case errors.Is(err, ErrRejected):
		p.reject(name, claim, err)
	default:
		p.Log.Warn("hotfolder: handling failed, trying again at the next poll", "err", err)
		p.giveBack(name, claim)
		p.seen[name] = s
	}
}

// giveBack returns a claimed file under its name, to be taken again.
func (p *poller) giveBack(name, claim string) {
	if err := os.Rename(filepath.Join(p.Dir, claim), filepath.Join(p.Dir, name)); err != nil {
		p.Log.Error("hotfolder: a claimed file could not be given back; it is given back after a while", "err", bare(err))
	}
}

func read(path string, limit int64) ([]byte, stamp, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, stamp{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, stamp{}, err
	}
	info, err := f.Stat()
	if err != nil {
		return nil, stamp{}, err
	}
	return data, stamp{info.Size(), info.ModTime()}, nil
}

// remove deletes a handled file (by its claim name). Should that fail, its removal is
// tried again at each poll; claimed, it is never handed over twice.
func (p *poller) remove(claim string) {
	err := os.Remove(filepath.Join(p.Dir, claim))
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		delete(p.stuck, claim)
		return
	}
	if !p.stuck[claim] {
		p.Log.Error("hotfolder: a stored file could not be removed from the scan folder; trying again at each poll", "err", bare(err))
	}
	p.stuck[claim] = true
}

// reject moves a claimed file to FailedDir and writes the reason beside it: NAME.txt. The names
// are made unique (NAME-2.jpg) when scanner software has reused a name.
func (p *poller) reject(name, claim string, reason error) {
	dir := filepath.Join(p.Dir, FailedDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		p.Log.Error("hotfolder: cannot create the folder for rejected files", "err", bare(err))
		p.giveBack(name, claim)
		return
	}
	target, note, err := p.writeReason(dir, name, reason)
	if err != nil {
		p.Log.Error("hotfolder: cannot write the reason of a rejected file", "err", bare(err))
		p.giveBack(name, claim)
		return
	}
	if err := os.Rename(filepath.Join(p.Dir, claim), target); err != nil {
		_ = os.Remove(note)
		p.Log.Error("hotfolder: cannot move a rejected file", "err", bare(err))
		p.giveBack(name, claim)
	}
}

func (p *poller) writeReason(dir, name string, reason error) (target, note string, err error) {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	text := fmt.Sprintf("Datei: %s\nAbgelehnt am: %s\nGrund: %s\n", name, p.Now().Format("02.01.2006 15:04:05"), reason)
	for i := 1; i <= 1000; i++ {
		target = filepath.Join(dir, name)
		if i > 1 {
			target = filepath.Join(dir, fmt.Sprintf("%s-%d%s", stem, i, ext))
		}
		if _, err := os.Lstat(target); err == nil {
			continue
		}
		note = target + ".txt"
		f, err := os.OpenFile(note, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", "", err
		}
		_, err = f.WriteString(text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(note)
			return "", "", err
		}
		return target, note, nil
	}
	return "", "", fmt.Errorf("no free name in %s", FailedDir)
}

// skipped tells the names of files being written or of no concern.
func skipped(name string) bool {
	lower := strings.ToLower(name)
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~") || strings.HasSuffix(name, "~") {
		return true
	}
	for _, suffix := range []string{".tmp", ".part", ".partial", ".crdownload"} {
		if strings.HasSuffix(lower, suffix) {
			return true
		}
	}
	return lower == "thumbs.db" || lower == "desktop.ini"
}

// bare strips the path from a file system error, since file names stay out of the log.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}
