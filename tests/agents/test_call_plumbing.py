"""The plumbing around the compiled update: its concrete functions by shape, the packed batch, and the
epoch callbacks' logs (each must change nothing but the time)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from agents.callbacks import EpochCallbacks
from agents.compiled import PACKED, Compiled, pack_batch, unpack_batch


def test_compiled_keeps_one_concrete_function_per_shapes():
    traces = []

    def double(batch, extra):
        traces.append(1)
        return batch["x"] * 2.0 + tf.reduce_sum(extra[0])

    fn = Compiled(double)
    x3, x4 = {"x": tf.ones([3])}, {"x": tf.ones([4])}
    np.testing.assert_array_equal(fn(x3, (tf.ones([2]),)).numpy(), [4.0, 4.0, 4.0])
    fn(x3, (tf.zeros([2]),))
    assert len(traces) == 1  # same shapes: the kept concrete function
    np.testing.assert_array_equal(fn(x4, (tf.zeros([2]),)).numpy(), [2.0] * 4)
    fn({"y": tf.ones([3]), "x": tf.ones([3])}, (tf.zeros([2]),))  # other keys: another function
    assert len(traces) == 3 and len(fn._concrete) == 3


def test_a_packed_batch_unpacks_to_the_same_arrays():
    rng = np.random.default_rng(0)
    batch = {"obs": rng.normal(size=(6, 3, 2)).astype(np.float32), "actions": np.arange(6),
             "values": rng.normal(size=6).astype(np.float32), "frames": np.zeros((6, 300), np.float32),
             "returns": rng.normal(size=6).astype(np.float32)}
    packed, layout = pack_batch(batch)
    assert sorted(packed) == sorted([PACKED, "actions", "frames"])  # wide rows and integers travel alone
    assert packed[PACKED].shape == (6, 8) and [k for k, _ in layout] == ["obs", "values", "returns"]
    out = unpack_batch({k: tf.constant(v) for k, v in packed.items()}, layout)
    assert sorted(out) == sorted(batch)
    for key, value in batch.items():
        assert out[key].dtype == value.dtype
        np.testing.assert_array_equal(out[key].numpy(), value)
    single = {"obs": batch["obs"], "actions": batch["actions"]}
    assert pack_batch(single) == (single, ())  # nothing to gain from one array


class Seen(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.logs.append(("begin", epoch, logs))

    def on_epoch_end(self, epoch, logs=None):
        logs["added"] = 1.0  # what a callback adds, the ones after it see
        self.logs.append(("end", epoch, dict(logs)))


@pytest.mark.parametrize("logs", [{"loss": 0.5, "timesteps": 16, "episode_return": 9.0},
                                  {"loss": np.float32(0.25), "b": tf.constant(2.0)}])
def test_epoch_callbacks_hand_the_logs_keras_would(logs):
    ours, keras_own = Seen(), Seen()
    after_ours, after_keras = Seen(), Seen()
    for cls, first, second in ((EpochCallbacks, ours, after_ours), (keras.callbacks.CallbackList, keras_own, after_keras)):
        cbs = cls([first, second])
        cbs.on_epoch_begin(0)
        cbs.on_epoch_end(0, dict(logs))
    assert ours.logs == keras_own.logs and after_ours.logs == after_keras.logs
    end = {k: v for k, v in ours.logs[1][2].items() if k != "added"}
    assert list(end) == sorted(logs) and all(type(v) is float for v in end.values())
    assert after_ours.logs[1][2]["added"] == 1.0


def test_a_replay_sample_packs_on_two_leading_axes():
    rng = np.random.default_rng(1)
    sample = {"obs": rng.normal(size=(3, 4, 6)).astype(np.float32), "actions": rng.integers(0, 2, (3, 4)),
              "rewards": rng.normal(size=(3, 4)).astype(np.float32)}
    packed, layout = pack_batch(sample, leading=2)
    assert packed[PACKED].shape == (3, 4, 7) and layout == (("obs", (6,)), ("rewards", ()))
    out = unpack_batch({k: tf.constant(v) for k, v in packed.items()}, layout)
    for key, value in sample.items():
        np.testing.assert_array_equal(out[key].numpy(), value)


def test_a_packed_replay_sample_trains_the_same_weights(monkeypatch):
    import agents
    import agents.off_policy

    def trained():
        agent = agents.make("DQN", "CartPole-v1", seed=0, use_rl_zoo=False, net_arch=(8,), batch_size=4,
                            learning_starts=10, train_freq=4, gradient_steps=2)
        agent.learn(120)
        return agent.model.get_weights()

    packed = trained()
    monkeypatch.setattr(agents.off_policy, "pack_batch", lambda batch, leading: (batch, ()))
    for a, b in zip(packed, trained(), strict=True):
        np.testing.assert_array_equal(a, b)
