//! The runtime's loader (weights bytes + metadata JSON, as the browser gets
//! them) never panics: a bad bundle is an error, a good one forecasts.
//! Input: 4-byte little-endian metadata length, metadata JSON, weights.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shoptrain_shared::features::Series;
use shoptrain_shared::forecast::Forecaster;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
    let (meta, weights) = rest.split_at(len);
    let Ok(meta) = std::str::from_utf8(meta) else {
        return;
    };
    let Ok(forecaster) = Forecaster::from_bytes(weights, meta) else {
        return;
    };
    // a loaded model forecasts a plain history of the right length
    let window = forecaster.window().min(400);
    let mut csv = String::from("date");
    for f in &forecaster.meta.features {
        csv.push(',');
        csv.push_str(f);
    }
    csv.push('\n');
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for d in 0..window {
        csv.push_str(&(start + chrono::Duration::days(d as i64)).to_string());
        for _ in &forecaster.meta.features {
            csv.push_str(",1");
        }
        csv.push('\n');
    }
    if let Ok(history) = Series::from_csv(&csv) {
        let _ = forecaster.predict(&history);
    }
});
