//! `shared`'s integration tests: model maths against hand-written
//! references, and properties of the naming rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration test code"
)]

mod gpu_layouts;
mod model_math;
mod naming_props;
mod recorded_settings;
