package scanner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tresen/tresen/internal/errs"
)

// SANE scans from a directly attached scanner through scanimage (Debian package
// sane-utils), one scanimage process per batch.
//
// Pages are delivered as they appear: scanimage writes each page to NAME.part, renames it
// when the page is complete and then prints the name (--batch-print), so every printed name
// is a whole file. A long batch thus reaches the caller page by page, little of it waits in
// the temporary directory, and when a batch breaks off (a jam on sheet 7), the pages before
// it have been handed over and only the rest needs scanning again.
type SANE struct {
	// Device is the SANE device name (as Devices lists it, e.g. "fujitsu:fi-7160:12345");
	// empty: scanimage's default, the first device it finds.
	Device string
	// Command is the scanimage binary; default "scanimage" from PATH.
	Command string
	// Env is added to the environment of scanimage, e.g. SANE_CONFIG_DIR=/etc/tresen/sane.
	Env []string
}

// Device is a scanner that SANE found.
type Device struct {
	Name   string // what SANE.Device takes
	Vendor string
	Model  string
	Type   string // e.g. "sheetfed scanner", "flatbed scanner"
}

const (
	maxPageBytes = 256 << 20 // a 600 dpi A4 colour PNG is about 100 MiB
	maxHelpBytes = 1 << 20
	maxStderr    = 16 << 10
	// killGrace is how long scanimage has after SIGTERM (it cancels the scan, and the
	// scanner stops feeding) before its process group is killed.
	killGrace = 3 * time.Second
)

func (s SANE) command() string {
	if s.Command == "" {
		return "scanimage"
	}
	return s.Command
}

// Devices lists the scanners SANE finds (scanimage -f). None is an empty list, not an error.
func (s SANE) Devices(ctx context.Context) (_ []Device, err error) {
	defer errs.Wrap(&err, "scanner: SANE devices")
	out, _, err := s.output(ctx, "-f", "%d\t%v\t%m\t%t%n")
	if err != nil {
		return nil, err
	}
	var ds []Device
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[0] == "" {
			continue
		}
		ds = append(ds, Device{Name: f[0], Vendor: f[1], Model: f[2], Type: f[3]})
	}
	return ds, nil
}

// Scan scans a batch at set and calls page for each page, in order, as scanimage completes
// it. The batch ends when the feeder runs out of paper; a flatbed (a device without a
// document feeder) scans one page. An error from page stops the scan and is returned.
// Cancelling ctx stops scanimage (SIGTERM, then SIGKILL to its process group) and returns
// ctx's error; pages already delivered stay delivered.
//
// Colour and duplex are not silently dropped: a device without them fails with ErrNoColor
// or ErrNoDuplex, and the caller decides whether to scan again with Gray or Simplex.
func (s SANE) Scan(ctx context.Context, set Settings, page func(File) error) (err error) {
	defer errs.Wrap(&err, "scanner: SANE %q", s.Device)
	help, stderr, err := s.output(ctx, s.deviceArgs("--help")...)
	if err != nil {
		return err
	}
	opts, ok := parseHelp(help)
	if !ok {
		// scanimage --help exits 0 when the device cannot be opened; only its message
		// tells why.
		if f := saneFault(stderr, 0); f != nil {
			return f
		}
		return fmt.Errorf("%s: %w", lastLines(stderr), ErrNotFound)
	}
	devOpts, err := chooseOptions(opts, set)
	if err != nil {
		return err
	}

	// Pages are patient data: a private directory, removed however the scan ends.
	dir, err := os.MkdirTemp("", "tresen-scan-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	args := s.deviceArgs(
		"--batch="+filepath.Join(strings.ReplaceAll(dir, "%", "%%"), "page-%04d.png"),
		"--batch-print", "--format=png")
	args = append(args, devOpts...)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r, err := s.start(runCtx, args...)
	if err != nil {
		return err
	}
	pages := 0
	var stop error // why we stopped scanimage ourselves
	lines := bufio.NewScanner(r.stdout)
	for lines.Scan() {
		if stop != nil || ctx.Err() != nil {
			continue // drain until scanimage has gone
		}
		name, ok := pageName(dir, lines.Text())
		if !ok {
			continue
		}
		data, err := readPage(filepath.Join(dir, name))
		if err != nil {
			stop = err
			cancel()
			continue
		}
		pages++
		if err := page(File{Name: name, Data: data}); err != nil {
			stop = err
			cancel()
		}
	}
	if err := lines.Err(); err != nil && stop == nil {
		stop = err
		cancel()
		_, _ = io.Copy(io.Discard, r.stdout)
	}
	waitErr := r.wait()
	switch {
	case stop != nil:
		return stop
	case ctx.Err() != nil:
		return fmt.Errorf("scan cancelled after %d pages: %w", pages, ctx.Err())
	}
	return batchOutcome(waitErr, r.stderr.String(), pages)
}

func (s SANE) deviceArgs(args ...string) []string {
	if s.Device == "" {
		return args
	}
	return append([]string{"--device-name=" + s.Device}, args...)
}

// pageName accepts the names scanimage prints for our batch pattern only.
func pageName(dir, line string) (string, bool) {
	if filepath.Dir(line) != dir {
		return "", false
	}
	name := filepath.Base(line)
	var n int
	if _, err := fmt.Sscanf(name, "page-%d.png", &n); err != nil || n < 1 || !strings.HasSuffix(name, ".png") {
		return "", false
	}
	return name, true
}

