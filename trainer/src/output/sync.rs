//! What `sync` prints: each model's decision, then what was trained.

use crate::sync::SyncReport;

pub fn print_sync(report: &SyncReport, dry_run: bool) {
    println!("data: {}", report.data);
    let todo = report
        .decisions
        .iter()
        .filter(|d| d.action.is_some())
        .count();
    for d in &report.decisions {
        let what = match d.action {
            Some(crate::training::Succession::FineTune) => "fine-tune",
            Some(crate::training::Succession::Retrain) => "retrain",
            None => "keep",
        };
        println!("{what:<10} {:<40} {}", d.current, d.why);
    }
    if dry_run {
        println!(
            "{todo} of {} models would be retrained (dry run: nothing trained)",
            report.decisions.len()
        );
        return;
    }
    for t in &report.tasks {
        let state = format!("{:?}", t.state).to_lowercase();
        let kept = t.kept.as_deref().unwrap_or("-");
        let mase = t
            .trained
            .iter()
            .map(|r| format!("{} {:.3}", r.prefix, r.mase.unwrap_or(f64::NAN)))
            .collect::<Vec<_>>()
            .join(", ");
        println!("{state:<8} {} -> {kept} (val MASE: {mase})", t.parent);
        if let Some(note) = &t.note {
            println!("         {note}");
        }
        for m in &t.alias_moves {
            println!(
                "         alias {} {} {} (newest weeks MASE {:.3} vs {:.3})",
                m.name,
                if m.moved { "moved to" } else { "stays on" },
                if m.moved { &m.to } else { &m.from },
                m.new_mase,
                m.old_mase
            );
        }
        if let Some(e) = &t.error {
            println!("         error: {e}");
        }
    }
    for m in &report.stale_aliases {
        println!(
            "alias {} on {} (older than the newest version): {} {} (newest weeks MASE {:.3} vs {:.3})",
            m.name,
            m.from,
            if m.moved { "moved to" } else { "stays, not beaten by" },
            m.to,
            m.new_mase,
            m.old_mase
        );
    }
    if let Some(j) = &report.journal {
        let done = report
            .tasks
            .iter()
            .filter(|t| t.state == crate::batch::TaskState::Done)
            .count();
        println!(
            "{done} of {} models retrained; journal {}",
            report.tasks.len(),
            j.display()
        );
    }
}
