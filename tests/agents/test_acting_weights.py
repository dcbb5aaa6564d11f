"""The weights a rollout acts with: those the last on-policy update returned, or a fresh read when a
callback may have changed them (``agents.callbacks``)."""

import keras
import numpy as np
import pytest

import agents
from agents.callbacks import leaves_weights


def _agent(algo):
    config = dict(n_envs=2, n_steps=8, net_arch=(8,), normalize_obs=True, jit_compile=False)
    if algo == "PPO":
        config.update(batch_size=8, n_epochs=2)
    return agents.make(algo, "CartPole-v1", seed=0, use_rl_zoo=False, **config)


def _recorded(agent):
    """Counts the agent's weight reads; keeps what each rollout's NumPy actor acts with."""
    agent._acting_reader()
    reader, sync, batch = agent._reader, agent._sync_numpy, agent.rollout_batch
    log = {"reads": 0, "acting": [], "obs": []}

    def counted_read():
        log["reads"] += 1
        return type(reader).__call__(reader)

    def recorded_sync():
        sync()
        log["acting"].append([np.array(w) for p in agent._np_actor.params if p is not None for w in p])

    def recorded_batch(last_values):
        log["obs"].append(agent.buffer.obs.reshape(-1, agent.obs_dim).astype(np.float64))
        return batch(last_values)

    agent._reader, agent._sync_numpy, agent.rollout_batch = counted_read, recorded_sync, recorded_batch
    agent._reader.unpack, agent._reader.read = reader.unpack, reader.read
    return log


def _weights(agent):
    return [w.copy() for w in agent.model.get_weights()]


class Scales(keras.callbacks.Callback):
    """Halves the actor's weights after the second epoch; records the actor's weights at every epoch's start."""

    def __init__(self, agent):
        super().__init__()
        self.agent, self.actor = agent, []

    def on_epoch_begin(self, epoch, logs=None):
        self.actor.append([w.copy() for w in self.agent.model.actor.get_weights()])

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            self.agent.model.actor.set_weights([w * 0.5 for w in self.agent.model.actor.get_weights()])


class TrustedScales(Scales):
    leaves_weights = True  # a false promise: learn believes it


@pytest.mark.parametrize("algo", ["A2C", "PPO"])
def test_rollouts_act_with_the_weights_the_update_returned_and_train_the_same(algo):
    fast, read = _agent(algo), _agent(algo)
    fast_log, read_log = _recorded(fast), _recorded(read)
    fast.learn(96, callbacks=[agents.EvalCallback(n_episodes=1, every=2, restore_best=False)])
    read.learn(96, callbacks=[keras.callbacks.Callback()])  # unknown: every rollout reads the weights
    assert fast_log["reads"] == 1 and read_log["reads"] == 96 // 16
    for a, b in zip(_weights(fast), _weights(read), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(fast_log["acting"], read_log["acting"], strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    obs = np.concatenate(fast_log["obs"])  # the statistics the update assigned: every rollout's observations
    norm = fast.normalizer
    assert norm.count.numpy() == len(obs)
    np.testing.assert_allclose(norm.mean.numpy(), obs.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(norm.var.numpy(), obs.var(0), rtol=1e-4)
    np.testing.assert_array_equal(norm._snapshot[0], norm.mean.numpy())  # what the NumPy env loop normalises with
    fast.learn(32, reset_num_timesteps=False)  # a new learn reads again (a load or set_weights may come between)
    assert fast_log["reads"] == 2


def test_a_rollout_acts_with_the_weights_a_callback_changed():
    agent = _agent("A2C")
    log, scales = _recorded(agent), Scales(agent)
    agent.learn(64, callbacks=[scales])
    assert len(log["acting"]) == len(scales.actor) == 4
    for acting, actor in zip(log["acting"], scales.actor):
        for x, y in zip(acting, actor, strict=True):
            np.testing.assert_array_equal(x, y)
    trusting = _agent("A2C")
    log, scales = _recorded(trusting), TrustedScales(trusting)
    trusting.learn(64, callbacks=[scales])
    assert not all(np.array_equal(x, y) for x, y in zip(log["acting"][2], scales.actor[2]))


def test_which_callbacks_leave_the_weights_alone():
    class Stopping(keras.callbacks.EarlyStopping):
        pass

    assert leaves_weights(keras.callbacks.History()) and leaves_weights(keras.callbacks.EarlyStopping())
    assert leaves_weights(agents.EvalCallback()) and leaves_weights(TrustedScales(None))
    assert not leaves_weights(keras.callbacks.Callback()) and not leaves_weights(Stopping())
    assert not leaves_weights(keras.callbacks.BackupAndRestore("/tmp/unused"))
