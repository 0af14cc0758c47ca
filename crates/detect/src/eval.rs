//! Evaluation of scores against labels: AUROC, and the confusion matrix,
//! precision, recall and false-positive rate at a threshold.

use serde::Serialize;

/// How a model did on labelled flows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    pub threshold: f64,
    /// Attack flows scored at or above the threshold.
    pub true_positives: u64,
    /// Benign flows scored at or above the threshold.
    pub false_positives: u64,
    pub true_negatives: u64,
    pub false_negatives: u64,
    /// Area under the ROC curve (ties count one half); `None` without
    /// flows of both classes.
    pub auroc: Option<f64>,
}

impl Evaluation {
    /// Evaluates `scores` against `labels` (1 attack, 0 benign).
    pub fn new(scores: &[f64], labels: &[u8], threshold: f64) -> Evaluation {
        let mut e = Evaluation {
            threshold,
            true_positives: 0,
            false_positives: 0,
            true_negatives: 0,
            false_negatives: 0,
            auroc: auroc(scores, labels),
        };
        for (&s, &l) in scores.iter().zip(labels) {
            match (s >= threshold, l == 1) {
                (true, true) => e.true_positives += 1,
                (true, false) => e.false_positives += 1,
                (false, false) => e.true_negatives += 1,
                (false, true) => e.false_negatives += 1,
            }
        }
        e
    }

    /// Of the flows called attacks, the fraction that are (0 when none
    /// were called).
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }

    /// Of the attack flows, the fraction called attacks (the detection rate).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }

    /// Of the benign flows, the fraction called attacks.
    pub fn false_positive_rate(&self) -> f64 {
        ratio(self.false_positives, self.false_positives + self.true_negatives)
    }

    /// A few lines for people.
    pub fn report(&self) -> String {
        let auroc = self.auroc.map_or_else(|| "n/a (one class only)".to_string(), |a| format!("{a:.6}"));
        format!(
            "AUROC {auroc}\n\
             at threshold {t}: precision {p:.4}, recall {r:.4}, false-positive rate {fpr:.4}\n\
             confusion matrix (rows: actual, columns: predicted)\n\
             {blank:>14} {h0:>10} {h1:>10}\n\
             {a0:>14} {tn:>10} {fp:>10}\n\
             {a1:>14} {fn_:>10} {tp:>10}\n",
            t = self.threshold,
            p = self.precision(),
            r = self.recall(),
            fpr = self.false_positive_rate(),
            blank = "",
            h0 = "benign",
            h1 = "attack",
            a0 = "benign",
            a1 = "attack",
            tn = self.true_negatives,
            fp = self.false_positives,
            fn_ = self.false_negatives,
            tp = self.true_positives,
        )
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// AUROC by the rank-sum (Mann-Whitney U) statistic with average ranks for
/// ties: the probability that an attack flow scores above a benign one.
pub fn auroc(scores: &[f64], labels: &[u8]) -> Option<f64> {
    let n = scores.len().min(labels.len());
    let positives = labels[..n].iter().filter(|&&l| l == 1).count();
    let negatives = n - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mean_rank * idx[i..=j].iter().filter(|&&k| labels[k] == 1).count() as f64;
        i = j + 1;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_values() {
        assert_eq!(auroc(&[0.1, 0.2, 0.8, 0.9], &[0, 0, 1, 1]), Some(1.0));
        assert_eq!(auroc(&[0.9, 0.8, 0.2, 0.1], &[0, 0, 1, 1]), Some(0.0));
        assert_eq!(auroc(&[0.5, 0.5], &[0, 1]), Some(0.5));
        // scikit-learn: roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75
        assert_eq!(auroc(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1]), Some(0.75));
        assert_eq!(auroc(&[0.1], &[1]), None);
    }

    #[test]
    fn confusion_and_rates() {
        let e = Evaluation::new(&[0.1, 0.6, 0.7, 0.2, 0.9], &[0, 0, 1, 1, 1], 0.5);
        assert_eq!((e.true_positives, e.false_positives, e.true_negatives, e.false_negatives), (2, 1, 1, 1));
        assert!((e.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert!((e.recall() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(e.false_positive_rate(), 0.5);
        let text = e.report();
        assert!(text.contains("recall 0.6667"), "{text}");
    }
}
