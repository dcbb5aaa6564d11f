"""Wrong types at the public boundary: a clear error naming the argument and the value, never a leak from deep code.

Each case calls one public function with an argument of the wrong kind (an int for a name, a list for a
dict, a string for a number, None for a path ...) and checks the exception type and that the message says
``invalid ARG=VALUE`` (issue #17). Objects the calls need (a tiny model, a CartPole agent, a tokenizer,
word vectors) are built once, on first use.
"""

import functools
import re

import numpy as np
import pytest

import agents
import nlp
import zoo

X = np.zeros((8, 4), "float32")
Y = np.zeros(8, "int32")
TEXTS = ["the cat sat on the mat", "the dog sat on the log"]


class Objects:
    """What the calls need, each built on first use (most cases need none of them)."""

    @functools.cached_property
    def model(self):
        return zoo.get("mlp", input_shape=(4,), num_classes=2, hidden_units=(4,))

    @functools.cached_property
    def agent(self):
        return agents.PPO("CartPole-v1", n_steps=8, batch_size=8, seed=0)

    @functools.cached_property
    def tokenizer(self):
        return nlp.WordTokenizer.train(TEXTS)

    @functools.cached_property
    def vectors(self):
        return nlp.KeyedVectors(["a", "b", "c", "d"], np.eye(4, dtype="float32"))


@pytest.fixture(scope="module")
def objects():
    return Objects()


T, V = TypeError, ValueError

