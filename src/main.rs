//! The `jcrpack` binary: everything lives in the library; see `jcrpack::cli`.

fn main() {
    // Freed heap pages go back to the system while the command runs (issue 16):
    // see `jcrpack::heap_trim`.
    let trimmer = jcrpack::heap_trim::Trimmer::start(jcrpack::heap_trim::INTERVAL);
    let code = jcrpack::cli::main();
    drop(trimmer);
    std::process::exit(code);
}
