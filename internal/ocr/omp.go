package ocr

// Tesseract runs its neural network on OpenMP threads (Debian builds it with libgomp);
// with one engine per core those threads only wait for each other, spinning: on two cores
// a page took five times as long. OpenMP's switch for that is per thread, so each worker
// keeps its own thread (runtime.LockOSThread) and turns parallel regions off there.

// #cgo LDFLAGS: -lgomp
// void omp_set_max_active_levels(int);
import "C"

// serialOpenMP makes parallel regions started on the calling thread run on it alone.
func serialOpenMP() { C.omp_set_max_active_levels(0) }
