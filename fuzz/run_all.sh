#!/bin/sh
# Runs fuzz targets one after another, niced, each for SECONDS (default 600), on
# stable Rust without a sanitizer. Run from anywhere; logs go to fuzz/logs/.
# Usage: fuzz/run_all.sh [SECONDS] [TARGET...]
set -u
cd "$(dirname "$0")/.."
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-"docview_value docview_document zip_reader zip_headers filter_xml cnd properties_xml sysview platform_name"}
mkdir -p fuzz/logs
for t in $targets; do
    mkdir -p "fuzz/corpus/$t"
    nice -n 19 cargo fuzz run -s none "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        > "fuzz/logs/$t.log" 2>&1
    echo "$t exit $?" >> fuzz/logs/summary.txt
done
