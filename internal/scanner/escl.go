package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tresen/tresen/internal/errs"
)

// ESCL scans from a network scanner through eSCL (Apple AirScan, Mopria): HTTP and XML,
// one job per batch, each page fetched as it is scanned (NextDocument) and handed on.
type ESCL struct {
	// URL is the scanner's eSCL root, e.g. http://printer.local/eSCL (from its mDNS
	// record _uscan._tcp, rs=eSCL).
	URL string
	// Client makes the requests; default a plain http.Client. Each request is bounded by
	// requestTimeout besides ctx.
	Client *http.Client
	// RetryDelay is the first pause when the scanner answers 503 (page not ready yet);
	// it doubles up to 5 s. Default 500 ms.
	RetryDelay time.Duration

	maxDocument int64 // default maxDocumentBytes; tests lower it
}

const (
	maxDocumentBytes = 64 << 20
	requestTimeout   = 2 * time.Minute
	// maxUnready is how long a scanner may answer 503 without giving a page before the
	// scan is given up.
	maxUnready    = 2 * time.Minute
	maxRetryDelay = 5 * time.Second
)

// Formats in the order they are asked for: JPEG pages are single images the decoder reads
// directly; PDF is what some devices offer alone.
var formatExt = map[string]string{"image/jpeg": ".jpg", "application/pdf": ".pdf", "image/png": ".png", "image/tiff": ".tif"}

var formatPreference = []string{"image/jpeg", "application/pdf", "image/png"}

func (e ESCL) client() *http.Client {
	if e.Client == nil {
		return &http.Client{}
	}
	return e.Client
}

func (e ESCL) base() string { return strings.TrimRight(e.URL, "/") }

// Capabilities asks the scanner what it can do.
func (e ESCL) Capabilities(ctx context.Context) (_ Capabilities, err error) {
	defer errs.Wrap(&err, "scanner: eSCL %s", e.URL)
	data, err := e.getXML(ctx, "/ScannerCapabilities")
	if err != nil {
		return Capabilities{}, err
	}
	return parseCapabilities(data)
}

// Status asks for the scanner's state, e.g. whether the feeder holds paper.
func (e ESCL) Status(ctx context.Context) (_ Status, err error) {
	defer errs.Wrap(&err, "scanner: eSCL %s", e.URL)
	data, err := e.getXML(ctx, "/ScannerStatus")
	if err != nil {
		return Status{}, err
	}
	return parseStatus(data)
}

func (e ESCL) getXML(ctx context.Context, path string) ([]byte, error) {
	resp, err := e.do(ctx, http.MethodGet, e.base()+path, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %w", path, resp.StatusCode, ErrDevice)
	}
	data, err := readBounded(resp.Body, maxXMLBytes)
	if errors.Is(err, ErrTooLarge) {
		return nil, fmt.Errorf("GET %s: over %d KiB: %w", path, maxXMLBytes>>10, ErrProtocol)
	}
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return data, nil
}

// Scan scans a batch at set and calls page for each document the scanner delivers, in
// order: one page each as JPEG (or PNG), or a PDF when that is all the device offers. The
// batch ends when the scanner has no more documents (404). An error from page or a
// cancelled ctx deletes the job at the scanner, which stops feeding.
func (e ESCL) Scan(ctx context.Context, set Settings, page func(File) error) (err error) {
	defer errs.Wrap(&err, "scanner: eSCL %s", e.URL)
	data, err := e.getXML(ctx, "/ScannerCapabilities")
	if err != nil {
		return err
	}
	caps, err := parseCapabilities(data)
	if err != nil {
		return err
	}
	settings, err := chooseSettings(caps, set)
	if err != nil {
		return err
	}
	job, err := e.createJob(ctx, settings)
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if !finished {
			e.deleteJob(ctx, job)
		}
	}()

	maxDoc := e.maxDocument
	if maxDoc <= 0 {
		maxDoc = maxDocumentBytes
	}
	pages := 0
	r := e.retrier()
	for {
		resp, err := e.do(ctx, http.MethodGet, job+"/NextDocument", nil)
		if err != nil {
			return err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			data, err := readBounded(resp.Body, maxDoc)
			ct := resp.Header.Get("Content-Type")
			resp.Body.Close()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				return fmt.Errorf("page %d: %w", pages+1, err)
			}
			if len(data) == 0 {
				return fmt.Errorf("page %d: empty document: %w", pages+1, ErrProtocol)
			}
			pages++
			if err := page(File{Name: fmt.Sprintf("page-%04d%s", pages, extension(ct, settings.Format)), Data: data}); err != nil {
				return err
			}
			r.progress()
		case http.StatusNotFound, http.StatusGone:
			drain(resp)
			finished = true
			return e.batchEnd(ctx, pages)
		case http.StatusServiceUnavailable:
			drain(resp)
			if err := r.wait(ctx, resp, fmt.Sprintf("page %d", pages+1)); err != nil {
				return err
			}
		case http.StatusConflict:
			drain(resp)
			return fmt.Errorf("NextDocument: HTTP 409: %w", ErrBusy)
		default:
			drain(resp)
			return fmt.Errorf("NextDocument: HTTP %d: %w", resp.StatusCode, ErrDevice)
		}
	}
}

