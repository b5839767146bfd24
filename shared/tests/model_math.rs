//! The models' maths checked against independent, slow implementations.

use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shoptrain_shared::models::kan::{b_spline_bases, KanConfig};
use shoptrain_shared::models::mlstm::{causal_mask, mlstm_parallel};

fn random(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * scale)
        .collect()
}

/// The mLSTM recurrence, one step at a time, stabilised as in xLSTM.
fn mlstm_recurrent(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    ig: &[f32],
    fg: &[f32],
    t: usize,
    d: usize,
) -> Vec<f32> {
    let mut c = vec![0f64; d * d];
    let mut n = vec![0f64; d];
    let mut m = f64::NEG_INFINITY;
    let mut out = vec![0f32; t * d];
    let scale = 1.0 / (d as f64).sqrt();
    for s in 0..t {
        let f_pre = fg[s] as f64;
        let log_f = -(1.0 + (-f_pre).exp()).ln();
        let i_pre = ig[s] as f64;
        let m_new = (log_f + m).max(i_pre);
        let i_gate = (i_pre - m_new).exp();
        let f_gate = if m == f64::NEG_INFINITY {
            0.0
        } else {
            (log_f + m - m_new).exp()
        };
        for a in 0..d {
            for b in 0..d {
                c[a * d + b] = f_gate * c[a * d + b]
                    + i_gate * v[s * d + a] as f64 * k[s * d + b] as f64 * scale;
            }
            n[a] = f_gate * n[a] + i_gate * k[s * d + a] as f64 * scale;
        }
        m = m_new;
        let nq: f64 = (0..d).map(|a| n[a] * q[s * d + a] as f64).sum();
        let denom = nq.abs().max((-m).exp());
        for a in 0..d {
            let cq: f64 = (0..d).map(|b| c[a * d + b] * q[s * d + b] as f64).sum();
            out[s * d + a] = (cq / denom) as f32;
        }
    }
    out
}

#[test]
fn parallel_mlstm_equals_the_recurrence() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (b, h, t, d) = (2, 3, 12, 4);
    let dev = Device::Cpu;
    let q = random(&mut rng, b * h * t * d, 1.0);
    let k = random(&mut rng, b * h * t * d, 1.0);
    let v = random(&mut rng, b * h * t * d, 1.0);
    let ig = random(&mut rng, b * h * t, 3.0);
    let fg = random(&mut rng, b * h * t, 4.0);
    let tensor = |x: &Vec<f32>, shape: &[usize]| Tensor::from_slice(x, shape, &dev).unwrap();
    let out = mlstm_parallel(
        &tensor(&q, &[b, h, t, d]),
        &tensor(&k, &[b, h, t, d]),
        &tensor(&v, &[b, h, t, d]),
        &tensor(&ig, &[b, h, t]),
        &tensor(&fg, &[b, h, t]),
        &causal_mask(t, candle_core::DType::F32, &dev).unwrap(),
    )
    .unwrap()
    .flatten_all()
    .unwrap()
    .to_vec1::<f32>()
    .unwrap();
    for bh in 0..b * h {
        let (o4, o3) = (bh * t * d, bh * t);
        let expected = mlstm_recurrent(
            &q[o4..o4 + t * d],
            &k[o4..o4 + t * d],
            &v[o4..o4 + t * d],
            &ig[o3..o3 + t],
            &fg[o3..o3 + t],
            t,
            d,
        );
        for (e, p) in expected.iter().zip(&out[o4..o4 + t * d]) {
            assert!((e - p).abs() < 1e-5, "recurrent {e} vs parallel {p}");
        }
    }
}

#[test]
fn b_spline_bases_match_hand_values() {
    // Grid 5 on [-3, 3] (h = 1.2), order 3: knots -6.6, -5.4, ..., 6.6.
    let cfg = KanConfig::new(1, 1, 1);
    let knots = cfg.knots();
    assert_eq!(knots.len(), 12);
    assert!((knots[0] + 6.6).abs() < 1e-9 && (knots[11] - 6.6).abs() < 1e-9);
    // x on a knot (x = knots[5] = -0.6): cubic bases there are 1/6, 2/3, 1/6.
    let x = Tensor::new(&[[-0.6f32, 0.0]], &Device::Cpu).unwrap();
    let b = b_spline_bases(&x, &knots, 3).unwrap();
    assert_eq!(b.dims(), &[1, 2, 8]);
    let b = b.to_dtype(DType::F32).unwrap().to_vec3::<f32>().unwrap();
    let on_knot = &b[0][0];
    let expected = [0.0, 0.0, 1.0 / 6.0, 2.0 / 3.0, 1.0 / 6.0, 0.0, 0.0, 0.0];
    for (e, got) in expected.iter().zip(on_knot) {
        assert!((e - got).abs() < 1e-5, "{on_knot:?}");
    }
    // x = 0 is half-way between knots -0.6 and 0.6: u = 0.5 gives
    // (1-u)^3/6, (3u^3-6u^2+4)/6, (-3u^3+3u^2+3u+1)/6, u^3/6.
    let mid = &b[0][1];
    let u = 0.5f32;
    let expected = [
        (1.0 - u).powi(3) / 6.0,
        (3.0 * u.powi(3) - 6.0 * u * u + 4.0) / 6.0,
        (-3.0 * u.powi(3) + 3.0 * u * u + 3.0 * u + 1.0) / 6.0,
        u.powi(3) / 6.0,
    ];
    for (e, got) in expected.iter().zip(&mid[2..6]) {
        assert!((e - got).abs() < 1e-5, "{mid:?}");
    }
}

#[test]
fn bases_sum_to_one_inside_the_grid_and_vanish_outside() {
    let cfg = KanConfig::new(1, 1, 1);
    let xs: Vec<f32> = (0..601).map(|i| -3.0 + i as f32 * 0.01).collect();
    let x = Tensor::from_slice(&xs, (1, xs.len()), &Device::Cpu).unwrap();
    let sums = b_spline_bases(&x, &cfg.knots(), 3)
        .unwrap()
        .sum(2)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    for (x, s) in xs.iter().zip(&sums) {
        assert!((s - 1.0).abs() < 1e-5, "sum at {x} is {s}");
    }
    let outside = Tensor::new(&[[-7.0f32, 7.0]], &Device::Cpu).unwrap();
    let s = b_spline_bases(&outside, &cfg.knots(), 3)
        .unwrap()
        .sum_all()
        .unwrap();
    assert_eq!(s.to_scalar::<f32>().unwrap(), 0.0);
}
