use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use Component::{Additive as A, Multiplicative as M, None as N};

const PATTERN: [f64; 7] = [12.0, -3.0, -5.0, 0.0, 4.0, -10.0, 2.0];

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

fn spec(error: Component, trend: Component, damped: bool, season: Component) -> EtsSpec {
    EtsSpec {
        error,
        trend,
        damped,
        season,
    }
}

/// Simulates ETS(A,N,A) with errors of standard deviation `sd`.
fn ana(n: usize, sd: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (alpha, gamma) = (0.2, 0.1);
    let mut l = 100.0;
    let mut s = PATTERN.to_vec();
    (0..n)
        .map(|t| {
            let e = sd * normal(&mut rng);
            let y = l + s[t % 7] + e;
            l += alpha * e;
            s[t % 7] += gamma * e;
            y
        })
        .collect()
}

#[test]
fn noiseless_seasonal_series_is_recovered() {
    let y = ana(140, 0.0, 0);
    for model in [
        fit_ets(&y, 7, spec(A, N, false, A)).unwrap(),
        auto_ets(&y, 7).unwrap(),
    ] {
        assert_ne!(model.spec().season, N, "{}", model.name());
        let f = model.forecast(14);
        for (h, v) in f.iter().enumerate() {
            let truth = 100.0 + PATTERN[(140 + h) % 7];
            assert!(
                (v - truth).abs() < 1e-3,
                "{} h={h}: {v} vs {truth}",
                model.name()
            );
        }
    }
}

#[test]
fn noiseless_trend_is_recovered() {
    // ETS(A,A,N) with zero errors: a straight line.
    let y: Vec<f64> = (0..60).map(|t| 50.0 + 1.5 * t as f64).collect();
    let model = fit_ets(&y, 7, spec(A, A, false, N)).unwrap();
    for (h, v) in model.forecast(10).iter().enumerate() {
        let truth = 50.0 + 1.5 * (60 + h) as f64;
        assert!((v - truth).abs() < 1e-3, "h={h}: {v} vs {truth}");
    }
}

#[test]
fn selection_follows_the_data() {
    let seasonal = ana(300, 1.0, 1);
    let model = auto_ets(&seasonal, 7).unwrap();
    assert_ne!(model.spec().season, N, "{}", model.name());
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let noise: Vec<f64> = (0..300).map(|_| 40.0 + 3.0 * normal(&mut rng)).collect();
    let model = auto_ets(&noise, 7).unwrap();
    assert_eq!(model.spec().season, N, "{}", model.name());
    assert_eq!(model.spec().trend, N, "{}", model.name());
    // close to the mean, not chasing the last points
    assert!(model.forecast(7).iter().all(|v| (v - 40.0).abs() < 1.5));
}

#[test]
fn multiplicative_forms_need_positive_data() {
    let mut y = ana(120, 1.0, 3);
    y[50] = 0.0;
    let model = auto_ets(&y, 7).unwrap();
    assert_eq!(model.spec().error, A, "{}", model.name());
    assert_ne!(model.spec().season, M, "{}", model.name());
    assert!(matches!(
        fit_ets(&y, 7, spec(M, N, false, N)),
        Err(EtsError::Unsupported(_))
    ));
    assert!(matches!(
        fit_ets(&y, 7, spec(A, N, false, M)),
        Err(EtsError::Unsupported(_))
    ));
}

#[test]
fn bad_input_is_an_error() {
    assert_eq!(auto_ets(&[], 7).unwrap_err(), EtsError::TooShort(0));
    assert_eq!(
        auto_ets(&[1.0, 2.0, 3.0], 7).unwrap_err(),
        EtsError::TooShort(3)
    );
    let mut y = ana(50, 1.0, 4);
    y[10] = f64::NAN;
    assert_eq!(auto_ets(&y, 7).unwrap_err(), EtsError::NonFinite(10));
    y[10] = f64::INFINITY;
    assert_eq!(auto_ets(&y, 7).unwrap_err(), EtsError::NonFinite(10));
    // a few points: only small non-seasonal forms fit, no panic
    let short = [3.0, 5.0, 4.0, 6.0, 5.0, 7.0, 6.0, 8.0];
    assert_eq!(auto_ets(&short, 7).unwrap().spec().season, N);
    // constant: forecasts the constant
    let flat = auto_ets(&[5.0; 30], 7).unwrap();
    assert!(flat.forecast(3).iter().all(|v| (v - 5.0).abs() < 1e-9));
}

