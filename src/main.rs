//! The `jcrpack` binary: everything lives in the library; see `jcrpack::cli`.

fn main() {
    std::process::exit(jcrpack::cli::main());
}
