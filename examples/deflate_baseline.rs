//! Baseline for `jcrpack build`: deflate (level 6) every file of a folder on all
//! cores, with flate2 and rayon, keeping the compressed bytes in memory. Prints the
//! seconds taken and the totals, one JSON object on stdout.
//!
//! Usage: `cargo run --release --example deflate_baseline -- DIR`

use flate2::write::DeflateEncoder;
use flate2::Compression;
use rayon::prelude::*;
use std::io::Write;
use std::time::Instant;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: deflate_baseline DIR");
    let start = Instant::now();
    let files: Vec<std::path::PathBuf> = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    let (bytes_in, bytes_out) = files
        .par_iter()
        .map(|p| {
            let data = std::fs::read(p).expect("read");
            let mut enc =
                DeflateEncoder::new(Vec::with_capacity(data.len() / 2 + 64), Compression::new(6));
            enc.write_all(&data).expect("deflate");
            let out = enc.finish().expect("deflate");
            (data.len() as u64, out.len() as u64)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"seconds\":{seconds:.3},\"files\":{},\"bytes_in\":{bytes_in},\"bytes_out\":{bytes_out},\"threads\":{}}}",
        files.len(),
        rayon::current_num_threads()
    );
}
