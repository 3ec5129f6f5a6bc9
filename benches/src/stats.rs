//! Summaries of repeated measurements: median (what the report quotes), min and max.

use serde_json::{json, Value};

/// Median, min and max of one metric over the measured runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Summary {
    /// None for no values: a runtime that produced no sample has no figure, not a zero.
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        Some(Summary { median, min: sorted[0], max: sorted[n - 1], n })
    }

    pub fn to_json(self) -> Value {
        json!({"median": self.median, "min": self.min, "max": self.max, "n": self.n})
    }
}

/// Nearest-rank percentile `p` (0 < p <= 100): the smallest value with at least p % of the values at or below it.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `value / reference`, or None when the reference is missing or zero (no meaningful ratio).
pub fn ratio(value: f64, reference: Option<f64>) -> Option<f64> {
    reference.filter(|r| *r > 0.0).map(|r| value / r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_count_is_the_middle_value() {
        let s = Summary::of(&[9.0, 1.0, 5.0]).expect("values");
        assert_eq!((s.median, s.min, s.max, s.n), (5.0, 1.0, 9.0, 3));
    }

    #[test]
    fn median_of_even_count_averages_the_middle_pair() {
        assert_eq!(Summary::of(&[4.0, 1.0, 3.0, 100.0]).expect("values").median, 3.5);
    }

    #[test]
    fn no_values_no_summary() {
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let values: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(percentile(&values, 99.0), Some(198.0));
        assert_eq!(percentile(&values, 50.0), Some(100.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 99.0), None);
        assert_eq!(percentile(&[1.0], 0.0), None);
    }

    #[test]
    fn ratio_needs_a_positive_reference() {
        assert_eq!(ratio(6.0, Some(12.0)), Some(0.5));
        assert_eq!(ratio(6.0, Some(0.0)), None);
        assert_eq!(ratio(6.0, None), None);
    }
}
