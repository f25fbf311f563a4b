package hotfolder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The tests drive Run poll by poll: afterPoll blocks the loop until the test lets it go
// on, so what a poll sees does not depend on the machine's speed.

type call struct {
	name string
	data []byte
}

// harness runs a Folder on a temporary directory and records the handler's calls.
type harness struct {
	t      *testing.T
	dir    string
	polled chan struct{}
	resume chan struct{}
	done   chan error
	cancel context.CancelFunc

	mu     sync.Mutex
	calls  []call
	answer func(name string, n int) error // the handler's result for the n-th call of name
}

var fixedNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func start(t *testing.T, f Folder, answer func(name string, n int) error) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), polled: make(chan struct{}), resume: make(chan struct{}), done: make(chan error, 1), answer: answer}
	if f.Dir == "" {
		f.Dir = h.dir
	}
	h.dir = f.Dir
	if f.Interval == 0 {
		f.Interval = time.Millisecond
	}
	f.Now = func() time.Time { return fixedNow }
	f.afterPoll = func(ctx context.Context) {
		select {
		case h.polled <- struct{}{}:
		case <-ctx.Done():
			return
		}
		select {
		case <-h.resume:
		case <-ctx.Done():
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		h.done <- f.Run(ctx, func(name string, data []byte) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.calls = append(h.calls, call{name, bytes.Clone(data)})
			n := 0
			for _, c := range h.calls {
				if c.name == name {
					n++
				}
			}
			if h.answer == nil {
				return nil
			}
			return h.answer(name, n)
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not stop after cancel")
		}
	})
	h.waitPoll()
	return h
}

func (h *harness) waitPoll() {
	h.t.Helper()
	select {
	case <-h.polled:
	case err := <-h.done:
		h.t.Fatalf("Run ended: %v", err)
	case <-time.After(5 * time.Second):
		h.t.Fatal("no poll within 5 s")
	}
}

// poll lets Run go on to its next poll and waits until that poll is done.
func (h *harness) poll() {
	h.t.Helper()
	h.resume <- struct{}{}
	h.waitPoll()
}

func (h *harness) handled() []call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