ZOO = [
    # registry
    ("list_models-pattern", lambda o: zoo.list_models(42), T,
     "zoo.list_models: invalid pattern=42; expected a string (a glob such as 'resnet*')"),
    ("list_models-family", lambda o: zoo.list_models(family=42), T, "zoo.list_models: invalid family=42"),
    ("list_models-task", lambda o: zoo.list_models(task=["x"]), T, "zoo.list_models: invalid task=['x']"),
    ("list_pretrained", lambda o: zoo.list_pretrained(None), T, "zoo.list_pretrained: invalid pattern=None"),
    ("get-name", lambda o: zoo.get(42), T, "zoo.get: invalid name=42; expected a string"),
    ("get-name-list", lambda o: zoo.get(["mlp"]), T, "zoo.get: invalid name=['mlp']"),
    ("get-compile", lambda o: zoo.get("mlp", compile="yes"), V, "zoo.get: invalid compile='yes'; expected True or False"),
    ("get-weights_dir", lambda o: zoo.get("mlp", weights_dir=42), T, "zoo.get: invalid weights_dir=42"),
    ("info-name", lambda o: zoo.info(None), T, "zoo.info: invalid name=None"),
    ("register-name", lambda o: zoo.register(42, family="f", task="t"), T, "zoo.register: invalid name=42"),
    ("register-family", lambda o: zoo.register("x", family=42, task="t"), T, "zoo.register: invalid family=42"),
    ("register-entry", lambda o: zoo.register("x", family="f", task="t")(42), T, "zoo.register: invalid entry=42"),
    ("load_weights-path", lambda o: zoo.load_weights(o.model, 42), T, "load_weights: invalid path=42"),
    ("load_weights-model", lambda o: zoo.load_weights(42, "a.weights.h5"), T, "load_weights: invalid model=42"),
    ("preprocessing-name", lambda o: zoo.preprocessing(42), T, "zoo.preprocessing: invalid name=42"),
    ("class_names-model", lambda o: zoo.preprocessing.class_names(42), T, "class_names: invalid model=42"),
    # data
    ("data.load-name", lambda o: zoo.data.load(42), T, "invalid name=42; expected a data set name or a path"),
    ("data.load-seed", lambda o: zoo.data.load("digits", seed="0"), V, "invalid seed='0'; expected an integer"),
    ("data.load-val_fraction", lambda o: zoo.data.load("digits", val_fraction="0.1"), V, "invalid val_fraction='0.1'"),
    ("data.load-flat", lambda o: zoo.data.load("digits", flat="yes"), V, "invalid flat='yes'"),
    ("as_dataset-x", lambda o: zoo.data.as_dataset(42), T, "as_dataset: invalid x=42"),
    ("augmentation-flip", lambda o: zoo.data.augmentation(flip="yes"), V, "invalid flip='yes'"),
    # training
    ("train_recipe-name", lambda o: zoo.train.train_recipe(42), T, "train_recipe: invalid name=42; expected a string"),
    ("train_recipe-data", lambda o: zoo.train.train_recipe("mlp", data=42), T, "train_recipe: invalid data=42"),
    ("train_recipe-batch_size", lambda o: zoo.train.train_recipe("mlp", batch_size=2.5), V,
     "train_recipe: invalid batch_size=2.5; expected an integer >= 1"),
    ("train_recipe-callbacks", lambda o: zoo.train.train_recipe("mlp", callbacks=42), T,
     "train_recipe: invalid callbacks=42; expected a list of keras.callbacks.Callback objects"),
    ("fit-model", lambda o: zoo.train.fit(42, (X, Y)), V, "invalid model of type int"),
    ("fit-train_data", lambda o: zoo.train.fit(o.model, 42), V, "invalid train_data of type int"),
    ("fit-learning_rate", lambda o: zoo.train.fit(o.model, (X, Y), learning_rate="1e-3", loss="mse"), V,
     "invalid learning_rate='1e-3'; expected a number > 0"),
    ("fit-callbacks", lambda o: zoo.train.fit(o.model, (X, Y), callbacks=42, loss="mse"), T, "invalid callbacks=42"),
    ("fit-metrics", lambda o: zoo.train.fit(o.model, (X, Y), metrics=42, loss="mse"), T, "invalid metrics=42"),
    ("finetune-data", lambda o: zoo.finetune("simple_cnn", 42), T, "finetune: invalid data=42"),
    ("finetune-data_kwargs", lambda o: zoo.finetune("simple_cnn", "digits", data_kwargs=[1]), T,
     "finetune: invalid data_kwargs=[1]; expected a dict of keyword arguments"),
    ("finetune-save", lambda o: zoo.finetune("simple_cnn", "digits", save=42), T, "finetune: invalid save=42"),
    ("tune-name", lambda o: zoo.tune(42, "digits", space={"dropout": [0.1]}), T, "tune: invalid name=42"),
    ("tune-directory", lambda o: zoo.tune("mlp", "digits", space={"dropout": [0.1]}, directory=42), T,
     "tune: invalid directory=42"),
    ("transfer.fine_tune-batch_size", lambda o: zoo.transfer.fine_tune("simple_cnn", "digits", batch_size="3"), V,
     "invalid batch_size='3'"),
    ("transfer.fine_tune-model_kwargs", lambda o: zoo.transfer.fine_tune("simple_cnn", "digits", model_kwargs=[1]), T,
     "invalid model_kwargs=[1]"),
    ("transfer.blocks-model", lambda o: zoo.transfer.blocks(42), T, "blocks: invalid model=42"),
    ("transfer.replace_head-model", lambda o: zoo.transfer.replace_head(42, 3), T, "replace_head: invalid model=42"),
    ("transfer.replace_head-dropout", lambda o: zoo.transfer.replace_head(o.model, 3, dropout="0.1"), V,
     "invalid dropout='0.1'"),
    ("transfer.as_splits-data_kwargs", lambda o: zoo.transfer.as_splits("digits", data_kwargs=[1]), T,
     "invalid data_kwargs=[1]"),
    ("train_autoencoder-code_size", lambda o: zoo.unsupervised.train_autoencoder(X, code_size="3"), V,
     "train_autoencoder: invalid code_size='3'"),
    ("AnomalyDetector-percentile", lambda o: zoo.unsupervised.AnomalyDetector(percentile="95"), V,
     "invalid percentile='95'"),
    # callbacks, optimizers, distribute
    ("Checkpoint-monitor", lambda o: zoo.callbacks.Checkpoint("ckpt", monitor=42), T, "Checkpoint: invalid monitor=42"),
    ("Checkpoint-save_best", lambda o: zoo.callbacks.Checkpoint("ckpt", save_best="yes"), V,
     "Checkpoint: invalid save_best='yes'"),
    ("EarlyStopping-monitor", lambda o: zoo.callbacks.EarlyStopping(monitor=42), T, "EarlyStopping: invalid monitor=42"),
    ("EarlyStopping-min_delta", lambda o: zoo.callbacks.EarlyStopping(min_delta="0"), V,
     "EarlyStopping: invalid min_delta='0'"),
    ("ProgressBar-desc", lambda o: zoo.callbacks.ProgressBar(desc=42), T, "ProgressBar: invalid desc=42"),
    ("find_learning_rate-model", lambda o: zoo.callbacks.find_learning_rate(42, X, Y), T,
     "find_learning_rate: invalid model=42"),
    ("Maximize-inner_optimizer", lambda o: zoo.optimizers.Maximize(42), T, "Maximize: invalid inner_optimizer=42"),
    ("rprop_reference-grad_fn", lambda o: zoo.optimizers.rprop_reference(42, [np.zeros(2)], 3), T,
     "rprop_reference: invalid grad_fn=42"),
    ("strategy-devices", lambda o: zoo.distribute.strategy("mirrored", devices="/cpu:0"), T,
     "invalid devices='/cpu:0'; expected a list of device names"),
    ("check_global_batch", lambda o: zoo.distribute.check_global_batch("8", zoo.distribute.strategy("one_device")), V,
     "invalid batch_size='8'"),
    # deploy
    ("export.keras_file-model", lambda o: zoo.export.keras_file(42, "m.keras"), T, "keras_file: invalid model=42"),
    ("export.litert-path", lambda o: zoo.export.litert(o.model, 42), T, "litert: invalid path=42"),
    ("export.saved_model-input_shape", lambda o: zoo.export.saved_model(o.model, "sm", input_shape=4), T,
     "saved_model: invalid input_shape=4"),
    ("quantize.ptq-model", lambda o: zoo.quantize.ptq(42), T, "ptq: invalid model=42"),
    ("quantize.qat-model", lambda o: zoo.quantize.qat(42), T, "qat: invalid model=42"),
    ("quantize.sparsity-model", lambda o: zoo.quantize.sparsity(42), T, "sparsity: invalid model=42"),
    ("quantize.gzipped_size-model", lambda o: zoo.quantize.gzipped_size(42), T, "gzipped_size: invalid model=42"),
    ("inference.batch_predict-model", lambda o: zoo.inference.batch_predict(42, X), T, "batch_predict: invalid model=42"),
    ("inference.stream-chunk_size", lambda o: zoo.inference.stream(o.model, X, chunk_size="1"), V,
     "stream: invalid chunk_size='1'"),
    ("inference.load-path", lambda o: zoo.inference.load(42), T, "load: invalid path=42"),
    # insight
    ("learning_curves-patience", lambda o: zoo.diagnostics.learning_curves({"loss": [1.0], "val_loss": [1.0]},
                                                                          patience="2"), V, "invalid patience='2'"),
    ("learning_curves-history", lambda o: zoo.diagnostics.learning_curves({"loss": 1.0, "val_loss": 2.0}), T,
     "invalid history['loss']=1.0"),
    ("gradient_check-model", lambda o: zoo.diagnostics.gradient_check(42, X, Y), T, "gradient_check: invalid model=42"),
    ("save_image-path", lambda o: zoo.visualize.save_image(np.zeros((4, 4)), 42), T, "save_image: invalid path=42"),
    # layers
    ("TransformerBlock-num_heads", lambda o: zoo.layers.TransformerBlock("2", 8), V,
     "TransformerBlock: invalid num_heads='2'"),
    ("PositionEmbedding-max_length", lambda o: zoo.layers.PositionEmbedding("8"), V,
     "PositionEmbedding: invalid max_length='8'"),
    ("PaddingMask-pad_id", lambda o: zoo.layers.PaddingMask(pad_id="0"), V, "PaddingMask: invalid pad_id='0'"),
    ("LpPooling2D-normalize", lambda o: zoo.layers.LpPooling2D(normalize="yes"), V, "LpPooling2D: invalid normalize='yes'"),
]

