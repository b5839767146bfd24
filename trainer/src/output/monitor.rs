//! What `monitor` prints: per model and week, MASE beside seasonal naive.

use super::table_line;
use crate::monitor::MonitorReport;

pub fn print_monitor(report: &MonitorReport) {
    println!("data: {}", report.data);
    println!(
        "{} forecasts recorded, {} scored, {} waiting for their days to be sold",
        report.recorded,
        report.recorded - report.waiting,
        report.waiting
    );
    if report.weeks.is_empty() {
        return;
    }
    println!(
        "{}",
        table_line(&["model", "week", "forecasts", "MASE", "naive", "coverage"])
    );
    for w in &report.weeks {
        let flag = if w.mase > w.seasonal_naive_mase {
            "worse than naive"
        } else {
            ""
        };
        println!(
            "{} {flag}",
            table_line(&[
                w.prefix.clone(),
                w.week.to_string(),
                w.forecasts.to_string(),
                format!("{:.3}", w.mase),
                format!("{:.3}", w.seasonal_naive_mase),
                w.coverage
                    .map_or("-".into(), |c| format!("{:.0}%", c * 100.0)),
            ])
        );
    }
    for d in &report.drifting {
        println!(
            "drifting: {} (worse than seasonal naive in the weeks of {})",
            d.prefix,
            d.weeks
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