func (h *harness) write(name string, data []byte) {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.dir, name), data, 0o600); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) files(sub string) []string {
	h.t.Helper()
	entries, err := os.ReadDir(filepath.Join(h.dir, sub))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		h.t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestFileWrittenInHalves(t *testing.T) {
	h := start(t, Folder{}, nil)
	page := bytes.Repeat([]byte("Muster 16 "), 1000)
	f, err := os.Create(filepath.Join(h.dir, "scan0001.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(page[:len(page)/2]); err != nil {
		t.Fatal(err)
	}
	h.poll() // sees the first half
	if _, err := f.Write(page[len(page)/2:]); err != nil {
		t.Fatal(err)
	}
	h.poll() // sees it grown
	if got := h.handled(); len(got) > 0 {
		t.Fatalf("handled %s while it was being written", got[0].name)
	}
	h.poll() // sees it unchanged: takes it
	got := h.handled()
	if len(got) != 1 || got[0].name != "scan0001.jpg" || !bytes.Equal(got[0].data, page) {
		t.Fatalf("handled %d files (%d bytes first), want scan0001.jpg once with all %d bytes", len(got), firstLen(got), len(page))
	}
	h.poll()
	h.poll()
	if n := len(h.handled()); n != 1 {
		t.Errorf("handled %d times, want once", n)
	}
	if left := h.files(""); len(left) > 0 {
		t.Errorf("left in the folder: %v, want nothing (handled files are removed)", left)
	}
}

func firstLen(cs []call) int {
	if len(cs) == 0 {
		return 0
	}
	return len(cs[0].data)
}

func TestHandledInOrderAndRemoved(t *testing.T) {
	h := start(t, Folder{}, nil)
	for _, name := range []string{"scan0003.jpg", "scan0001.jpg", "scan0002.pdf"} {
		h.write(name, []byte("page "+name))
	}
	h.poll()
	h.poll()
	var names []string
	for _, c := range h.handled() {
		names = append(names, c.name)
		if want := "page " + c.name; string(c.data) != want {
			t.Errorf("%s: data %q, want %q", c.name, c.data, want)
		}
	}
	if diff := cmp.Diff([]string{"scan0001.jpg", "scan0002.pdf", "scan0003.jpg"}, names); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
	if left := h.files(""); len(left) > 0 {
		t.Errorf("left in the folder: %v", left)
	}
}

func TestRejectedToFehler(t *testing.T) {
	h := start(t, Folder{}, func(name string, n int) error {
		return fmt.Errorf("%w: keine lesbare Bilddatei", ErrRejected)
	})
	h.write("scan0001.jpg", []byte("not a JPEG"))
	h.poll()
	h.poll()
	// Scanner software that starts counting again reuses the name.
	h.write("scan0001.jpg", []byte("not a JPEG either"))
	h.poll()
	h.poll()
	if left := h.files(""); !slices.Equal(left, []string{FailedDir}) {
		t.Errorf("folder holds %v, want only %s/", left, FailedDir)
	}
	want := []string{"scan0001-2.jpg", "scan0001-2.jpg.txt", "scan0001.jpg", "scan0001.jpg.txt"}
	if diff := cmp.Diff(want, h.files(FailedDir)); diff != "" {
		t.Fatalf("%s/ (-want +got):\n%s", FailedDir, diff)
	}
	data, _ := os.ReadFile(filepath.Join(h.dir, FailedDir, "scan0001-2.jpg"))
	if string(data) != "not a JPEG either" {
		t.Errorf("moved file holds %q", data)
	}
	reason, _ := os.ReadFile(filepath.Join(h.dir, FailedDir, "scan0001.jpg.txt"))
	wantReason := "Datei: scan0001.jpg\nAbgelehnt am: 02.03.2026 09:30:00\nGrund: Datei abgelehnt: keine lesbare Bilddatei\n"
	if diff := cmp.Diff(wantReason, string(reason)); diff != "" {
		t.Errorf("reason (-want +got):\n%s", diff)
	}
	h.poll()
	if n := len(h.handled()); n != 2 {
		t.Errorf("handled %d times, want 2 (files in %s/ are not taken again)", n, FailedDir)
	}
}

func TestTooLargeRejectedUnread(t *testing.T) {
	h := start(t, Folder{MaxSize: 1 << 20}, nil)
	h.write("scan0001.pdf", make([]byte, 1<<20+1))
	h.poll()
	h.poll()
	if got := h.handled(); len(got) > 0 {
		t.Errorf("handled %s, want the file rejected unread", got[0].name)
	}
	reason, err := os.ReadFile(filepath.Join(h.dir, FailedDir, "scan0001.pdf.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(reason, []byte("Grund: Datei abgelehnt: Datei zu groß (1 MiB, höchstens 1 MiB)")) {
		t.Errorf("reason %q", reason)
	}
}

func TestHandleErrorRetried(t *testing.T) {
	h := start(t, Folder{}, func(name string, n int) error {
		if n == 1 {
			return errors.New("database locked")
		}
		return nil
	})
	h.write("scan0001.jpg", []byte("page"))
	h.poll()
	h.poll() // taken, fails
	if left := h.files(""); !slices.Equal(left, []string{"scan0001.jpg"}) {
		t.Fatalf("after a failed handling the folder holds %v, want the file kept", left)
	}
	h.poll() // taken again, stored
	got := h.handled()
	if len(got) != 2 || string(got[1].data) != "page" {
		t.Fatalf("handled %d times, want 2 with the same data", len(got))
	}
	if left := h.files(""); len(left) > 0 {
		t.Errorf("left in the folder: %v", left)
	}
}

func TestIgnoredNames(t *testing.T) {
	h := start(t, Folder{}, nil)
	names := []string{".hidden.jpg", "~lock.jpg", "scan0001.jpg~", "scan0002.tmp", "scan0003.JPG.part", "scan0004.partial", "x.crdownload", "Thumbs.db", "desktop.ini"}
	for _, name := range names {
		h.write(name, []byte("x"))
	}
	if err := os.MkdirAll(filepath.Join(h.dir, "archiv"), 0o700); err != nil {
		t.Fatal(err)
	}
	h.write(filepath.Join("archiv", "scan0005.jpg"), []byte("x"))
	if err := os.Symlink("/etc/passwd", filepath.Join(h.dir, "link.jpg")); err != nil {
		t.Fatal(err)
	}
	h.poll()
	h.poll()
	h.poll()
	if got := h.handled(); len(got) > 0 {
		t.Errorf("handled %s, want the temporary, hidden, linked and subfolder files left alone", got[0].name)
	}
	if n := len(h.files("")); n != len(names)+2 {
		t.Errorf("folder holds %d entries, want all %d", n, len(names)+2)
	}
}

// Run stops when cancelled, without the test's stepping: the plain loop with a short
// interval.
func TestCancelStopsRun(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	handled := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Folder{Dir: dir, Interval: 20 * time.Millisecond}.Run(ctx, func(name string, data []byte) error {
			handled <- name
			return nil
		})
	}()
	if err := os.WriteFile(filepath.Join(dir, "scan0001.jpg"), []byte("page"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-handled:
		if name != "scan0001.jpg" {
			t.Errorf("handled %s", name)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("file not handled within 5 s at a 20 ms interval")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
}

func TestRunNeedsADirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(dir, "missing"), file} {
		err := Folder{Dir: d}.Run(context.Background(), func(string, []byte) error { return nil })
		if err == nil {
			t.Errorf("Run(%s): nil, want an error", d)
		}
	}
}

// TestTwoNodesShareAFolder: nodes watching the same folder hand each file over once.
func TestTwoNodesShareAFolder(t *testing.T) {
	dir := t.TempDir()
	const files = 40
	var mu sync.Mutex
	handled := map[string]int{}
	handle := func(name string, data []byte) error {
		time.Sleep(time.Millisecond) // storing takes a moment, in which the other node polls
		mu.Lock()
		defer mu.Unlock()
		handled[name]++
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { Folder{Dir: dir, Interval: time.Millisecond}.Run(ctx, handle) })
	}
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("scan%04d.jpg", i)), []byte("page"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		left, _ := os.ReadDir(dir)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	cancel()
	wg.Wait()
	if len(handled) != files {
		t.Errorf("%d of %d files handled", len(handled), files)
	}
	for name, n := range handled {
		if n != 1 {
			t.Errorf("%s handled %d times", name, n)
		}
	}
}

// TestStaleClaimGivenBack: a file a stopped node had claimed is given back, to be taken
// again, once the claim is old; a fresh claim is left to its node.
func TestStaleClaimGivenBack(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, claimPrefix+"scan0001.jpg"), []byte("page"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := func(now time.Time) *poller {
		return &poller{Folder: Folder{Dir: dir, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)}}
	}
	at(time.Now()).releaseStale()
	if _, err := os.Stat(filepath.Join(dir, "scan0001.jpg")); err == nil {
		t.Fatal("a fresh claim was given back")
	}
	at(time.Now().Add(staleClaim + time.Minute)).releaseStale()
	if _, err := os.Stat(filepath.Join(dir, "scan0001.jpg")); err != nil {
		t.Fatalf("the stale claim was not given back: %v", err)
	}
}
