"""Transformers on Keras 3's ``MultiHeadAttention``: GPT, BERT and a text classifier.

- ``gpt`` (``gpt_nano``, ``gpt_mini``, ``gpt_small``): decoder-only language model
  (Radford et al. 2018/2019) with a causal mask, learned or sinusoidal positions,
  optional weight tying, and ``generate()`` with temperature/top-k sampling over a
  key/value cache whose outputs equal the uncached forward pass.
- ``bert``: bidirectional encoder with a masked-language-model head (Devlin et al.
  2019); ``mask_tokens`` applies the 80/10/10 rule. ``bert_classifier`` puts a
  classification head on the ([CLS]) first position of an encoder, fresh or
  pretrained (``encoder=`` a trained ``bert``).
- ``transformer_classifier``: encoder + masked mean pooling + softmax, for text.

Inputs are integer token ids (B, T). Language models return logits.
"""

from __future__ import annotations

import numpy as np

from zoo.core.checks import check_bool, check_choice, check_int, check_number, fail
from zoo.core.naming import HEAD
from zoo.models._lazy import declared_class, keras, keras_class
from zoo.registry import register

__all__ = ["GPT", "SPECIAL_TOKENS", "mask_tokens", "token_example", "LM_LOSS"]  # noqa: F822  (classes from __getattr__)

#: Reserved ids of the BERT-style models: padding is 0, [MASK] is 4.
SPECIAL_TOKENS = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}

_SPECIAL_IDS = tuple(SPECIAL_TOKENS.values())

#: Language models output logits: cross-entropy from logits (a Keras loss config, i.e. data).
LM_LOSS = {"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": True}}

#: Position encodings of every text model.
POSITIONS = ("learned", "sinusoidal")


def _check_sizes(model_name, **sizes):
    for arg, value in sizes.items():
        check_int(arg, value, minimum=1, owner=model_name)
    if sizes["embed_dim"] % sizes["num_heads"]:
        fail("num_heads", sizes["num_heads"], f"a divisor of embed_dim={sizes['embed_dim']}", owner=model_name)


def _check_dropout(model_name, dropout):
    check_number("dropout", dropout, low=0, high=1, high_open=True, owner=model_name)


# --------------------------------------------------------------------------- GPT