// chooseSettings picks the job's settings from what the scanner offers, or says why it
// cannot scan as asked.
func chooseSettings(caps Capabilities, set Settings) (scanSettings, error) {
	s := scanSettings{Version: caps.Version, DPI: set.dpi(), Source: "Feeder", Duplex: !set.Simplex}
	if s.Version == "" {
		s.Version = "2.0"
	}
	var in *Input
	switch {
	case !set.Simplex:
		if in = caps.FeederDuplex; in == nil {
			return s, fmt.Errorf("no duplex feeder in the capabilities: %w", ErrNoDuplex)
		}
	case caps.Feeder != nil:
		in = caps.Feeder
	case caps.Platen != nil:
		in, s.Source = caps.Platen, "Platen"
	default:
		return s, fmt.Errorf("neither feeder nor platen in the capabilities: %w", ErrProtocol)
	}
	s.ColorMode = "RGB24"
	if set.Gray {
		s.ColorMode = "Grayscale8"
	}
	if len(in.ColorModes) > 0 && !slices.Contains(in.ColorModes, s.ColorMode) {
		if !set.Gray {
			return s, fmt.Errorf("colour modes %v: %w", in.ColorModes, ErrNoColor)
		}
		s.ColorMode = "RGB24" // grey was asked as a saving; colour will do
	}
	if !in.Offers(s.DPI) {
		return s, fmt.Errorf("%d dpi not offered (%v, %d..%d): %w", s.DPI, in.Resolutions, in.MinDPI, in.MaxDPI, ErrResolution)
	}
	if len(in.Formats) == 0 {
		s.Format = "image/jpeg"
	}
	for _, f := range formatPreference {
		if s.Format == "" && slices.Contains(in.Formats, f) {
			s.Format = f
		}
	}
	if s.Format == "" {
		return s, fmt.Errorf("formats %v: none of %v: %w", in.Formats, formatPreference, ErrProtocol)
	}
	s.FormatExt = in.FormatsExt
	switch {
	case len(in.Intents) == 0 || slices.Contains(in.Intents, "Document"):
		s.Intent = "Document"
	case slices.Contains(in.Intents, "TextAndGraphic"):
		s.Intent = "TextAndGraphic"
	}
	s.Width, s.Height = in.MaxWidth, in.MaxHeight
	return s, nil
}

// createJob posts the scan settings and returns the job's URL.
func (e ESCL) createJob(ctx context.Context, s scanSettings) (string, error) {
	r := e.retrier()
	for {
		resp, err := e.do(ctx, http.MethodPost, e.base()+"/ScanJobs", s.xml())
		if err != nil {
			return "", err
		}
		drain(resp)
		switch resp.StatusCode {
		case http.StatusCreated, http.StatusOK:
			job, err := e.jobURL(resp.Header.Get("Location"))
			if err != nil {
				return "", err
			}
			return job, nil
		case http.StatusServiceUnavailable:
			if err := r.wait(ctx, resp, "ScanJobs"); err != nil {
				return "", e.explain(ctx, s.Source, err)
			}
		case http.StatusConflict:
			return "", e.explain(ctx, s.Source, fmt.Errorf("POST ScanJobs: HTTP 409: %w", ErrBusy))
		default:
			return "", e.explain(ctx, s.Source, fmt.Errorf("POST ScanJobs: HTTP %d: %w", resp.StatusCode, ErrDevice))
		}
	}
}

