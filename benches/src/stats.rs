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
    fn ratio_needs_a_positive_reference() {
        assert_eq!(ratio(6.0, Some(12.0)), Some(0.5));
        assert_eq!(ratio(6.0, Some(0.0)), None);
        assert_eq!(ratio(6.0, None), None);
    }
}
