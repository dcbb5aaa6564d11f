"""The compiled word2vec / FastText training loop: gensim's per-pair SGD, one Numba call per epoch.

Why Numba: negative-sampling SGD is many tiny dependent updates (a dot product
and two axpys of ``vector_size`` floats per output row). As batched TensorFlow
ops each becomes a gather, elementwise passes and a scatter over
``(batch, 1 + negative, dim)`` tensors, memory bound; XLA's CPU scatter alone
took longer than gensim's whole epoch. One compiled loop over the words, as in
the reference C tool and gensim's Cython, does each update once, in cache
(docs/design.md, "word2vec kernel").

The loop is single-threaded and draws negatives with the reference tool's
48-bit linear congruential generator, seeded from the model's NumPy generator:
a seed gives the same vectors on one machine.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

__all__ = ["run_epoch", "train_epoch", "sgd_update", "table_shift", "LCG_MASK", "SIGMOID", "LOG_SIGMOID", "MAX_EXP"]

LCG_MASK = (1 << 48) - 1
_MUL, _ADD, _MASK = np.uint64(25214903917), np.uint64(11), np.uint64(LCG_MASK)


# sigmoid and log-sigmoid tabulated on [-MAX_EXP, MAX_EXP], as in the reference C tool and gensim
MAX_EXP, TABLE_SIZE = 6.0, 1000
_GRID = (np.arange(TABLE_SIZE) / TABLE_SIZE * 2 - 1) * MAX_EXP
SIGMOID = (1 / (1 + np.exp(-_GRID))).astype(np.float32)
LOG_SIGMOID = np.log(SIGMOID).astype(np.float32)


@numba.njit(nogil=True, cache=False)
def table_shift(table):
    """``48 - b`` for a table of 2^b slots: the generator's top b bits (its best) pick a slot, no division."""
    shift, size = 48, table.shape[0]
    while size > 1:
        size >>= 1
        shift -= 1
    return np.uint64(shift)


@numba.njit(fastmath=True, nogil=True, cache=False)
def sgd_update(hidden, target, w_out, work, table, shift, state, negative, lr):
    """One negative-sampling step for input vector ``hidden`` and word ``target``.

    Negatives are ``table[state >> shift]`` (``shift = table_shift(table)``).
    Updates the output rows in place, puts the input error in ``work`` and
    returns (loss, new LCG state). A negative equal to the target is skipped, as
    in gensim; sigmoid(f) comes from ``SIGMOID`` and a score beyond +-MAX_EXP
    updates nothing (gensim's rule), the loss from ``LOG_SIGMOID``.
    """
    dim = hidden.shape[0]
    work[:] = 0.0
    loss = 0.0
    scale = TABLE_SIZE / MAX_EXP / 2
    for k in range(negative + 1):
        if k == 0:
            out, label = target, np.float32(1.0)
        else:
            state = (state * _MUL + _ADD) & _MASK
            out, label = table[state >> shift], np.float32(0.0)
            if out == target:
                continue
        row = w_out[out]
        f = np.float32(0.0)
        for c in range(dim):
            f += hidden[c] * row[c]
        x = f if k == 0 else -f  # the loss is -log sigmoid(x)
        loss -= 0.0 if x >= MAX_EXP else (x if x <= -MAX_EXP else LOG_SIGMOID[int((x + MAX_EXP) * scale)])
        if f >= MAX_EXP or f <= -MAX_EXP:
            continue  # saturated: no update, as in gensim
        g = (label - SIGMOID[int((f + MAX_EXP) * scale)]) * lr
        for c in range(dim):
            work[c] += g * row[c]
            row[c] += g * hidden[c]
    return loss, state


@numba.njit(fastmath=True, nogil=True, cache=False)
def _add_word(vec, w_in, rows, scale):
    """``vec += scale * mean of w_in[rows]``."""
    inv = scale / rows.shape[0]
    for r in rows:
        src = w_in[r]
        for c in range(vec.shape[0]):
            vec[c] += src[c] * inv