// jobURL makes the job's URL from the Location header. Only its path is taken: devices
// answer with localhost or an address of another interface, and the client talks to the
// host it was configured with, nowhere else.
func (e ESCL) jobURL(location string) (string, error) {
	if location == "" {
		return "", fmt.Errorf("ScanJobs: no Location: %w", ErrProtocol)
	}
	base, err := url.Parse(e.base() + "/ScanJobs")
	if err != nil {
		return "", err
	}
	loc, err := url.Parse(location)
	if err != nil {
		return "", fmt.Errorf("ScanJobs: Location unreadable: %w", ErrProtocol)
	}
	u := base.ResolveReference(loc)
	u.Scheme, u.Host, u.User, u.RawQuery, u.Fragment = base.Scheme, base.Host, base.User, "", ""
	if strings.Trim(u.Path, "/") == "" {
		return "", fmt.Errorf("ScanJobs: Location without a path: %w", ErrProtocol)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// batchEnd tells the normal end of a batch from a feeder that held no paper or jammed.
func (e ESCL) batchEnd(ctx context.Context, pages int) error {
	st, err := e.Status(ctx)
	if err != nil {
		if pages > 0 {
			return nil // the pages came; the status was only to explain a failure
		}
		return fmt.Errorf("no document, status unknown (%v): %w", err, ErrNoPages)
	}
	if f := adfFault(st.ADF); f != nil && !errors.Is(f, ErrFeederEmpty) {
		return fmt.Errorf("after %d pages: AdfState %s: %w", pages, st.ADF, f)
	}
	if pages > 0 {
		return nil
	}
	if st.ADF == "ScannerAdfEmpty" {
		return fmt.Errorf("no document: AdfState %s: %w", st.ADF, ErrFeederEmpty)
	}
	return fmt.Errorf("no document: State %s, AdfState %s: %w", st.State, st.ADF, ErrNoPages)
}

// explain replaces a refused job's error with what the scanner's status says, where it
// says something the user can act on (no paper, a jam).
func (e ESCL) explain(ctx context.Context, source string, err error) error {
	if source != "Feeder" {
		return err
	}
	st, serr := e.Status(ctx)
	if serr != nil {
		return err
	}
	if f := adfFault(st.ADF); f != nil {
		return fmt.Errorf("%v; AdfState %s: %w", err, st.ADF, f)
	}
	return err
}

// adfFault maps an AdfState (eSCL) to an error, nil for a usable feeder.
func adfFault(state string) error {
	switch {
	case state == "ScannerAdfEmpty":
		return ErrFeederEmpty
	case strings.Contains(state, "Jam"), strings.Contains(state, "Mispick"), strings.Contains(state, "Multipick"):
		return ErrJam
	case strings.Contains(state, "HatchOpen"):
		return ErrCoverOpen
	}
	return nil
}

// deleteJob cancels the job at the scanner, also when ctx is already cancelled.
func (e ESCL) deleteJob(ctx context.Context, job string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if resp, err := e.do(ctx, http.MethodDelete, job, nil); err == nil {
		drain(resp)
	}
}

func (e ESCL) do(parent context.Context, method, u string, body []byte) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(parent, requestTimeout)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		cancel()
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/xml")
	}
	resp, err := e.client().Do(req)
	if err != nil {
		cancel()
		if parent.Err() != nil {
			return nil, parent.Err()
		}
		return nil, fmt.Errorf("%s %s: %v: %w", method, u, err, ErrDevice)
	}
	resp.Body = &cancelOnClose{resp.Body, cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// drain reads a little of an unwanted body, so that the connection can be reused, and
// closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func readBounded(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrDevice)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("response over %d MiB: %w", limit>>20, ErrTooLarge)
	}
	return data, nil
}

// extension names a document by its Content-Type, or by the format asked for where the
// device sends none or a strange one.
func extension(contentType, asked string) string {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		if ext, ok := formatExt[mt]; ok {
			return ext
		}
	}
	return formatExt[asked]
}

// retrier paces the retries after 503: from RetryDelay, doubling to maxRetryDelay, or as
// Retry-After says; it gives up after maxUnready without progress.
type retrier struct {
	first, delay time.Duration
	since        time.Time
}

func (e ESCL) retrier() *retrier {
	d := e.RetryDelay
	if d <= 0 {
		d = 500 * time.Millisecond
	}
	return &retrier{first: d, delay: d, since: time.Now()}
}

func (r *retrier) progress() { r.delay, r.since = r.first, time.Now() }

func (r *retrier) wait(ctx context.Context, resp *http.Response, what string) error {
	if time.Since(r.since) > maxUnready {
		return fmt.Errorf("%s: HTTP 503 for %v: %w", what, maxUnready, ErrBusy)
	}
	d := r.delay
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		d = min(time.Duration(s)*time.Second, maxRetryDelay)
	}
	r.delay = min(2*r.delay, maxRetryDelay)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
