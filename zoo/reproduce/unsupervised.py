"""Suite entries for unsupervised learning and overfitting diagnosis (on digits)."""

import os

import keras

from zoo.reproduce import entry


def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).astype("float32"), d.target


@entry("clustering_autoencoder_kmeans", data="digits", metric="ARI (autoencoder codes)", reference=0.65)
def clustering(out_dir):
    from zoo.training import unsupervised

    x, y = _digits()
    rows = {m: unsupervised.cluster(x, 10, method=m, labels=y, code_size=10)
            for m in ("kmeans", "pca+kmeans", "autoencoder+kmeans")}
    table = "| method | ARI | NMI |\n|---|---:|---:|\n" + "\n".join(
        f"| {m} | {r.ari:.3f} | {r.nmi:.3f} |" for m, r in rows.items())
    return {"value": rows["autoencoder+kmeans"].ari, "table": table,
            "pca_ari": rows["pca+kmeans"].ari, "raw_ari": rows["kmeans"].ari}


@entry("anomaly_detection_autoencoder", data="digits 0-8 vs 9", metric="ROC AUC", reference=0.85)
def anomaly(out_dir):
    from sklearn.metrics import roc_auc_score

    from zoo.training import unsupervised

    x, y = _digits()
    detector = unsupervised.AnomalyDetector(percentile=95, epochs=60).fit(x[y != 9])
    auc = roc_auc_score(y == 9, detector.score(x))
    return {"value": float(auc), "threshold": detector.threshold,
            "flagged_nines": float(detector.predict(x[y == 9]).mean()),
            "flagged_normal": float(detector.predict(x[y != 9]).mean())}


@entry("overfitting_dropout_early_stopping", data="60 digits", metric="gap ratio (regularised / plain)",
       reference=0.8, mode="min")
def overfitting(out_dir):
    import zoo
    from zoo import data
    from zoo.insight import diagnostics

    (x, y), (xv, yv), _ = data.load("digits", flat=True)
    x, y = x[:60], y[:60]
    runs = {}
    for label, dropout, early in (("plain", 0.0, False), ("dropout+early stopping", 0.5, True)):
        keras.utils.set_random_seed(0)
        model = zoo.get("mlp", hidden_units=(512, 512), dropout=dropout, compile=True)
        callbacks = [keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)] if early else []
        history = model.fit(x, y, validation_data=(xv, yv), epochs=40, batch_size=16, verbose=0, callbacks=callbacks)
        train = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
        val = model.evaluate(xv, yv, verbose=0, return_dict=True)["loss"]
        diagnosis = diagnostics.learning_curves(history)
        png = diagnosis.plot(os.path.join(out_dir, f"overfitting_{label.split('+')[0]}.png"), title=label)
        runs[label] = dict(train=train, val=val, gap=val - train, diagnosis=diagnosis, png=png)
    table = "| run | train loss | validation loss | gap | verdict | best epoch |\n|---|---:|---:|---:|---|---:|\n" + "\n".join(
        f"| {k} | {r['train']:.3f} | {r['val']:.3f} | {r['gap']:.3f} | {r['diagnosis'].verdict} | {r['diagnosis'].best_epoch} |"
        for k, r in runs.items())
    ratio = runs["dropout+early stopping"]["gap"] / runs["plain"]["gap"]
    return {"value": float(ratio), "table": table, "images": [r["png"] for r in runs.values()]}