AGENTS = [
    ("PPO-env", lambda o: agents.PPO(42), T, "invalid env=42 (int); expected a gymnasium id string"),
    ("PPO-n_steps-float", lambda o: agents.PPO("CartPole-v1", n_steps=8.0), T,
     "PPO: invalid n_steps=8.0; expected an integer"),
    ("PPO-learning_rate", lambda o: agents.PPO("CartPole-v1", learning_rate="3e-4"), T,
     "PPO: invalid learning_rate='3e-4'; expected a number"),
    ("PPO-max_grad_norm", lambda o: agents.PPO("CartPole-v1", max_grad_norm="0.5"), T,
     "PPO: invalid max_grad_norm='0.5'; expected a number or None"),
    ("PPO-normalize_obs", lambda o: agents.PPO("CartPole-v1", normalize_obs="yes"), T,
     "PPO: invalid normalize_obs='yes'; expected True or False"),
    ("PPO-verbose", lambda o: agents.PPO("CartPole-v1", verbose="1"), V, "PPO: invalid verbose='1'"),
    ("DQN-batch_size", lambda o: agents.DQN("CartPole-v1", batch_size=2.5), T, "DQN: invalid batch_size=2.5"),
    ("learn-total_timesteps", lambda o: o.agent.learn("10"), V, "PPO: invalid total_timesteps='10'"),
    ("learn-callbacks", lambda o: o.agent.learn(8, callbacks=42), T, "PPO: invalid callbacks=42"),
    ("learn-progress_bar", lambda o: o.agent.learn(8, progress_bar="yes"), V, "PPO: invalid progress_bar='yes'"),
    ("learn-checkpoint_dir", lambda o: o.agent.learn(8, checkpoint_dir=42), T, "PPO: invalid checkpoint_dir=42"),
    ("learn-checkpoint_every", lambda o: o.agent.learn(8, checkpoint_dir="ckpt", checkpoint_every="8"), V,
     "PPO: invalid checkpoint_every='8'"),
    ("predict-observation", lambda o: o.agent.predict("abc"), T, "PPO: invalid observation='abc'"),
    ("predict-deterministic", lambda o: o.agent.predict(np.zeros(4), deterministic="yes"), V,
     "PPO: invalid deterministic='yes'"),
    ("evaluate-agent", lambda o: agents.evaluate(42, "CartPole-v1"), T, "evaluate: invalid agent=42"),
    ("evaluate-seed", lambda o: agents.evaluate(o.agent, "CartPole-v1", n_episodes=1, seed="0"), V,
     "evaluate: invalid seed='0'"),
    ("save-path", lambda o: o.agent.save(42), T, "save: invalid path=42"),
    ("save-include_replay", lambda o: o.agent.save("agent", include_replay="yes"), V,
     "PPO: invalid include_replay='yes'"),
    ("load-path", lambda o: agents.load(42), T, "agents.load: invalid path=42"),
    ("make-name", lambda o: agents.make(["PPO"], "CartPole-v1"), T, "agents.make: invalid name=['PPO']"),
    ("make_vec_env-seed", lambda o: agents.make_vec_env("CartPole-v1", seed="0"), V, "invalid seed='0'"),
    ("EvalCallback-env", lambda o: agents.EvalCallback(42), T, "invalid env=42 (int)"),
    ("EvalCallback-stop_at", lambda o: agents.EvalCallback(stop_at="100"), V, "EvalCallback: invalid stop_at='100'"),
    ("register_agent-cls", lambda o: agents.register_agent(42), T, "register_agent: invalid cls=42"),
    ("linear_schedule-start", lambda o: agents.linear_schedule("1", 0.0, 1.0, 0.5), V,
     "linear_schedule: invalid start='1'"),
]

