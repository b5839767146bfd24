//! The CSV loader never panics, and what it accepts obeys the data rules
//! (ARCHITECTURE.md, Data).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(loaded) = shoptrain_trainer::data::parse_csv(data, "fuzz.csv", None) {
        for row in &loaded.dataset.rows {
            assert!(!row.store.is_empty() && !row.product.is_empty());
            assert!(row.values.iter().all(|v| v.is_finite()));
            assert!(row.values[0] >= 0.0);
        }
        assert!(loaded.date_min <= loaded.date_max);
    }
});
