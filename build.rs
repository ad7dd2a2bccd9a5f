//! Link settings that shorten the start of every `jcrpack` process (issue 16).
//!
//! On Linux with glibc, Rust's standard library links the unwinder from
//! `libgcc_s.so.1`. Loading that library costs a mapping and its relocations,
//! and its constructor (`__cpu_indicator_init`) asks the processor for its
//! features with 12 `cpuid` instructions, which a virtual machine traps: about
//! 15 µs each on the benchmark machine, nested virtualisation. Nothing in
//! jcrpack reads what that constructor finds. So the unwinder is linked
//! statically from `libgcc_eh.a` (the archive GCC itself links static programs
//! with; it comes with every GCC that can link C): a linker script named
//! `libgcc_s.so` in a folder searched first says `INPUT(-lgcc_eh)`. Panics
//! unwind, `catch_unwind` catches and backtraces print as before (the tests
//! that panic on purpose run in binaries linked the same way).
//!
//! Measured per start (`jcrpack --version`, `perf stat -r 150`, three rounds
//! against the same build linked with `libgcc_s.so.1`): see the commit that
//! added this file.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || target_env != "gnu" {
        return;
    }
    let Some(out) = env::var_os("OUT_DIR") else {
        return;
    };
    let dir = PathBuf::from(out).join("static-unwinder");
    let script = dir.join("libgcc_s.so");
    if let Err(e) = fs::create_dir_all(&dir).and_then(|()| fs::write(&script, "INPUT(-lgcc_eh)\n"))
    {
        // Without the script the unwinder is linked as before: slower to start,
        // the same program.
        println!(
            "cargo:warning=cannot write {}: {e}; linking libgcc_s.so.1",
            script.display()
        );
        return;
    }
    println!("cargo:rustc-link-search=native={}", dir.display());
}