NLP = [
    ("WordTokenizer.train-texts", lambda o: nlp.WordTokenizer.train(42), T, "invalid texts=42; expected an iterable"),
    ("CharTokenizer.train-texts", lambda o: nlp.CharTokenizer.train(None), T, "invalid texts=None"),
    ("SentencePieceTokenizer.train-texts", lambda o: nlp.SentencePieceTokenizer.train(42), T, "invalid texts=42"),
    ("SentencePieceTokenizer-model_proto", lambda o: nlp.SentencePieceTokenizer("abc"), T,
     "SentencePieceTokenizer: invalid model_proto='abc'"),
    ("WordTokenizer-tokens", lambda o: nlp.WordTokenizer(42), T, "WordTokenizer: invalid tokens=42"),
    ("WordTokenizer-lowercase", lambda o: nlp.WordTokenizer([], lowercase="yes"), V,
     "WordTokenizer: invalid lowercase='yes'"),
    ("CharTokenizer-chars", lambda o: nlp.CharTokenizer(42), T, "CharTokenizer: invalid chars=42"),
    ("Tokenizer.load-path", lambda o: nlp.Tokenizer.load(42), T, "Tokenizer.load: invalid path=42"),
    ("encode-text", lambda o: o.tokenizer.encode(42), T, "invalid text=42; expected a string or a list of strings"),
    ("call-text", lambda o: o.tokenizer(42), T, "invalid text=42"),
    ("decode-ids", lambda o: o.tokenizer.decode("abc"), T, "invalid ids='abc'"),
    ("id_to_token-id", lambda o: o.tokenizer.id_to_token("a"), T, "invalid id='a'"),
    ("save-path", lambda o: o.tokenizer.save(42), T, "save: invalid path=42"),
    ("TokenizerLayer-tokenizer", lambda o: nlp.TokenizerLayer(42), T, "TokenizerLayer: invalid tokenizer=42"),
    ("corpora.load-name", lambda o: nlp.corpora.load(42), T, "corpora.load: invalid name=42"),
    ("corpora.split-documents", lambda o: nlp.corpora.split("abc def"), T, "corpora.split: invalid documents='abc def'"),
    ("corpora.read_directory-pattern", lambda o: nlp.corpora.read_directory(".", pattern=42), T,
     "corpora.read_directory: invalid pattern=42"),
    ("tokenize_words-text", lambda o: nlp.corpora.tokenize_words(42), T, "tokenize_words: invalid text=42"),
    ("Word2Vec-sentences", lambda o: nlp.Word2Vec(42), T, "invalid sentences=42"),
    ("FastText-sentences", lambda o: nlp.FastText(42), T, "invalid sentences=42"),
    ("GloVe-sentences", lambda o: nlp.GloVe(42), T, "invalid sentences=42"),
    ("Word2Vec-vector_size", lambda o: nlp.Word2Vec([["a", "b"]], vector_size="50"), V, "invalid vector_size='50'"),
    ("Word2Vec-seed", lambda o: nlp.Word2Vec([["a", "b"]], seed="0"), V, "invalid seed='0'"),
    ("Word2Vec.load-path", lambda o: nlp.Word2Vec.load(42), T, "Word2Vec.load: invalid path=42"),
    ("KeyedVectors-words", lambda o: nlp.KeyedVectors("abcd", np.eye(4)), T, "KeyedVectors: invalid words='abcd'"),
    ("KeyedVectors-vectors", lambda o: nlp.KeyedVectors(["a", "b"], "ab"), T, "KeyedVectors: invalid vectors='ab'"),
    ("most_similar-positive", lambda o: o.vectors.most_similar(42), T, "most_similar: invalid positive=42"),
    ("most_similar-negative", lambda o: o.vectors.most_similar("a", negative=42), T, "most_similar: invalid negative=42"),
    ("most_similar-restrict_vocab", lambda o: o.vectors.most_similar("a", restrict_vocab="2"), V,
     "invalid restrict_vocab='2'"),
    ("get_vector-word", lambda o: o.vectors[42], T, "KeyedVectors: invalid word=42"),
    ("analogy-a", lambda o: o.vectors.analogy(42, "b", "c"), T, "analogy: invalid a=42"),
    ("evaluate_word_pairs-path", lambda o: o.vectors.evaluate_word_pairs(42), T, "invalid path=42"),
    ("embedding_matrix-tokenizer", lambda o: o.vectors.embedding_matrix(42), T, "embedding_matrix: invalid tokenizer=42"),
    ("load_word2vec_format-path", lambda o: nlp.load_word2vec_format(None), T, "load_word2vec_format: invalid path=None"),
    ("FastTextVectors-ngram_vectors", lambda o: nlp.FastTextVectors(["a"], np.ones((1, 2)), 42), T,
     "FastTextVectors: invalid ngram_vectors=42"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in ZOO + AGENTS + NLP],
                         ids=[f"{group}:{c[0]}" for group, cases in (("zoo", ZOO), ("agents", AGENTS), ("nlp", NLP))
                              for c in cases])
def test_wrong_type_is_a_clear_error(objects, call, error, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing a failing case might write lands in the repository
    with pytest.raises(error, match=re.escape(message)) as info:
        call(objects)
    assert type(info.value) is error  # the class itself, not a subclass such as UnknownModelError


def test_valid_calls_still_work(objects):
    """The new checks accept what was valid: sample calls of the functions they guard."""
    assert zoo.list_models("mlp") == ["mlp"]
    assert zoo.list_models(family="mlp", task="classification") == zoo.list_models("*", "mlp", "classification")
    assert objects.tokenizer.decode(objects.tokenizer.encode("the cat")) == "the cat"
    assert objects.vectors.most_similar(np.array([1.0, 0, 0, 0]), topn=1) == [("a", 1.0)]
    assert objects.vectors.most_similar(negative=["a"], topn=1)[0][1] == pytest.approx(0.0)
    assert agents.linear_schedule(1.0, 0.0, 0.5, 0.25) == 0.5
    action, _ = objects.agent.predict([0.0, 0.0, 0.0, 0.0])
    assert int(action) in (0, 1)
