//go:build linux

package main

import (
	"encoding/binary"
	"net"
	"syscall"
	"time"
)

// enableStamps asks the kernel to stamp every datagram the socket receives with its
// arrival time (SO_TIMESTAMPNS): the spacing sipload reports is then that of the
// packets on the wire, not that of its own reads, which wait for a CPU like any thread.
func enableStamps(conn *net.UDPConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	return serr
}

// stampOf reads the arrival time from the control messages of a datagram (the oob of
// ReadMsgUDP); ok is false when they hold none.
func stampOf(oob []byte) (at time.Time, ok bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		// struct timespec of a 64-bit kernel: seconds and nanoseconds, 8 bytes each.
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) == 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:]))
			return time.Unix(sec, nsec), true
		}
	}
	return time.Time{}, false
}
