package loadstat

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tick is the unit of the CPU times in /proc (USER_HZ, 100 a second).
const tick = 10 * time.Millisecond

// SelfCPU is this process's user and system time.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPUTimes are the whole machine's busy and stolen CPU time (/proc/stat).
type CPUTimes struct{ Busy, Steal time.Duration }

// Sub is the CPU time from before to t.
func (t CPUTimes) Sub(before CPUTimes) CPUTimes {
	return CPUTimes{Busy: t.Busy - before.Busy, Steal: t.Steal - before.Steal}
}

// MachineCPU reads the whole machine's CPU time since boot; zero when /proc/stat cannot
// be read.
func MachineCPU() CPUTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var v [8]int64
	for i := range v {
		if i+1 < len(f) {
			fmt.Sscan(f[i+1], &v[i])
		}
	}
	return CPUTimes{Busy: time.Duration(v[0]+v[1]+v[2]+v[5]+v[6]) * tick, Steal: time.Duration(v[7]) * tick}
}

// procStat splits /proc/PID/stat into the process's name and the fields after it (the
// first of them is the state); ok is false when it cannot be read.
func procStat(pid string) (comm string, fields []string, ok bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", nil, false
	}
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i || j+2 > len(s) {
		return "", nil, false
	}
	return s[i+1 : j], strings.Fields(s[j+2:]), true
}

// ticks sums the numbers in fields, in ticks of /proc.
func ticks(fields ...string) time.Duration {
	var sum int64
	for _, f := range fields {
		var n int64
		fmt.Sscan(f, &n)
		sum += n
	}
	return time.Duration(sum) * tick
}

// ProcCPU reads a process's own user and system time and that of its children it has
// waited for (the server's espeak-ng processes); zero when there is no such process.
func ProcCPU(pid int) (own, children time.Duration) {
	if pid <= 0 {
		return 0, 0
	}
	_, f, ok := procStat(strconv.Itoa(pid))
	if !ok || len(f) < 15 {
		return 0, 0
	}
	return ticks(f[11], f[12]), ticks(f[13], f[14])
}

// CPUPressure is the time some task waited for a CPU (/proc/pressure/cpu, "some").
func CPUPressure() time.Duration {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	_, total, ok := strings.Cut(line, "total=")
	if !ok {
		return 0
	}
	us, _ := strconv.ParseInt(strings.TrimSpace(total), 10, 64)
	return time.Duration(us) * time.Microsecond
}

// Loadavg is the machine's load average over 1, 5 and 15 minutes: "0.52 0.41 0.30"; "?"
// when /proc/loadavg cannot be read.
func Loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Proc is a process's name and CPU time.
type Proc struct {
	Comm string
	CPU  time.Duration
}

// Procs is every process's name and CPU time (/proc/PID/stat), by process id.
func Procs() map[int]Proc {
	out := map[int]Proc{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, f, ok := procStat(e.Name())
		if !ok || len(f) < 13 {
			continue
		}
		out[pid] = Proc{Comm: comm, CPU: ticks(f[11], f[12])}
	}
	return out
}

// TopOthers names the processes other than the server and this one that used the most
// CPU between two snapshots of Procs over the time over, summed by name, in cores:
// "cc1 1.20, go 0.31"; "-" when none used 0.05 cores. Processes that started and ended
// between the snapshots (short compiler runs) are not seen.
func TopOthers(before, after map[int]Proc, server int, over time.Duration) string {
	self := os.Getpid()
	by := map[string]time.Duration{}
	for pid, p := range after {
		if pid == self || pid == server {
			continue
		}
		d := p.CPU - before[pid].CPU // a new process: all of its time
		if b, ok := before[pid]; ok && b.Comm != p.Comm {
			d = p.CPU
		}
		if d > 0 {
			by[p.Comm] += d
		}
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return by[names[i]] > by[names[j]] })
	var parts []string
	for _, n := range names[:min(3, len(names))] {
		if c := by[n].Seconds() / over.Seconds(); c >= 0.05 {
			parts = append(parts, fmt.Sprintf("%s %.2f", n, c))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// Sample is the CPU time used up to a moment: this process's, the machine's and, given
// a process id, the server's and its children's.
type Sample struct {
	At               time.Time
	Self             time.Duration
	Machine          CPUTimes
	Server, Children time.Duration // zero without a server process
}

// Take samples the CPU time now; server is the server's process id, 0 for none.
func Take(server int) Sample {
	var s Sample
	s.Server, s.Children = ProcCPU(server)
	s.Self, s.Machine = SelfCPU(), MachineCPU()
	s.At = time.Now()
	return s
}

// Usage is the CPU time used over a run.
type Usage struct {
	Wall             time.Duration
	Self             time.Duration
	Machine          CPUTimes
	Server, Children time.Duration // zero without a server process
}

// Since is the CPU time used from before to s.
func (s Sample) Since(before Sample) Usage {
	return Usage{
		Wall:     s.At.Sub(before.At),
		Self:     s.Self - before.Self,
		Machine:  s.Machine.Sub(before.Machine),
		Server:   s.Server - before.Server,
		Children: s.Children - before.Children,
	}
}

// Cores is d over the wall time of the run, in cores.
func (u Usage) Cores(d time.Duration) float64 {
	return d.Seconds() / u.Wall.Seconds()
}

// PrintCPU prints a result's lines on CPU time, each label padded to width: the server's
// (when it was measured), the load generator's and the whole machine's. children names
// the server's child processes to report with it (as "espeak-ng"); with "" they are left
// out.
func (u Usage) PrintCPU(width int, children string) {
	if u.Server > 0 {
		fmt.Printf("%-*s%.1f s = %.2f cores over the run", width, "server CPU", u.Server.Seconds(), u.Cores(u.Server))
		if children != "" {
			fmt.Printf("; its child processes (%s) %.1f s = %.2f cores", children, u.Children.Seconds(), u.Cores(u.Children))
		}
		fmt.Println()
	}
	fmt.Printf("%-*s%.1f s = %.2f cores over the run (it shares the machine with the server)\n",
		width, "load generator CPU", u.Self.Seconds(), u.Cores(u.Self))
	fmt.Printf("%-*s%.2f cores busy over the run (%d CPUs), steal %.2f",
		width, "machine CPU", u.Cores(u.Machine.Busy), runtime.NumCPU(), u.Cores(u.Machine.Steal))
	if u.Server > 0 {
		if children != "" {
			fmt.Printf("; other than server, its children and load generator %.2f cores", max(0, u.Cores(u.Machine.Busy-u.Server-u.Children-u.Self)))
		} else {
			fmt.Printf("; other than server and load generator %.2f cores", max(0, u.Cores(u.Machine.Busy-u.Server-u.Self)))
		}
	}
	fmt.Println()
}
