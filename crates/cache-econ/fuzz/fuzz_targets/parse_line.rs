//! Fuzzes the log-line parser: no input may panic, the fast path must agree with the plain parser on every
//! line the plain parser accepts, and the whole analyzer must count every line it cannot read.
#![no_main]

use std::sync::OnceLock;

use agentry_cache_econ::{AnalyzeOptions, PriceTable, analyze_bytes, parse_line, parse_line_fast};
use libfuzzer_sys::fuzz_target;

static PRICES: OnceLock<PriceTable> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let slow = parse_line(data);
    let mut scratch = Vec::new();
    let fast = parse_line_fast(data, &mut scratch);
    if let Ok(slow) = &slow {
        let fast = fast.as_ref().expect("the fast path accepts what the plain parser accepts");
        assert_eq!(slow.as_ref().map(|e| e.usage), fast.as_ref().map(|e| e.usage));
    }
    let report = analyze_bytes("fuzz", data, PRICES.get_or_init(PriceTable::builtin), &AnalyzeOptions::default());
    assert!(report.malformed_lines <= report.lines);
});
