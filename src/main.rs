//! The `jcrpack` binary: everything lives in the library; see `jcrpack::cli`.

/// jemalloc on Linux (issue 16): with glibc's malloc, the blocks one thread
/// allocates and another frees (the import's read-ahead, the export's reader and
/// writers) cost arena locks and fastbin consolidation, a fifth of the installing
/// and the reading thread at 1M nodes. Measured in the commit that chose it.
#[cfg(target_os = "linux")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options: unused pages go back to the system after a second, not ten,
/// and at once rather than lazily (the peak resident set is a target too); the
/// heap trimmer purges every arena on its interval besides (`purge` below).
#[cfg(target_os = "linux")]
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: &[u8; 37] = b"dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// Gives every jemalloc arena's unused pages back to the system: what
/// `malloc_trim` does for glibc's heap (which SQLite still uses).
#[cfg(target_os = "linux")]
fn purge() -> bool {
    // "arena.<MALLCTL_ARENAS_ALL>.purge" takes and returns nothing.
    let ctl = c"arena.4096.purge";
    let (none, no_len) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: a NUL-terminated control name; no value is read or written.
    unsafe { tikv_jemalloc_sys::mallctl(ctl.as_ptr(), none, no_len, none, 0) == 0 }
}

fn main() {
    // Freed heap pages go back to the system while the command runs (issue 16):
    // see `jcrpack::heap_trim`. The main thread, which only waits for the
    // command's thread, trims on the interval: no thread of its own is started.
    #[cfg(target_os = "linux")]
    jcrpack::heap_trim::set_allocator_purge(purge);
    jcrpack::heap_trim::fix_mmap_threshold();
    let code = jcrpack::cli::main(Some(jcrpack::heap_trim::INTERVAL));
    std::process::exit(code);
}