@numba.njit(fastmath=True, nogil=True, cache=False)
def _apply(w_in, rows, work):
    """Every row of the input word gets the whole error (fastText and gensim)."""
    for r in rows:
        dst = w_in[r]
        for c in range(work.shape[0]):
            dst[c] += work[c]


@numba.njit(fastmath=True, nogil=True, cache=False)
def train_epoch(w_in, w_out, sub, sub_len, ids, sent, reach, table, state, lr0, lr1, sg, negative):
    """One epoch of skip-gram or CBOW SGD, in place; returns (summed loss, examples, LCG state).

    ``ids``/``sent``/``reach``: the subsampled corpus (word id, sentence number
    and reduced window of each position). An input word ``w`` is the rows
    ``sub[w, :sub_len[w]]`` of ``w_in`` (one row in word2vec; the word and its
    n-grams in FastText), its vector their mean. Skip-gram: each context word's
    vector predicts the centre word (gensim's order); CBOW: the mean of the
    window's word vectors does. The learning rate falls linearly from ``lr0``
    to ``lr1`` over the epoch.
    """
    n, dim = ids.shape[0], w_in.shape[1]
    hidden = np.zeros(dim, np.float32)
    work = np.zeros(dim, np.float32)
    loss, examples = 0.0, 0
    state, shift = np.uint64(state), table_shift(table)
    for i in range(n):
        lr = np.float32(lr0 + (lr1 - lr0) * i / n)
        lo, hi = max(i - reach[i], 0), min(i + reach[i] + 1, n)
        if sg:
            for j in range(lo, hi):
                if j != i and sent[j] == sent[i]:
                    rows = sub[ids[j], :sub_len[ids[j]]]
                    if rows.shape[0] == 1:  # a word2vec word: its row is the input, as in gensim
                        vec = w_in[rows[0]]
                    else:
                        hidden[:] = 0.0
                        _add_word(hidden, w_in, rows, np.float32(1.0))
                        vec = hidden
                    step_loss, state = sgd_update(vec, ids[i], w_out, work, table, shift, state, negative, lr)
                    _apply(w_in, rows, work)
                    loss += step_loss
                    examples += 1
            continue
        count = 0
        for j in range(lo, hi):
            count += j != i and sent[j] == sent[i]
        if count == 0:
            continue
        hidden[:] = 0.0
        for j in range(lo, hi):
            if j != i and sent[j] == sent[i]:
                _add_word(hidden, w_in, sub[ids[j], :sub_len[ids[j]]], np.float32(1.0 / count))
        step_loss, state = sgd_update(hidden, ids[i], w_out, work, table, shift, state, negative, lr)
        for j in range(lo, hi):
            if j != i and sent[j] == sent[i]:
                _apply(w_in, sub[ids[j], :sub_len[ids[j]]], work)
        loss += step_loss
        examples += 1
    return loss, examples, state


def run_epoch(w_in, w_out, sub, sub_len, ids, sent, reach, table, rng, lr0, lr1, sg, negative, workers=1):
    """One epoch on ``workers`` threads, each on its share of the sentences, lock-free; returns (loss, examples).

    The threads update the shared arrays without locks, as gensim's workers do
    (Hogwild): more than one worker is faster and not reproducible.
    """
    n = len(ids)
    starts = np.flatnonzero(np.diff(sent)) + 1  # where a new sentence begins
    cuts = np.unique(starts[np.minimum(np.searchsorted(starts, np.arange(1, workers) * n // workers),
                                       len(starts) - 1)]) if workers > 1 and len(starts) else np.zeros(0, np.int64)
    bounds = [0, *cuts.tolist(), n]
    seeds = rng.integers(1, LCG_MASK, len(bounds) - 1)

    def part(k):
        lo, hi = bounds[k], bounds[k + 1]
        return train_epoch(w_in, w_out, sub, sub_len, ids[lo:hi], sent[lo:hi], reach[lo:hi], table,
                           np.uint64(seeds[k]), lr0, lr1, sg, negative)

    if len(bounds) == 2:
        results = [part(0)]
    else:
        with ThreadPoolExecutor(len(bounds) - 1) as pool:
            results = list(pool.map(part, range(len(bounds) - 1)))
    return sum(r[0] for r in results), sum(r[1] for r in results)
