//! Charts through plotters: refresh versus rewrite over idle time, the compaction curve, and cost by cause.
//! SVG or PNG by the output file's extension. Text needs a font registered with [`register_font`]; without
//! one, charts are drawn without captions and axis labels rather than failing.

use std::{
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
};

use plotters::{
    coord::Shift,
    prelude::*,
    style::{FontStyle, register_font as plotters_register_font},
};

use crate::{
    analyze::Report,
    error::Error,
    pricing::{ModelPrice, Ttl},
    rules::{compaction, refresh_cost, rewrite_cost},
};

static FONT: AtomicBool = AtomicBool::new(false);

/// Registers TrueType font bytes for chart text (captions, axis labels, legends).
pub fn register_font(bytes: Vec<u8>) -> Result<(), Error> {
    let leaked: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters_register_font("sans-serif", FontStyle::Normal, leaked)
        .map_err(|_| Error::param("font", "bytes", "not a TrueType or OpenType font"))?;
    FONT.store(true, Ordering::Relaxed);
    Ok(())
}

fn has_font() -> bool {
    FONT.load(Ordering::Relaxed)
}

struct Line {
    name: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

fn failed(path: &Path) -> impl Fn(String) -> Error + '_ {
    move |reason| Error::Plot { path: path.to_owned(), reason }
}

fn draw_lines<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    lines: &[Line],
) -> Result<(), Error> {
    let fail = failed(path);
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let x_max = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).fold(1.0f64, f64::max);
    let y_max = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(1e-9f64, f64::max) * 1.1;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if has_font() {
        builder.caption(title, ("sans-serif", 22)).x_label_area_size(40).y_label_area_size(70);
    }
    let mut chart = builder.build_cartesian_2d(0.0..x_max, 0.0..y_max).map_err(|e| fail(e.to_string()))?;
    let mut mesh = chart.configure_mesh();
    if has_font() {
        mesh.x_desc(x_label).y_desc(y_label);
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(|e| fail(e.to_string()))?;
    for line in lines {
        let color = line.color;
        let series = chart
            .draw_series(LineSeries::new(line.points.iter().copied(), color.stroke_width(2)))
            .map_err(|e| fail(e.to_string()))?;
        if has_font() {
            series
                .label(line.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
    }
    if has_font() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| fail(e.to_string()))?;
    }
    root.present().map_err(|e| fail(e.to_string()))
}

fn render_lines(path: &Path, title: &str, x_label: &str, y_label: &str, lines: &[Line]) -> Result<(), Error> {
    let size = (900u32, 560u32);
    match extension(path).as_deref() {
        Some("svg") => {
            draw_lines(SVGBackend::new(path, size).into_drawing_area(), path, title, x_label, y_label, lines)
        }
        Some("png") => draw_lines(
            BitMapBackend::new(path, size).into_drawing_area(),
            path,
            title,
            x_label,
            y_label,
            lines,
        ),
        _ => Err(bad_extension(path)),
    }
}

/// Refresh (write, pings every `tau`, read on return) against rewrite (write twice) over idle time up to
/// `max_minutes`, for one prefix size.
pub fn plot_refresh_vs_rewrite(
    model: &ModelPrice,
    ttl: Ttl,
    prefix_tokens: u64,
    tau: f64,
    max_minutes: f64,
    path: &Path,
) -> Result<(), Error> {
    let steps = 400;
    let mut refresh = Vec::with_capacity(steps + 1);
    let mut rewrite = Vec::with_capacity(steps + 1);
    for i in 0..=steps {
        let t = max_minutes * i as f64 / steps as f64;
        refresh.push((t, refresh_cost(model, ttl, prefix_tokens, t, tau)?.to_f64_lossy()));
        rewrite.push((t, rewrite_cost(model, ttl, prefix_tokens).to_f64_lossy()));
    }
    let lines = [
        Line { name: format!("refresh every {tau} min"), color: BLUE, points: refresh },
        Line { name: "let expire, rewrite".to_owned(), color: RED, points: rewrite },
    ];
    let title = format!("{}: {} prefix tokens", model.id, prefix_tokens);
    render_lines(path, &title, "idle minutes", "USD", &lines)
}

/// The compaction break-even `N*` against the ratio `r = S/N`, warm and cold.
pub fn plot_compaction(model: &ModelPrice, path: &Path) -> Result<(), Error> {
    let mut warm = Vec::new();
    let mut cold = Vec::new();
    for i in 1..=90 {
        let r = f64::from(i) / 100.0;
        warm.push((r, compaction(model, Ttl::FiveMinutes, r, true)?.breakeven_turns));
        cold.push((r, compaction(model, Ttl::FiveMinutes, r, false)?.breakeven_turns));
    }
    let lines = [
        Line { name: "warm cache".to_owned(), color: BLUE, points: warm },
        Line { name: "expired cache".to_owned(), color: RED, points: cold },
    ];
    let title = format!("{}: turns until compaction pays back", model.id);
    render_lines(path, &title, "r = summary / original", "turns", &lines)
}

/// Cache-write cost by cause from an analysis, as bars (blue: written, red: avoidable).
pub fn plot_causes(report: &Report, path: &Path) -> Result<(), Error> {
    let causes: Vec<(String, f64, f64)> = report
        .causes
        .iter()
        .map(|(k, c)| (k.name().to_owned(), c.write_usd.to_f64_lossy(), c.avoidable_usd.to_f64_lossy()))
        .collect();
    let size = (900u32, 560u32);
    match extension(path).as_deref() {
        Some("svg") => draw_bars(SVGBackend::new(path, size).into_drawing_area(), path, &causes),
        Some("png") => draw_bars(BitMapBackend::new(path, size).into_drawing_area(), path, &causes),
        _ => Err(bad_extension(path)),
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
}

fn bad_extension(path: &Path) -> Error {
    Error::Plot { path: path.to_owned(), reason: "the file name must end in .svg or .png".to_owned() }
}

fn draw_bars<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    path: &Path,
    bars: &[(String, f64, f64)],
) -> Result<(), Error> {
    let fail = failed(path);
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let y_max = bars.iter().map(|c| c.1.max(c.2)).fold(1e-9f64, f64::max) * 1.1;
    let n = bars.len().max(1);
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if has_font() {
        builder
            .caption("cache-write cost by cause (blue: written, red: avoidable)", ("sans-serif", 20))
            .x_label_area_size(40)
            .y_label_area_size(70);
    }
    let mut chart = builder.build_cartesian_2d(0.0..n as f64, 0.0..y_max).map_err(|e| fail(e.to_string()))?;
    let names = |x: &f64| bars.get(*x as usize).map(|b| b.0.clone()).unwrap_or_default();
    let mut mesh = chart.configure_mesh();
    if has_font() {
        mesh.x_labels(n + 1).x_label_formatter(&names).y_desc("USD");
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(|e| fail(e.to_string()))?;
    let written = bars
        .iter()
        .enumerate()
        .map(|(i, c)| Rectangle::new([(i as f64 + 0.1, 0.0), (i as f64 + 0.5, c.1)], BLUE.filled()));
    chart.draw_series(written).map_err(|e| fail(e.to_string()))?;
    let avoidable = bars
        .iter()
        .enumerate()
        .map(|(i, c)| Rectangle::new([(i as f64 + 0.5, 0.0), (i as f64 + 0.9, c.2)], RED.filled()));
    chart.draw_series(avoidable).map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(e.to_string()))
}
