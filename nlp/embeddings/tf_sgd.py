"""word2vec's TensorFlow kernel (``kernel="tf"``): mini-batches of pairs, one ``tf.function`` per chunk of steps.

The pairs of an epoch are built with NumPy array operations (one pass per
window offset) and fed as fixed-shape chunks of ``CHUNK_STEPS`` mini-batches
of ``batch_size`` pairs; each step is an exact negative-sampling SGD step whose
updates, summed over the batch, are applied with sparse ``scatter_add``. It
runs where TensorFlow places it (a GPU for large vocabularies); on a CPU the
compiled per-pair loop of :mod:`nlp.embeddings.sgd` is several times faster.
"""

from __future__ import annotations

import numpy as np

__all__ = ["epoch_examples", "TFTrainer"]

CHUNK_STEPS = 16  # SGD steps per compiled call


def epoch_examples(rng, ids, sent, reach, window, sg, pad):
    """(inputs (P, C), targets (P,)) of one subsampled epoch, shuffled; ``pad`` fills CBOW's empty slots."""
    n = len(ids)
    if sg:
        inputs, targets = [], []
    else:
        context = np.full((n, 2 * window), pad, np.int32)
    for d in range(1, min(window, n - 1) + 1):
        left = np.arange(n - d)
        right = left + d
        same = sent[left] == sent[right]
        forward = same & (reach[left] >= d)   # centre left, context right
        backward = same & (reach[right] >= d)  # centre right, context left
        if sg:  # like gensim: the context word's vector predicts the centre word
            inputs += [ids[right[forward]], ids[left[backward]]]
            targets += [ids[left[forward]], ids[right[backward]]]
        else:
            context[left[forward], window + d - 1] = ids[right[forward]]
            context[right[backward], window - d] = ids[left[backward]]
    if sg:
        inputs = np.concatenate(inputs)[:, None] if inputs else np.zeros((0, 1), np.int32)
        targets = np.concatenate(targets) if targets else np.zeros(0, np.int32)
    else:
        has = (context != pad).any(axis=1)
        inputs, targets = context[has], ids[has]
    order = rng.permutation(len(targets))
    return inputs[order].astype(np.int32), targets[order].astype(np.int32)


class TFTrainer:
    """Holds the weights as TensorFlow variables for one ``train`` call; ``weights()`` hands them back."""

    def __init__(self, w_in, w_out, sub, negative, batch_size, jit_compile):
        import tensorflow as tf

        self._w_in, self._w_out = tf.Variable(w_in), tf.Variable(w_out)
        self._sub = tf.constant(sub)
        self.negative, self.batch_size, self.jit_compile = negative, batch_size, jit_compile
        self._fn = self._compiled_chunk()

    def weights(self):
        return self._w_in.numpy(), self._w_out.numpy()

    def _compiled_chunk(self):
        """One compiled function running ``CHUNK_STEPS`` SGD steps (fixed shapes: it compiles once)."""
        import tensorflow as tf

        w_in, w_out, sub = self._w_in, self._w_out, self._sub
        sink, k, dim = int(w_in.shape[0]) - 1, self.negative, int(w_in.shape[1])
        identity = int(sub.shape[1]) == 1  # plain word2vec: a word is one row
        labels = tf.constant([1.0] + [0.0] * k)
        signs = 2.0 * labels - 1.0

        def step(inputs, targets, negatives, weights, lr):
            if identity and inputs.shape[1] == 1:  # skip-gram word2vec: one input row per example
                rows = inputs[:, 0]
                hidden = tf.gather(w_in, rows)                                      # (B, d)
            else:
                rows = inputs[..., None] if identity else tf.gather(sub, inputs)    # (B, C, S) input rows
                mask = tf.cast(rows < sink, tf.float32)
                per_word = tf.reduce_sum(mask, axis=2)                              # (B, C)
                word_vecs = (tf.reduce_sum(tf.gather(w_in, rows) * mask[..., None], axis=2)
                             / tf.maximum(per_word, 1.0)[..., None])
                words = tf.reduce_sum(tf.cast(per_word > 0, tf.float32), axis=1)
                hidden = tf.reduce_sum(word_vecs, axis=1) / tf.maximum(words, 1.0)[:, None]  # (B, d)
            out_ids = tf.concat([targets[:, None], negatives], axis=1)              # (B, 1 + k)
            out_vecs = tf.gather(w_out, out_ids)                                    # (B, 1 + k, d)
            scores = tf.reduce_sum(hidden[:, None, :] * out_vecs, axis=-1)
            not_target = tf.cast(tf.not_equal(negatives, targets[:, None]), tf.float32)
            valid = tf.concat([tf.ones_like(weights[:, None]), not_target], axis=1) * weights[:, None]
            grad = (labels - tf.sigmoid(scores)) * valid * lr                       # (B, 1 + k)
            loss = -tf.reduce_sum(tf.math.log_sigmoid(scores * signs) * valid)
            hidden_err = tf.reduce_sum(grad[..., None] * out_vecs, axis=1)           # (B, d)
            w_out.scatter_add(tf.IndexedSlices(tf.reshape(grad[..., None] * hidden[:, None, :], [-1, dim]),
                                               tf.reshape(out_ids, [-1])))
            if identity and inputs.shape[1] == 1:
                in_updates = hidden_err
            else:  # every row of every input word gets the whole error, as in fastText and gensim
                in_updates = hidden_err[:, None, None, :] * mask[..., None]
            w_in.scatter_add(tf.IndexedSlices(tf.reshape(in_updates, [-1, dim]), tf.reshape(rows, [-1])))
            return loss

        @tf.function(jit_compile=self.jit_compile, reduce_retracing=True)
        def chunk(inputs, targets, negatives, weights, lr0, lr1):
            steps = tf.shape(targets)[0]
            total = tf.constant(0.0)
            for b in tf.range(steps):
                lr = lr0 + (lr1 - lr0) * tf.cast(b, tf.float32) / tf.cast(steps, tf.float32)
                total += step(inputs[b], targets[b], negatives[b], weights[b], lr)
            return total

        return chunk

    def epoch(self, rng, inputs, targets, table, lr0, lr1):
        """Feed one epoch's examples to the compiled chunks; returns the summed loss."""
        batch, steps, pad = self.batch_size, CHUNK_STEPS, int(self._w_out.shape[0]) - 1
        per_chunk = batch * steps
        n, total = len(targets), 0.0
        for lo in range(0, n, per_chunk):
            hi = min(lo + per_chunk, n)
            fill = per_chunk - (hi - lo)
            weights = np.ones(per_chunk, np.float32)
            weights[hi - lo:] = 0.0
            x = np.pad(inputs[lo:hi], ((0, fill), (0, 0)), constant_values=pad)
            y = np.pad(targets[lo:hi], (0, fill))
            negatives = table[rng.integers(0, len(table), (per_chunk, self.negative))]  # ~ unigram^0.75
            a = lr0 + (lr1 - lr0) * lo / n
            b = lr0 + (lr1 - lr0) * (lo + per_chunk) / n
            total += float(self._fn(x.reshape(steps, batch, -1), y.reshape(steps, batch),
                                    negatives.reshape(steps, batch, -1), weights.reshape(steps, batch),
                                    np.float32(a), np.float32(b)))
        return total