class _GPT:  # + keras.Model: the class GPT, made on first use (zoo.models._lazy)
    """Decoder-only transformer language model: token ids (B, T) -> next-token logits (B, T, vocab).

    ``vocabulary`` (a string of characters) makes it a character-level model whose
    ``generate`` takes and returns text; ``vocab_size`` is then ``len(vocabulary)``.
    """

    def __init__(
        self,
        vocab_size=256,
        context_length=256,
        num_layers=3,
        num_heads=3,
        embed_dim=48,
        ff_dim=None,
        dropout=0.0,
        positions="learned",
        tie_weights=True,
        vocabulary=None,
        **kwargs,
    ):
        from zoo.layers.sampling import CharVocabulary
        from zoo.layers.transformer import PositionEmbedding, ReversibleEmbedding, TransformerBlock

        vocab = CharVocabulary(vocabulary) if vocabulary is not None else None
        if vocab is not None:
            vocab_size = len(vocab)
        ff_dim = 4 * embed_dim if ff_dim is None else ff_dim
        _check_sizes("gpt", vocab_size=vocab_size, context_length=context_length, num_layers=num_layers,
                     num_heads=num_heads, embed_dim=embed_dim, ff_dim=ff_dim)
        _check_dropout("gpt", dropout)
        check_choice("positions", positions, POSITIONS, owner="gpt")
        check_bool("tie_weights", tie_weights, owner="gpt")

        ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        token_embedding = ReversibleEmbedding(
            vocab_size, embed_dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="token_embedding",
        )
        x = PositionEmbedding(context_length, positions, name="position_embedding")(token_embedding(ids))
        x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
        for i in range(num_layers):
            x = TransformerBlock(num_heads, ff_dim, dropout, causal=True, name=f"block_{i}")(x)
        x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
        if tie_weights:
            logits = token_embedding(x, reverse=True)
        else:
            logits = keras.layers.Dense(vocab_size, use_bias=False, name="lm_head")(x)
        kwargs.setdefault("name", "gpt")
        super().__init__(inputs=ids, outputs=logits, **kwargs)
        self.vocab_size = vocab_size
        self.context_length = context_length
        self.num_layers = num_layers
        self.vocabulary = vocab
        self._args = dict(
            vocab_size=vocab_size, context_length=context_length, num_layers=num_layers, num_heads=num_heads,
            embed_dim=embed_dim, ff_dim=ff_dim, dropout=dropout, positions=positions, tie_weights=tie_weights,
            vocabulary=vocabulary,
        )

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._args}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def call_with_cache(self, ids, cache=None):
        """Logits (B, T, vocab) of new positions ``ids`` after those in ``cache``; returns ``(logits, cache)``.

        ``cache`` is ``None`` (start) or what the previous call returned: per block,
        the keys and values of every position seen so far. Equal to ``self(all ids)``
        at the same positions, without recomputing the past.
        """
        ids = keras.ops.convert_to_tensor(ids, dtype="int32")
        start = 0 if cache is None else int(cache[0][0].shape[1])
        length = int(ids.shape[1])
        if start + length > self.context_length:
            raise ValueError(
                f"{self.name}: invalid sequence length {start + length}: longer than the context of "
                f"{self.context_length} tokens; expected at most {self.context_length}"
            )
        emb = self.get_layer("token_embedding")
        x = self.get_layer("position_embedding")(emb(ids), start=start)
        new_cache = []
        for i in range(self.num_layers):
            x, c = self.get_layer(f"block_{i}").call_with_cache(x, None if cache is None else cache[i])
            new_cache.append(c)
        x = self.get_layer("final_norm")(x)
        logits = emb(x, reverse=True) if self._args["tie_weights"] else self.get_layer("lm_head")(x)
        return logits, new_cache

    def generate(self, prompt, length=100, temperature=1.0, top_k=None, seed=None, use_cache=True):
        """Continue ``prompt`` (text for a character model, else token ids) by ``length`` sampled tokens.

        Returns the prompt followed by the continuation (text for a text prompt).
        ``use_cache=False`` re-runs the whole sequence at every step (same result, slower).
        """
        from zoo.layers.sampling import as_prompt_ids, check_sampling_args, generate_tokens

        ids = as_prompt_ids(prompt, self.vocab_size, self.vocabulary, self.name)
        check_sampling_args(temperature, top_k, self.vocab_size, length)
        if len(ids) + length > self.context_length:
            raise ValueError(
                f"{self.name}: invalid length={length}: prompt of {len(ids)} tokens + {length} new ones is "
                f"longer than the context of {self.context_length} tokens; expected length <= "
                f"{max(self.context_length - len(ids), 0)}"
            )

        def cached(new_ids, cache):
            logits, cache = self.call_with_cache(new_ids, cache)
            return keras.ops.convert_to_numpy(logits[:, -1]), cache

        def uncached(new_ids, seen):
            seen = new_ids if seen is None else np.concatenate([seen, new_ids], axis=1)
            return keras.ops.convert_to_numpy(self(seen, training=False)[:, -1]), seen

        new = generate_tokens(cached if use_cache else uncached, ids, length, temperature, top_k, seed)
        out = np.concatenate([ids, new])
        return self.vocabulary.decode(out) if isinstance(prompt, str) else out


_new_gpt = keras_class(__name__, "GPT", _GPT)


def __getattr__(attr):  # the Keras classes, made on first use
    return declared_class(__name__, attr)


def token_example(model, batch, rng, length=16):
    """Registry example: random token ids (avoiding the special ones) and labels fitting the model's task."""
    vocab = next(layer for layer in _all_layers(model) if isinstance(layer, keras.layers.Embedding)).input_dim
    low = len(SPECIAL_TOKENS) if vocab > 2 * len(SPECIAL_TOKENS) else 0
    x = rng.integers(low, vocab, size=(batch, length + 1)).astype("int32")
    if isinstance(model, _GPT):
        return x[:, :-1], x[:, 1:]
    out = model.output_shape
    if len(out) == 3:  # masked LM: predict every input token
        return x[:, :-1], x[:, :-1]
    return x[:, :-1], rng.integers(0, out[-1], size=(batch,)).astype("int32")


def _all_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


