package scanner

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tresen/tresen/internal/errs"
)

// The tests scan from SANE's test backend ("test:0", a virtual frontend tester) through the
// real scanimage. Debian ships the backend disabled (commented out in /etc/sane.d/dll.conf),
// so each test writes a config directory of its own — dll.conf with "test" and a test.conf
// — and points SANE_CONFIG_DIR at it. That directory alone is read: no other backend is
// loaded, and no network scanner is probed.
//
// The backend's document feeder always holds 10 sheets (fixed in the backend, one side
// each: it has no duplex source); its pages are 80 × 100 mm unless test.conf sets the
// geometry; read-status-code in test.conf makes every read fail with a SANE status (a jam,
// an empty feeder), read-delay slows the pages down.

// testBackend returns a SANE for test:0 configured by the test.conf lines given.
func testBackend(t *testing.T, conf ...string) SANE {
	t.Helper()
	if _, err := exec.LookPath("scanimage"); err != nil {
		t.Fatal("scanimage is missing: install the Debian package sane-utils (make test does, through scripts/deps.sh)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dll.conf"), []byte("test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"number_of_devices 2", `test-picture "Color pattern"`}
	if err := os.WriteFile(filepath.Join(dir, "test.conf"), []byte(strings.Join(append(base, conf...), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return SANE{Device: "test:0", Env: []string{"SANE_CONFIG_DIR=" + dir}}
}

// privateTemp points the temporary directory at an empty one of the test's, to check that
// a scan leaves nothing behind there.
func privateTemp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	return dir
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		t.Errorf("%s holds %d entries after the scan, want none (pages must not linger)", dir, len(entries))
	}
}

// pngDPI reads the resolution from a PNG's pHYs chunk (scanimage writes it).
func pngDPI(t *testing.T, data []byte) float64 {
	t.Helper()
	for i := 8; i+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		if typ == "pHYs" && n == 9 && i+17 <= len(data) && data[i+16] == 1 {
			return float64(binary.BigEndian.Uint32(data[i+8:])) * 0.0254
		}
		i += 12 + n
	}
	t.Fatal("PNG without pHYs chunk")
	return 0
}

func TestSANEDevices(t *testing.T) {
	s := testBackend(t)
	got, err := s.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Device{
		{Name: "test:0", Vendor: "Noname", Model: "frontend-tester", Type: "virtual device"},
		{Name: "test:1", Vendor: "Noname", Model: "frontend-tester", Type: "virtual device"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
}

func TestSANEScanBatch(t *testing.T) {
	for _, dpi := range []int{300, 150} {
		t.Run(fmt.Sprint(dpi), func(t *testing.T) {
			tmp := privateTemp(t)
			s := testBackend(t)
			var names []string
			err := s.Scan(context.Background(), Settings{DPI: dpi, Simplex: true}, func(f File) error {
				names = append(names, f.Name)
				img, err := png.Decode(bytes.NewReader(f.Data))
				if err != nil {
					return fmt.Errorf("%s: %v", f.Name, err)
				}
				// 80 × 100 mm at the asked resolution, truncated as the backend does.
				w, h := int(float64(dpi)*80/25.4), int(float64(dpi)*100/25.4)
				if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
					t.Errorf("%s: %d × %d pixels, want %d × %d at %d dpi", f.Name, b.Dx(), b.Dy(), w, h, dpi)
				}
				if got := pngDPI(t, f.Data); math.Abs(got-float64(dpi)) > 0.5 {
					t.Errorf("%s: %.1f dpi in pHYs, want %d", f.Name, got, dpi)
				}
				if !coloured(img) {
					t.Errorf("%s: no coloured pixel, want a colour scan", f.Name)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := 1; i <= 10; i++ {
				want = append(want, fmt.Sprintf("page-%04d.png", i))
			}
			if diff := cmp.Diff(want, names); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
			assertEmpty(t, tmp)
		})
	}
}

func coloured(img image.Image) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if max(r, g, bl)-min(r, g, bl) > 0x4000 {
				return true
			}
		}
	}
	return false
}

func TestSANEScanGray(t *testing.T) {
	s := testBackend(t)
	n := 0
	err := s.Scan(context.Background(), Settings{DPI: 100, Simplex: true, Gray: true}, func(f File) error {
		n++
		img, err := png.Decode(bytes.NewReader(f.Data))
		if err != nil {
			return err
		}
		if img.ColorModel() != color.GrayModel {
			t.Errorf("%s: colour model %T, want grey", f.Name, img.ColorModel())
		}
		return nil
	})
	if err != nil || n != 10 {
		t.Fatalf("Scan: %d pages, %v; want 10, nil", n, err)
	}
}

func TestSANEErrors(t *testing.T) {
	tests := []struct {
		name string
		s    func(t *testing.T) SANE
		set  Settings
		want error
	}{
		{"wrong device", func(t *testing.T) SANE { s := testBackend(t); s.Device = "nosuch:0"; return s }, Settings{Simplex: true}, ErrNotFound},
		{"absent test device", func(t *testing.T) SANE { s := testBackend(t); s.Device = "test:7"; return s }, Settings{Simplex: true}, ErrNotFound},
		// The test backend's feeder scans one side: asking for both must not scan fronts only.
		{"no duplex", func(t *testing.T) SANE { return testBackend(t) }, Settings{}, ErrNoDuplex},
		{"resolution out of range", func(t *testing.T) SANE { return testBackend(t) }, Settings{DPI: 4800, Simplex: true}, ErrResolution},
		{"feeder empty", func(t *testing.T) SANE { return testBackend(t, `read-status-code "SANE_STATUS_NO_DOCS"`) }, Settings{Simplex: true}, ErrFeederEmpty},
		{"jam", func(t *testing.T) SANE { return testBackend(t, `read-status-code "SANE_STATUS_JAMMED"`) }, Settings{Simplex: true}, ErrJam},
		{"cover open", func(t *testing.T) SANE { return testBackend(t, `read-status-code "SANE_STATUS_COVER_OPEN"`) }, Settings{Simplex: true}, ErrCoverOpen},
		{"busy", func(t *testing.T) SANE { return testBackend(t, `read-status-code "SANE_STATUS_DEVICE_BUSY"`) }, Settings{Simplex: true}, ErrBusy},
		{"I/O error", func(t *testing.T) SANE { return testBackend(t, `read-status-code "SANE_STATUS_IO_ERROR"`) }, Settings{Simplex: true}, ErrDevice},
		{"no scanimage", func(t *testing.T) SANE { return SANE{Device: "test:0", Command: "/nonexistent/scanimage"} }, Settings{Simplex: true}, ErrNoScanimage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := privateTemp(t)
			pages := 0
			err := tc.s(t).Scan(context.Background(), tc.set, func(File) error { pages++; return nil })
			if !errors.Is(err, tc.want) {
				t.Fatalf("Scan: %v, want %v", err, tc.want)
			}
			if pages != 0 {
				t.Errorf("%d pages delivered, want none", pages)
			}
			if got, want := errs.Message(err), errs.Message(tc.want); got != want {
				t.Errorf("user message %q, want %q", got, want)
			}
			assertEmpty(t, tmp)
		})
	}
}

func TestSANECallbackErrorStops(t *testing.T) {
	tmp := privateTemp(t)
	s := testBackend(t)
	stop := errors.New("store full")
	n := 0
	err := s.Scan(context.Background(), Settings{DPI: 50, Simplex: true}, func(File) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("Scan: %d pages, %v; want 2 and the callback's error", n, err)
	}
	assertEmpty(t, tmp)
}

// TestSANECancel cancels a slow batch after its first page: scanimage and its helpers go,
// the temporary directory goes, Scan returns the context's error.
func TestSANECancel(t *testing.T) {
	tmp := privateTemp(t)
	// About 0.7 s a page: 8 KiB reads, 100 ms apart.
	s := testBackend(t, "read-limit true", "read-limit-size 8192", "read-delay true", "read-delay-duration 100000")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	start := time.Now()
	err := s.Scan(ctx, Settings{DPI: 50, Simplex: true}, func(f File) error {
		n++
		if _, err := png.Decode(bytes.NewReader(f.Data)); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Scan: %v, want context.Canceled", err)
	}
	if n != 1 {
		t.Errorf("%d pages delivered, want 1", n)
	}
	// The whole batch takes about 7 s; stopping takes at most killGrace.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Scan took %v; the 10-page batch was not stopped", d)
	}
	if left := processesMentioning(t, tmp); len(left) > 0 {
		t.Errorf("processes left running: %v", left)
	}
	assertEmpty(t, tmp)
}

// processesMentioning lists the processes whose command line contains s.
func processesMentioning(t *testing.T, s string) []string {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(s)) {
			found = append(found, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return found
}

// Help texts as backends print them, cut to the options that matter.
const (
	helpFujitsu = `Usage: scanimage [OPTION]...
Options specific to device ` + "`fujitsu:fi-7160:12345'" + `:
  Standard:
    --source Flatbed|ADF Front|ADF Back|ADF Duplex [ADF Front]
        Selects the scan source (such as a document-feeder).
    --mode Lineart|Halftone|Gray|Color [Lineart]
        Selects the scan mode (e.g., lineart, monochrome, or color).
    --resolution 50..600dpi (in steps of 1) [600]
        Sets the resolution of the scanned image.
`
	helpEpson2 = `Options specific to device ` + "`epson2:net:192.0.2.7'" + `:
  Scan Mode:
    --mode Lineart|Gray|Color [Lineart]
        Selects the scan mode (e.g., lineart, monochrome, or color).
    --resolution 75|150|300|600|1200dpi [75]
        Sets the resolution of the scanned image.
  Optional equipment:
    --source Flatbed|Automatic Document Feeder [Flatbed]
        Selects the scan source (such as a document-feeder).
    --adf-mode Simplex|Duplex [inactive]
        Selects the ADF mode (simplex/duplex)
`
	helpBrother = `Options specific to device ` + "`brother4:net1;dev0'" + `:
  Mode:
    --mode Black & White|Gray[Error Diffusion]|True Gray|24bit Color[Fast]|24bit Color [24bit Color[Fast]]
        Select the scan mode
    --resolution 100|150|200|300|400|600|1200dpi [200]
        Sets the resolution of the scanned image.
    --source FlatBed|Automatic Document Feeder(left aligned)|Automatic Document Feeder(left aligned,Duplex) [Automatic Document Feeder(left aligned)]
        Selects the scan source (such as a document-feeder).
`
	helpKVS = `Options specific to device ` + "`kvs1025:KV-S1025C'" + `:
    --mode bw|halftone|gray|color [color]
        Sets the scan mode.
    --resolution 150|200|300|400|500|600dpi [300]
        Sets the resolution of the scanned image.
    --duplex[=(yes|no)] [no]
        Enable duplex (two-sided) scanning
`
	helpFlatbed = `Options specific to device ` + "`genesys:libusb:001:004'" + `:
    --mode Color|Gray [Gray]
        Selects the scan mode (e.g., lineart, monochrome, or color).
    --resolution 4800|2400|1200|600|300|150|100|75dpi [75]
        Sets the resolution of the scanned image.
    --source Flatbed|Transparency Adapter [Flatbed]
        Selects the scan source (such as a document-feeder).
`
	helpGrayOnly = `Options specific to device ` + "`plustek:libusb:001:005'" + `:
    --mode Lineart|Gray [Gray]
        Selects the scan mode (e.g., lineart, monochrome, or color).
    --resolution 50..1200dpi (in steps of 1) [50]
        Sets the resolution of the scanned image.
`
)

func TestChooseOptions(t *testing.T) {
	tests := []struct {
		name string
		help string
		set  Settings
		want []string
		err  error
	}{
		{"fujitsu duplex", helpFujitsu, Settings{}, []string{"--resolution=300", "--mode=Color", "--source=ADF Duplex"}, nil},
		{"fujitsu simplex", helpFujitsu, Settings{Simplex: true}, []string{"--resolution=300", "--mode=Color", "--source=ADF Front"}, nil},
		{"fujitsu 1200 dpi", helpFujitsu, Settings{DPI: 1200}, nil, ErrResolution},
		{"epson2 duplex by adf-mode", helpEpson2, Settings{}, []string{"--resolution=300", "--mode=Color", "--source=Automatic Document Feeder", "--adf-mode=Duplex"}, nil},
		{"epson2 simplex", helpEpson2, Settings{Simplex: true, Gray: true, DPI: 600}, []string{"--resolution=600", "--mode=Gray", "--source=Automatic Document Feeder", "--adf-mode=Simplex"}, nil},
		{"epson2 200 dpi not in list", helpEpson2, Settings{DPI: 200}, nil, ErrResolution},
		{"brother duplex", helpBrother, Settings{}, []string{"--resolution=300", "--mode=24bit Color[Fast]", "--source=Automatic Document Feeder(left aligned,Duplex)"}, nil},
		{"brother simplex", helpBrother, Settings{Simplex: true}, []string{"--resolution=300", "--mode=24bit Color[Fast]", "--source=Automatic Document Feeder(left aligned)"}, nil},
		{"kvs duplex flag", helpKVS, Settings{}, []string{"--resolution=300", "--mode=color", "--duplex=yes"}, nil},
		{"flatbed one page", helpFlatbed, Settings{Simplex: true}, []string{"--resolution=300", "--mode=Color", "--source=Flatbed", "--batch-count=1"}, nil},
		{"flatbed duplex", helpFlatbed, Settings{}, nil, ErrNoDuplex},
		{"no colour", helpGrayOnly, Settings{Simplex: true}, nil, ErrNoColor},
		{"gray only, gray asked", helpGrayOnly, Settings{Simplex: true, Gray: true}, []string{"--resolution=300", "--mode=Gray", "--batch-count=1"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, ok := parseHelp(tc.help)
			if !ok {
				t.Fatal("no device section found")
			}
			got, err := chooseOptions(opts, tc.set)
			if !errors.Is(err, tc.err) {
				t.Fatalf("chooseOptions: %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseHelpWithoutDevice(t *testing.T) {
	if _, ok := parseHelp("Usage: scanimage [OPTION]...\n-d, --device-name=DEVICE   use a given scanner device\n"); ok {
		t.Error("parseHelp found a device section in scanimage's general help")
	}
}
