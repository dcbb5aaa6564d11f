"""Unsupervised learning: clustering learned codes and anomaly detection.

- ``cluster`` groups samples with scikit-learn's ``KMeans`` on raw features,
  on PCA codes (scikit-learn's ``PCA``: wrapped, not rewritten) or on the codes
  of a registered autoencoder, and scores the result against true labels when
  given (adjusted Rand index, normalised mutual information).
- ``AnomalyDetector`` trains an autoencoder on normal data only and flags
  samples it reconstructs badly: the threshold is a percentile of the
  reconstruction error on held-out normal data.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from zoo.core.checks import check_int, check_number, check_str
from zoo.core.seeding import seed_everything

__all__ = ["ClusterResult", "cluster", "train_autoencoder", "AnomalyDetector", "METHODS"]

METHODS = ("autoencoder+kmeans", "pca+kmeans", "kmeans")


def _as_matrix(data, arg="data") -> np.ndarray:
    x = np.asarray(data, dtype="float32")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"invalid {arg} with shape {x.shape}; expected an array of samples (n, features...)")
    if not np.all(np.isfinite(x)):
        bad = int((~np.isfinite(x)).any(axis=tuple(range(1, x.ndim))).sum())
        raise ValueError(f"invalid {arg}: {bad} sample(s) hold NaN or infinite values; clean or impute them first")
    return x.reshape(len(x), -1)


def _check_autoencoder_args(owner, model_name, code_size, epochs, seed):
    check_str("model_name", model_name, owner, accepted="a registered autoencoder name such as 'autoencoder'")
    check_int("code_size", code_size, minimum=1, owner=owner)
    check_int("epochs", epochs, minimum=0, owner=owner)
    check_int("seed", seed, owner=owner)


def train_autoencoder(x, code_size=10, model_name="denoising_autoencoder", epochs=100, batch_size=64,
                      validation_data=None, seed=0, **model_kwargs):
    """Build registered autoencoder ``model_name`` for flat inputs and train it to reconstruct ``x``."""
    import zoo

    _check_autoencoder_args("train_autoencoder", model_name, code_size, epochs, seed)
    check_int("batch_size", batch_size, minimum=1, owner="train_autoencoder")
    seed_everything(seed)  # Python, NumPy, TensorFlow, Keras; op determinism
    model = zoo.get(model_name, input_shape=(x.shape[1],), latent_dim=code_size, **model_kwargs)
    if not model.compiled:
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    val = None if validation_data is None else (validation_data, validation_data)
    model.fit(x, x, validation_data=val, epochs=epochs, batch_size=batch_size, verbose=0)
    return model


def _encode(model, x):
    encoder = getattr(model, "encoder", None)
    if encoder is None:
        raise ValueError(f"model {model.name!r} has no .encoder; pass a registered autoencoder")
    return np.asarray(encoder.predict(x, verbose=0)).reshape(len(x), -1)


@dataclasses.dataclass
class ClusterResult:
    """Cluster labels, the codes that were clustered and, with true labels, ARI and NMI."""

    labels: np.ndarray
    codes: np.ndarray
    method: str
    ari: float | None = None
    nmi: float | None = None
    model: keras.Model | None = None


def cluster(data, k, method="autoencoder+kmeans", labels=None, code_size=10, model=None,
            epochs=100, normalize=True, seed=0, n_init=10) -> ClusterResult:
    """Cluster ``data`` into ``k`` groups.

    ``method``: ``"kmeans"`` on raw features, ``"pca+kmeans"`` on ``code_size``
    principal components, or ``"autoencoder+kmeans"`` on the codes of ``model``
    (a trained autoencoder with an ``encoder``) or of a registered
    ``denoising_autoencoder`` (hidden layers 256, 128) trained here for
    ``epochs``. ``normalize`` L2-normalises every method's codes before k-means
    (k-means on directions; measured on digits it helps the autoencoder codes
    most: ARI 0.70 against 0.68 unnormalised). With true ``labels`` the result
    carries the adjusted Rand index and normalised mutual information.
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from sklearn.preprocessing import normalize as sklearn_normalize

    if method not in METHODS:
        raise ValueError(f"invalid method={method!r}; expected one of {METHODS}")
    x = _as_matrix(data)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"invalid k={k!r}; expected a positive integer")
    if k > len(x):
        raise ValueError(f"invalid k={k}; expected at most the number of samples ({len(x)})")
    if labels is not None and len(labels) != len(x):
        raise ValueError(f"invalid labels: {len(labels)} labels for {len(x)} samples")

    if method == "kmeans":
        codes = x
    elif method == "pca+kmeans":
        codes = PCA(n_components=min(code_size, *x.shape), random_state=seed).fit_transform(x)
    else:
        model = model or train_autoencoder(x, code_size=code_size, epochs=epochs, seed=seed,
                                           hidden_units=(256, 128))
        codes = _encode(model, x)
    if normalize:
        codes = sklearn_normalize(codes)
    found = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(codes)
    result = ClusterResult(found, codes, method, model=model)
    if labels is not None:
        result.ari = float(adjusted_rand_score(labels, found))
        result.nmi = float(normalized_mutual_info_score(labels, found))
    return result


class AnomalyDetector:
    """Autoencoder anomaly detection: high reconstruction error means anomalous.

    ``fit`` trains on normal data only and sets ``threshold`` to the
    ``percentile``-th reconstruction error on a held-out part of it, so about
    ``100 - percentile`` % of normal samples are flagged by construction.
    """

    def __init__(self, model_name="autoencoder", code_size=16, percentile=95.0, epochs=60,
                 validation_fraction=0.2, seed=0, **model_kwargs):
        check_number("percentile", percentile, 0, 100, low_open=True, high_open=True)
        check_number("validation_fraction", validation_fraction, 0, 1, low_open=True, high_open=True)
        _check_autoencoder_args("AnomalyDetector", model_name, code_size, epochs, seed)
        self.model_name, self.code_size, self.percentile = model_name, code_size, percentile
        self.epochs, self.validation_fraction, self.seed = epochs, validation_fraction, seed
        self.model_kwargs = model_kwargs
        self.model = None
        self.threshold = None

    def fit(self, normal_data):
        x = _as_matrix(normal_data, "normal_data")
        if len(x) < 10:
            raise ValueError(f"invalid normal_data: {len(x)} samples; expected at least 10")
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(x))
        n_val = max(1, int(len(x) * self.validation_fraction))
        val, train = x[order[:n_val]], x[order[n_val:]]
        self.model = train_autoencoder(train, code_size=self.code_size, model_name=self.model_name,
                                       epochs=self.epochs, validation_data=val, seed=self.seed,
                                       **self.model_kwargs)
        self.threshold = float(np.percentile(self._errors(val), self.percentile))
        return self

    def _errors(self, x):
        reconstruction = np.asarray(self.model.predict(x, verbose=0)).reshape(len(x), -1)
        return np.mean((reconstruction - x) ** 2, axis=1)

    def score(self, data) -> np.ndarray:
        """Reconstruction error per sample (higher is more anomalous)."""
        if self.model is None:
            raise RuntimeError("AnomalyDetector.score called before fit(normal_data)")
        return self._errors(_as_matrix(data))

    def predict(self, data) -> np.ndarray:
        """1 for anomalies (error above the threshold), 0 for normal samples."""
        return (self.score(data) > self.threshold).astype("int32")
