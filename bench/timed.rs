//! `timed OUT [--nice N] -- COMMAND [ARG...]`: runs COMMAND (stdin, stdout and
//! stderr inherited) and writes to OUT one line of JSON: the wall seconds from the
//! spawn to the reaping of the command itself, its peak RSS in KiB and its user and
//! system CPU seconds (the rusage `wait4` returns for it, what `/usr/bin/time -v`
//! reports), and its exit code (128 + N for a signal N). bench/run compiles it with
//! `rustc -O` (std only) and times every command through it: a run is measured
//! without the exec of `nice` and `/usr/bin/time` around it (2 to 4 ms, a third of
//! a 10 ms command), and the command's peak RSS starts from this small process's,
//! not from Python's.

use std::process::{exit, Command};
use std::time::Instant;

/// `struct rusage` on 64-bit Linux: two `timeval`s then fourteen `long`s.
#[repr(C)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    maxrss: i64,
    rest: [i64; 13],
}

extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut Rusage) -> i32;
    fn setpriority(which: i32, who: u32, prio: i32) -> i32;
}

fn usage() -> ! {
    eprintln!("usage: timed OUT [--nice N] -- COMMAND [ARG...]");
    exit(2)
}

fn seconds(tv: [i64; 2]) -> f64 {
    tv[0] as f64 + tv[1] as f64 / 1e6
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else { usage() };
    let mut i = 1;
    let mut nice = 0;
    while i < args.len() && args[i] != "--" {
        match args[i].as_str() {
            "--nice" => {
                nice = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or_else(|| usage());
                i += 2;
            }
            _ => usage(),
        }
    }
    if i + 1 >= args.len() {
        usage();
    }
    // PRIO_PROCESS of this process (0): the command inherits it.
    if nice != 0 && unsafe { setpriority(0, 0, nice) } != 0 {
        eprintln!("timed: setpriority: {}", std::io::Error::last_os_error());
        exit(125);
    }
    let start = Instant::now();
    let child = match Command::new(&args[i + 1]).args(&args[i + 2..]).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("timed: {}: {e}", args[i + 1]);
            exit(127);
        }
    };
    let mut status = 0;
    let mut ru = Rusage { utime: [0; 2], stime: [0; 2], maxrss: 0, rest: [0; 13] };
    loop {
        let r = unsafe { wait4(child.id() as i32, &mut status, 0, &mut ru) };
        if r >= 0 {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            eprintln!("timed: wait4: {e}");
            exit(125);
        }
    }
    let wall = start.elapsed().as_secs_f64();
    // WIFEXITED / WEXITSTATUS / WTERMSIG of Linux's status word.
    let code = if status & 0x7f == 0 { (status >> 8) & 0xff } else { 128 + (status & 0x7f) };
    let line = format!(
        "{{\"seconds\": {wall:.6}, \"maxrss_kib\": {}, \"user_s\": {:.6}, \"system_s\": {:.6}, \"rc\": {code}}}\n",
        ru.maxrss,
        seconds(ru.utime),
        seconds(ru.stime)
    );
    if let Err(e) = std::fs::write(out, line) {
        eprintln!("timed: {out}: {e}");
        exit(125);
    }
    exit(code)
}