#[test]
fn quantiles_are_ordered_widen_and_centre_on_the_point() {
    let y: Vec<f64> = ana(200, 2.0, 5).iter().map(|v| v + 50.0).collect();
    let levels = [0.05, 0.1, 0.5, 0.9, 0.95];
    let forms = [
        spec(A, N, false, A),
        spec(A, A, true, A),
        spec(M, N, false, N),
        spec(M, A, true, A),
        spec(M, A, true, M),
    ];
    for form in forms.into_iter().chain([auto_ets(&y, 7).unwrap().spec()]) {
        let model = fit_ets(&y, 7, form).unwrap();
        let q = model.quantiles(14, &levels);
        assert_eq!(q[2], model.forecast(14), "{}", model.name());
        for pair in q.windows(2) {
            assert!(
                pair[1].iter().zip(&pair[0]).all(|(hi, lo)| hi > lo),
                "{}",
                model.name()
            );
        }
        let width: Vec<f64> = (0..14).map(|h| q[4][h] - q[0][h]).collect();
        // Additive errors: widths grow every step. Multiplicative errors
        // scale with the (seasonal) level: compare the same weekday.
        if model.spec().error == A {
            assert!(
                width.windows(2).all(|w| w[1] >= w[0]),
                "{} {:?}",
                model.name(),
                width
            );
        }
        for h in 0..7 {
            assert!(width[h + 7] > width[h], "{} {:?}", model.name(), width);
        }
    }
}

#[test]
fn additive_variance_matches_the_closed_form() {
    // Hyndman et al. (2008) Table 6.1, ETS(A,Ad,A).
    let y = ana(200, 2.0, 6);
    let model = fit_ets(&y, 7, spec(A, A, true, A)).unwrap();
    let Params {
        alpha: a,
        beta: b,
        gamma: g,
        phi: p,
    } = model.params();
    let m = 7.0;
    for (i, v) in model.variances(20).iter().enumerate() {
        let h = (i + 1) as f64;
        let k = ((h - 1.0) / m).floor();
        let closed =
            1.0 + a * a * (h - 1.0) + b * p * h / (1.0 - p).powi(2) * (2.0 * a * (1.0 - p) + b * p)
                - b * p * (1.0 - p.powf(h)) / ((1.0 - p).powi(2) * (1.0 - p * p))
                    * (2.0 * a * (1.0 - p * p) + b * p * (1.0 + 2.0 * p - p.powf(h)))
                + g * k * (2.0 * a + g)
                + 2.0 * b * g * p / ((1.0 - p) * (1.0 - p.powf(m)))
                    * (k * (1.0 - p.powf(m)) - p.powf(m) * (1.0 - p.powf(m * k)));
        assert!(
            (v / model.sigma2() - closed).abs() < 1e-9 * closed,
            "h={h}: {} vs {closed}",
            v / model.sigma2()
        );
    }
}

#[test]
fn refilter_continues_without_refitting() {
    let y = ana(200, 1.0, 7);
    let model = auto_ets(&y[..180], 7).unwrap();
    let same = model.refilter(&y[..180]).unwrap();
    assert_eq!(same.forecast(7), model.forecast(7));
    let later = model.refilter(&y[..193]).unwrap();
    assert_eq!(
        (later.n_obs(), later.name(), later.params()),
        (193, model.name(), model.params())
    );
    for (h, v) in later.forecast(7).iter().enumerate() {
        assert!((v - y[193 + h]).abs() < 5.0, "h={h}: {v} vs {}", y[193 + h]);
    }
}

#[test]
fn forecasts_at_every_origin_equal_a_refilter_to_it() {
    let y = ana(200, 1.0, 7);
    let model = auto_ets(&y[..150], 7).unwrap();
    let origins = [150, 151, 170, 193, 200];
    let at = model.forecasts_at(&y, &origins, 7);
    for (o, f) in origins.iter().zip(&at) {
        assert_eq!(
            f,
            &model.refilter(&y[..*o]).unwrap().forecast(7),
            "origin {o}"
        );
    }
}

#[test]
fn inverse_normal_known_values() {
    assert_eq!(inverse_normal_cdf(0.5), 0.0);
    for (p, z) in [
        (0.975, 1.959963985),
        (0.9, 1.281551566),
        (0.01, -2.326347874),
        (0.999, 3.090232306),
    ] {
        assert!((inverse_normal_cdf(p) - z).abs() < 1e-8, "{p}");
    }
}