// readPage reads a finished page and removes it at once: the caller stores it encrypted,
// and a plaintext patient image must not linger in the temporary directory.
func readPage(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPageBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPageBytes {
		return nil, fmt.Errorf("page over %d MiB: %w", maxPageBytes>>20, ErrTooLarge)
	}
	return data, nil
}

// batchOutcome says how a batch ended from scanimage's exit status and messages. The
// feeder running out of paper is the normal end of a batch when it gave pages.
func batchOutcome(waitErr error, stderr string, pages int) error {
	exit := 0
	if waitErr != nil {
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) {
			return waitErr
		}
		exit = ee.ExitCode()
	}
	f := saneFault(stderr, exit)
	switch {
	case errors.Is(f, ErrFeederEmpty):
		if pages > 0 {
			return nil
		}
		return f
	case f != nil:
		return f
	case exit != 0:
		return fmt.Errorf("scanimage exit status %d: %s: %w", exit, lastLines(stderr), ErrDevice)
	case pages == 0:
		return fmt.Errorf("scanimage delivered no page: %s: %w", lastLines(stderr), ErrNoPages)
	}
	return nil
}

// saneFault reads a failure out of scanimage's messages (sane_strstatus in the C locale)
// or, where they say nothing known, out of its exit status, which is the SANE status of
// the call that failed. It returns nil when neither tells of a failure.
func saneFault(stderr string, exit int) error {
	detail := lastLines(stderr)
	wrap := func(e error) error { return fmt.Errorf("scanimage: %s: %w", detail, e) }
	has := func(s string) bool { return strings.Contains(stderr, s) }
	switch {
	case has("no SANE devices found"):
		return wrap(ErrNotFound)
	case has("open of device"):
		switch {
		case has("Device busy"):
			return wrap(ErrBusy)
		case has("Access to resource has been denied"):
			return wrap(ErrAccess)
		}
		return wrap(ErrNotFound)
	case has("Document feeder jammed") || exit == 6:
		return wrap(ErrJam)
	case has("Scanner cover is open") || exit == 8:
		return wrap(ErrCoverOpen)
	case has("Device busy") || exit == 3:
		return wrap(ErrBusy)
	case has("Error during device I/O") || exit == 9:
		return wrap(ErrDevice)
	case has("Access to resource has been denied"):
		return wrap(ErrAccess)
	case has("Document feeder out of documents") || exit == 7:
		return wrap(ErrFeederEmpty)
	}
	return nil
}

// lastLines is the gist of scanimage's messages for an error text: its last lines
// without the progress chatter.
func lastLines(stderr string) string {
	var keep []string
	for line := range strings.SplitSeq(stderr, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "",
			strings.HasPrefix(line, "Scanning "),
			strings.HasPrefix(line, "Scanned page"),
			strings.HasPrefix(line, "Batch terminated"),
			strings.HasPrefix(line, "Output format is not set"):
			continue
		}
		keep = append(keep, line)
	}
	if len(keep) > 3 {
		keep = keep[len(keep)-3:]
	}
	if len(keep) == 0 {
		return "no message"
	}
	return strings.Join(keep, "; ")
}

// output runs a short scanimage command and returns what it printed.
func (s SANE) output(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	r, err := s.start(ctx, args...)
	if err != nil {
		return "", "", err
	}
	out, readErr := io.ReadAll(io.LimitReader(r.stdout, maxHelpBytes))
	_, _ = io.Copy(io.Discard, r.stdout)
	waitErr := r.wait()
	switch {
	case ctx.Err() != nil:
		return "", "", ctx.Err()
	case readErr != nil:
		return "", "", readErr
	case waitErr != nil:
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) {
			return "", "", waitErr
		}
		if f := saneFault(r.stderr.String(), ee.ExitCode()); f != nil {
			return "", "", f
		}
		return "", "", fmt.Errorf("scanimage exit status %d: %s: %w", ee.ExitCode(), lastLines(r.stderr.String()), ErrDevice)
	}
	return string(out), r.stderr.String(), nil
}

// process is a running scanimage in its own process group, so that stopping it reaches the
// backend's helper processes too.
type process struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr *tail
	done   chan struct{}
}

func (s SANE) start(ctx context.Context, args ...string) (*process, error) {
	cmd := exec.Command(s.command(), args...)
	// The C locale makes scanimage's messages the English texts saneFault knows.
	cmd.Env = append(append(os.Environ(), "LC_ALL=C"), s.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * killGrace // a helper that keeps stderr open cannot stall Wait
	p := &process{cmd: cmd, stderr: &tail{max: maxStderr}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	var err error
	if p.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", s.command(), ErrNoScanimage)
		}
		return nil, err
	}
	go p.stopOn(ctx)
	return p, nil
}

// stopOn stops the process group when ctx is done: SIGTERM lets scanimage cancel the scan
// (the scanner stops feeding), SIGKILL follows if it has not gone after killGrace.
func (p *process) stopOn(ctx context.Context) {
	select {
	case <-p.done:
		return
	case <-ctx.Done():
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(killGrace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// wait waits for scanimage after its output has been read to the end.
func (p *process) wait() error {
	err := p.cmd.Wait()
	close(p.done)
	return err
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
