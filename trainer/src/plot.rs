//! The loss curve PNG: train and validation loss per epoch, best epoch marked.
//! Its text is drawn with a font compiled into the binary (Liberation Sans,
//! SIL OFL 1.1, `trainer/assets/fonts/`), so that a server or container
//! without system fonts draws the same picture.

use anyhow::{Context, Result};
use plotters::prelude::*;
use shoptrain_shared::metadata::EpochRecord;
use std::path::Path;
use std::sync::OnceLock;

/// The font family the chart asks for; registered once per process.
const FONT: &str = "sans-serif";

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        let bytes = include_bytes!("../assets/fonts/LiberationSans-Regular.ttf");
        plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_ok()
    });
    anyhow::ensure!(ok, "the embedded font could not be read");
    Ok(())
}

/// `objective` names what was minimised (`ModelMetadata::objective`) for the y axis.
pub fn draw_loss_curve(
    path: &Path,
    title: &str,
    objective: &str,
    history: &[EpochRecord],
    best_epoch: Option<u32>,
) -> Result<()> {
    register_font()?;
    let tmp = crate::atomic::temp_file_beside(path, ".png")?;
    {
        let root = BitMapBackend::new(tmp.path(), (900, 540)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
        let max_epoch = history.iter().map(|h| h.epoch).max().unwrap_or(1).max(2);
        let losses = history
            .iter()
            .flat_map(|h| [h.train_loss, h.val_loss])
            .filter(|v| v.is_finite());
        let top = losses.fold(0.0f64, f64::max).max(1e-6) * 1.08;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
            .margin(16)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(1u32..max_epoch, 0f64..top)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(format!("{objective} (normalised sales)"))
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let series = [("train loss", BLUE, true), ("validation loss", RED, false)];
        for (label, color, train) in series {
            chart
                .draw_series(LineSeries::new(
                    history
                        .iter()
                        .map(|h| (h.epoch, if train { h.train_loss } else { h.val_loss })),
                    color.stroke_width(2),
                ))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        if let Some(best) = best_epoch.and_then(|b| history.iter().find(|h| h.epoch == b)) {
            chart
                .draw_series(std::iter::once(Circle::new(
                    (best.epoch, best.val_loss),
                    7,
                    GREEN.filled(),
                )))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .label(format!(
                    "best epoch {} (val {:.4})",
                    best.epoch, best.val_loss
                ))
                .legend(|(x, y)| Circle::new((x + 9, y), 5, GREEN.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// One line of [`draw_weekly`]: its label, a value per week (gaps allowed)
/// and whether it is drawn dashed (a baseline).
pub struct WeeklyLine {
    pub label: String,
    pub values: Vec<Option<f64>>,
    pub dashed: bool,
}

/// Weekly values as lines over the weeks (`monitor`'s chart).
pub fn draw_weekly(
    path: &Path,
    title: &str,
    y_desc: &str,
    weeks: &[chrono::NaiveDate],
    lines: &[WeeklyLine],
) -> Result<()> {
    register_font()?;
    let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("{e}");
    let tmp = crate::atomic::temp_file_beside(path, ".png")?;
    {
        let root = BitMapBackend::new(tmp.path(), (900, 540)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let top = lines
            .iter()
            .flat_map(|l| l.values.iter().flatten())
            .fold(1.0f64, |m, v| if v.is_finite() { m.max(*v) } else { m })
            * 1.1;
        let last = weeks.len().saturating_sub(1).max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
            .margin(16)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(0usize..last, 0f64..top)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("week (Monday)")
            .y_desc(y_desc)
            .x_labels(weeks.len().min(10))
            .x_label_formatter(&|i| weeks.get(*i).map_or(String::new(), |d| d.to_string()))
            .draw()
            .map_err(|e| fail(&e))?;
        let palette = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
        for (n, line) in lines.iter().enumerate() {
            let color = if line.dashed {
                RGBColor(128, 128, 128)
            } else {
                palette[n % palette.len()]
            };
            let points: Vec<(usize, f64)> = line
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (i, v)))
                .collect();
            let style = color.stroke_width(2);
            let drawn = if line.dashed {
                chart.draw_series(DashedLineSeries::new(points.clone(), 8, 5, style))
            } else {
                chart.draw_series(LineSeries::new(points.clone(), style))
            };
            drawn
                .map_err(|e| fail(&e))?
                .label(line.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .map_err(|e| fail(&e))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