_GPT_PAPER = "Radford et al. 2019, Language models are unsupervised multitask learners (GPT-2)"
_LM_RECIPE = dict(optimizer="adamw", learning_rate=1e-3, loss=LM_LOSS, batch_size=32)


def _gpt_entry(name, params, test_config=None, **sizes):
    def entry():
        return dict(sizes)

    entry.__doc__ = (f"GPT ({sizes['num_layers']} layers, {sizes['num_heads']} heads, width {sizes['embed_dim']}): "
                     "causal decoder language model with cached generation.")
    return register(name, family="transformer", task="language-model", builder=_new_gpt, paper=_GPT_PAPER,
                    params=params, recipe=_LM_RECIPE, test_config=test_config, example=token_example)(entry)


gpt = _gpt_entry("gpt", 109_488, num_layers=3, num_heads=3, embed_dim=48)
gpt_nano = _gpt_entry("gpt_nano", 109_488, num_layers=3, num_heads=3, embed_dim=48)
gpt_mini = _gpt_entry("gpt_mini", 2_767_872, num_layers=6, num_heads=6, embed_dim=192)
gpt_small = _gpt_entry("gpt_small", 86_039_040, test_config=dict(num_layers=1, context_length=32),
                       num_layers=12, num_heads=12, embed_dim=768, context_length=1024)


# --------------------------------------------------------------------------- BERT and text encoders


def _encoder(vocab_size, context_length, num_layers, num_heads, embed_dim, ff_dim, dropout, positions,
             pad_id=0, name="encoder"):
    """Bidirectional transformer encoder: token ids (B, T) -> features (B, T, embed_dim)."""
    from zoo.layers.transformer import PaddingMask, PositionEmbedding, TransformerBlock

    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    mask = PaddingMask(pad_id, name="padding_mask")(ids)
    x = keras.layers.Embedding(vocab_size, embed_dim, name="token_embedding")(ids)
    x = PositionEmbedding(context_length, positions, name="position_embedding")(x)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(num_layers):
        x = TransformerBlock(num_heads, ff_dim, dropout, causal=False, name=f"block_{i}")(x, padding_mask=mask)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    return keras.Model(ids, x, name=name)


def _text_args(model_name, vocab_size, context_length, num_layers, num_heads, embed_dim, ff_dim, dropout, positions):
    ff_dim = 4 * embed_dim if ff_dim is None else ff_dim
    _check_sizes(model_name, vocab_size=vocab_size, context_length=context_length, num_layers=num_layers,
                 num_heads=num_heads, embed_dim=embed_dim, ff_dim=ff_dim)
    _check_dropout(model_name, dropout)
    check_choice("positions", positions, POSITIONS, owner=model_name)
    return dict(vocab_size=vocab_size, context_length=context_length, num_layers=num_layers, num_heads=num_heads,
                embed_dim=embed_dim, ff_dim=ff_dim, dropout=dropout, positions=positions)


def _bert(vocab_size=8000, context_length=128, num_layers=2, num_heads=2, embed_dim=128, ff_dim=None,
          dropout=0.1, positions="learned"):
    """BERT for masked-language-model pretraining: ids (B, T) -> logits (B, T, vocab).

    The encoder is the nested model ``model.get_layer("encoder")``; the MLM head is
    Dense + GELU + LayerNorm + vocabulary projection. Train on ``mask_tokens`` output.
    """
    args = _text_args("bert", vocab_size, context_length, num_layers, num_heads, embed_dim, ff_dim, dropout, positions)
    encoder = _encoder(**args)
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = keras.layers.Dense(embed_dim, activation="gelu", name="mlm_dense")(encoder(ids))
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="mlm_norm")(x)
    logits = keras.layers.Dense(vocab_size, name="mlm_logits")(x)
    return keras.Model(ids, logits, name="bert")


