//! Charts (feature `plot`): each chart in SVG and PNG, with and without a font.

use agentry_cache_econ::{
    AnalyzeOptions, PriceTable, Ttl, analyze_bytes, plot_causes, plot_compaction, plot_refresh_vs_rewrite,
};

fn check(path: &std::path::Path) {
    let bytes = std::fs::read(path).expect("chart written");
    match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => assert!(String::from_utf8_lossy(&bytes).contains("<svg"), "{}", path.display()),
        _ => assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display()),
    }
}

#[test]
fn every_chart_in_both_formats() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prices = PriceTable::builtin();
    let opus = prices.get("claude-opus-4-7", None).expect("row");
    let log = br#"{"type":"assistant","sessionId":"s","requestId":"r","timestamp":"2026-11-24T10:00:00Z","message":{"id":"m","model":"claude-opus-4-7","usage":{"input_tokens":1,"cache_creation_input_tokens":5000,"output_tokens":1}}}"#;
    let report = analyze_bytes("l", log, &prices, &AnalyzeOptions::default());
    for ext in ["svg", "png"] {
        let refresh = dir.path().join(format!("refresh.{ext}"));
        plot_refresh_vs_rewrite(opus, Ttl::FiveMinutes, 100_000, 5.0, 120.0, &refresh).expect("draws");
        check(&refresh);
        let compaction = dir.path().join(format!("compaction.{ext}"));
        plot_compaction(opus, &compaction).expect("draws");
        check(&compaction);
        let causes = dir.path().join(format!("causes.{ext}"));
        plot_causes(&report, &causes).expect("draws");
        check(&causes);
    }
    assert!(plot_compaction(opus, &dir.path().join("chart.gif")).is_err());
}
