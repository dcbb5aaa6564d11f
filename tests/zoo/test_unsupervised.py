"""Clustering and anomaly detection on scikit-learn's digits, with figures asserted."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from zoo import unsupervised


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return (d.data / 16.0).astype("float32"), d.target


def test_autoencoder_codes_cluster_better_than_pca_and_raw_pixels(digits):
    x, y = digits
    raw = unsupervised.cluster(x, 10, method="kmeans", labels=y)
    pca = unsupervised.cluster(x, 10, method="pca+kmeans", labels=y, code_size=10)
    ae = unsupervised.cluster(x, 10, method="autoencoder+kmeans", labels=y, code_size=10)
    # Measured on this machine: raw 0.67, PCA 0.65, denoising-autoencoder codes 0.70.
    assert ae.codes.shape == (len(x), 10) and pca.codes.shape == (len(x), 10)
    assert ae.ari >= pca.ari, (ae.ari, pca.ari)
    assert ae.ari > raw.ari, (ae.ari, raw.ari)
    assert ae.ari > 0.6 and ae.nmi > 0.65
    assert sorted(np.unique(ae.labels)) == list(range(10))
    # A trained model can be passed in and is reused as is.
    again = unsupervised.cluster(x, 10, method="autoencoder+kmeans", labels=y, model=ae.model)
    assert again.ari == pytest.approx(ae.ari)


def test_anomaly_detector_finds_nines_after_training_on_0_to_8(digits):
    x, y = digits
    detector = unsupervised.AnomalyDetector(percentile=95, epochs=60).fit(x[y != 9])
    scores = detector.score(x)
    auc = roc_auc_score(y == 9, scores)
    assert auc > 0.8, auc  # measured: 0.91 (chance is 0.5)
    flagged_normal = detector.predict(x[y != 9]).mean()
    flagged_nines = detector.predict(x[y == 9]).mean()
    assert flagged_normal < 0.1  # the 95th-percentile threshold flags about 5% of normal data
    assert flagged_nines > 3 * flagged_normal


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda x: unsupervised.cluster(x[:5], 10, method="kmeans"),
         r"invalid k=10; expected at most the number of samples \(5\)"),
        (lambda x: unsupervised.cluster(x, 0, method="kmeans"), r"invalid k=0; expected a positive integer"),
        (lambda x: unsupervised.cluster(x, 3, method="dbscan"), r"invalid method='dbscan'; expected one of"),
        (lambda x: unsupervised.cluster(np.where(np.eye(len(x), 64, dtype=bool), np.nan, x), 3, method="kmeans"),
         r"invalid data: 64 sample\(s\) hold NaN"),
        (lambda x: unsupervised.cluster(x, 3, method="kmeans", labels=[1, 2]), r"invalid labels: 2 labels for"),
        (lambda x: unsupervised.AnomalyDetector(percentile=100), r"invalid percentile=100"),
        (lambda x: unsupervised.AnomalyDetector().fit(x[:5]), r"invalid normal_data: 5 samples"),
    ],
)
def test_bad_input(digits, call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(digits[0])


def test_score_before_fit_is_a_clear_error(digits):
    with pytest.raises(RuntimeError, match="before fit"):
        unsupervised.AnomalyDetector().score(digits[0][:3])