def _text_classifier(vocab_size=8000, context_length=128, num_classes=2, num_layers=2, num_heads=2, embed_dim=128,
                     ff_dim=None, dropout=0.1, positions="learned", token_pooling="mean", encoder=None,
                     include_top=True, classifier_activation="softmax"):
    """Encoder -> token_pooling ("mean" over unpadded tokens, or "first": the [CLS] position) -> classifier.

    ``encoder=`` a trained ``bert`` model (or its ``encoder`` part) starts from a copy of
    its weights, and its sizes replace the size arguments (fine-tuning).
    """
    from zoo.layers.transformer import PaddingMask, SequencePooling

    check_choice("token_pooling", token_pooling, ("mean", "first"), owner="text classifier")
    if encoder is not None:
        encoder = _copy_encoder(encoder)
    else:
        encoder = _encoder(**_text_args("text classifier", vocab_size, context_length, num_layers, num_heads,
                                        embed_dim, ff_dim, dropout, positions))
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    mask = PaddingMask(name="padding_mask")(ids)
    x = SequencePooling(token_pooling, name="pool")(encoder(ids), padding_mask=mask)
    if include_top:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
        x = keras.layers.Dense(num_classes, activation=classifier_activation, name=HEAD)(x)
    return keras.Model(ids, x, name="text_classifier")


def _copy_encoder(model):
    if not isinstance(model, keras.Model):
        raise ValueError(f"invalid encoder={model!r}; expected a trained bert model or its 'encoder' sub-model")
    source = model
    if source.name != "encoder":
        try:
            source = model.get_layer("encoder")
        except ValueError:
            raise ValueError(
                f"invalid encoder={model.name!r}: it has no 'encoder' sub-model; expected a bert model "
                "(zoo.get('bert')) or bert.get_layer('encoder')"
            ) from None
    twin = keras.models.clone_model(source)
    twin.set_weights(source.get_weights())
    return twin


def mask_tokens(token_ids, vocab_size, rate=0.15, mask_token_id=SPECIAL_TOKENS["[MASK]"],
                special_ids=_SPECIAL_IDS, seed=None):
    """BERT's masking rule: pick ``rate`` of the non-special tokens; of those 80% become
    ``[MASK]``, 10% a random token, 10% stay. Returns ``(inputs, labels, sample_weight)``:
    labels are the original ids, weight 1 on picked positions and 0 elsewhere.
    """
    ids = np.asarray(token_ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"invalid token_ids of dtype {ids.dtype}; expected integer token ids")
    if not 0 < rate < 1:
        raise ValueError(f"invalid rate={rate!r}; expected a number in (0, 1)")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"invalid token_ids: ids must lie in [0, {vocab_size}), got {ids.min()}..{ids.max()}")
    rng = np.random.default_rng(seed)
    candidates = ~np.isin(ids, special_ids)
    picked = candidates & (rng.random(ids.shape) < rate)
    roll = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[picked & (roll < 0.8)] = mask_token_id
    ordinary = np.setdiff1d(np.arange(vocab_size), special_ids)
    swap = picked & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = rng.choice(ordinary, size=int(swap.sum()))
    return inputs.astype("int32"), ids.astype("int32"), picked.astype("float32")


_TEXT_TEST = dict(vocab_size=64, context_length=32)

_BERT_PAPER = "Devlin et al. 2019, BERT: pre-training of deep bidirectional transformers for language understanding"
_CLASSIFIER_RECIPE = dict(optimizer="adam", learning_rate=1e-3, loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])


@register(family="transformer", task="masked-lm", builder=_bert, params=2_485_952, paper=_BERT_PAPER,
          recipe=_LM_RECIPE, test_config=_TEXT_TEST, example=token_example)
def bert():
    """BERT encoder with a masked-language-model head (pretrain with mask_tokens' 80/10/10 rule)."""
    return {}


@register(family="transformer", task="classification", builder=_text_classifier, params=1_437_442, paper=_BERT_PAPER,
          recipe=dict(_CLASSIFIER_RECIPE, learning_rate=3e-4), test_config=_TEXT_TEST, example=token_example)
def bert_classifier():
    """BERT fine-tuning: classification head on the first ([CLS]) position; encoder= a pretrained bert."""
    return dict(token_pooling="first")


@register(family="transformer", task="classification", builder=_text_classifier, params=1_421_058,
          paper="Vaswani et al. 2017, Attention is all you need", recipe=_CLASSIFIER_RECIPE,
          test_config=_TEXT_TEST, example=token_example)
def transformer_classifier():
    """Transformer encoder text classifier: sinusoidal positions, masked mean pooling, softmax."""
    return dict(token_pooling="mean", positions="sinusoidal")
