// A driver for gimli's addr2line crate, built by bench/gimli.mjs from Debian's
// crate packages (never vendored here): loads one ELF file's DWARF, reads hex
// addresses (one per line) from standard input, and finds each address's
// frames (function names demangled, file, line, column, innermost first)
// in two passes. Prints the frames of the first pass when asked (--print,
// to compare with procmap), else one line with the timings in nanoseconds:
// "load <ns> first <ns> second <ns> frames <count>", as this thread's CPU
// time (the machine it runs on may be shared: wall time would count others' work).
use std::io::{BufRead, Write};

/** This thread's CPU time in nanoseconds. */
fn cpu_ns() -> u128 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as u128 * 1_000_000_000 + t.tv_nsec as u128
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let print = args.iter().any(|a| a == "--print");
    let addrs: Vec<u64> = std::io::stdin()
        .lock()
        .lines()
        .filter_map(|l| l.ok())
        .filter(|l| !l.trim().is_empty())
        .map(|l| u64::from_str_radix(l.trim().trim_start_matches("0x"), 16).expect("hex address"))
        .collect();
    let t0 = cpu_ns();
    let data = std::fs::read(path).expect("read");
    let obj = object::File::parse(&*data).expect("parse ELF");
    let ctx = addr2line::Context::new(&obj).expect("DWARF");
    let load = cpu_ns() - t0;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let mut times = [0u128; 2];
    let mut count = 0usize;
    for pass in 0..2 {
        let t = cpu_ns();
        for &a in &addrs {
            let mut frames = match ctx.find_frames(a) {
                Ok(f) => f,
                Err(_) => continue,
            };
            while let Ok(Some(f)) = frames.next() {
                let name = f.function.as_ref().and_then(|n| n.demangle().ok()).map(|n| n.into_owned());
                count += 1;
                if print && pass == 0 {
                    let (file, line, col) = match f.location {
                        Some(l) => (l.file.unwrap_or("??").to_string(), l.line.unwrap_or(0), l.column.unwrap_or(0)),
                        None => ("??".to_string(), 0, 0),
                    };
                    writeln!(out, "{}\t{}:{}:{}", name.as_deref().unwrap_or("??"), file, line, col).unwrap();
                } else {
                    std::hint::black_box(name);
                }
            }
            if print && pass == 0 {
                writeln!(out).unwrap();
            }
        }
        times[pass] = cpu_ns() - t;
    }
    if !print {
        writeln!(out, "load {} first {} second {} frames {}", load, times[0], times[1], count).unwrap();
    }
}
