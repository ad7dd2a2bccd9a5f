//! The `jcrpack` binary: everything lives in the library; see `jcrpack::cli`.

fn main() {
    // Freed heap pages go back to the system while the command runs (issue 16):
    // see `jcrpack::heap_trim`. The main thread, which only waits for the
    // command's thread, trims on the interval: no thread of its own is started.
    jcrpack::heap_trim::fix_mmap_threshold();
    let code = jcrpack::cli::main(Some(jcrpack::heap_trim::INTERVAL));
    std::process::exit(code);
}
