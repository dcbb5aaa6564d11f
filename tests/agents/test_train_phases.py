"""When the replay agents train: phases of ``train_freq`` steps from step 0, updates once more than
``learning_starts`` steps are collected, as stable-baselines3's ``OffPolicyAlgorithm``."""

import numpy as np
import pytest

import agents


def updates_after(steps, n_envs=1, **config):
    agent = agents.make("DQN", "CartPole-v1", seed=0, use_rl_zoo=False, net_arch=(8,), batch_size=4, n_envs=n_envs,
                        **config)
    agent.learn(steps)
    return int(agent._updates.numpy())


@pytest.mark.parametrize("learning_starts,train_freq,gradient_steps,steps,expected", [
    (10, 4, 1, 24, 4),     # phases end at 4, 8, ..., 24; those after step 10 train: 12, 16, 20, 24
    (8, 4, 1, 24, 4),      # step 8 itself is not "more than learning_starts": 12, 16, 20, 24
    (0, 4, 2, 24, 12),     # six phases, two gradient steps each
    (10, 6, -1, 30, 24),   # -1: as many gradient steps as the phase collected: 6 at each of 12, 18, 24, 30
    (5, 1, 1, 20, 15),
])
def test_gradient_steps_come_where_stable_baselines3_takes_them(learning_starts, train_freq, gradient_steps,
                                                                steps, expected):
    config = dict(learning_starts=learning_starts, train_freq=train_freq, gradient_steps=gradient_steps)
    assert updates_after(steps, **config) == expected
    sb3 = pytest.importorskip("stable_baselines3")
    model = sb3.DQN("MlpPolicy", "CartPole-v1", seed=0, batch_size=4, policy_kwargs=dict(net_arch=[8]), **config)
    model.learn(steps)
    assert model._n_updates == expected


@pytest.mark.parametrize("learning_starts,train_freq,gradient_steps,steps,expected", [
    (10, 4, 1, 40, 4),    # phases of 4 vector steps (8 transitions) end at 8, 16, ..., 40; after 10: 16-40
    (10, 4, -1, 40, 32),  # -1: one gradient step per transition of the phase, 8 at each of four phases
    (0, 3, 2, 36, 12),    # six phases of 6 transitions, two gradient steps each
])
def test_train_freq_counts_vector_steps_as_stable_baselines3(learning_starts, train_freq, gradient_steps, steps,
                                                             expected):
    config = dict(learning_starts=learning_starts, train_freq=train_freq, gradient_steps=gradient_steps)
    assert updates_after(steps, n_envs=2, **config) == expected
    sb3 = pytest.importorskip("stable_baselines3")
    env = sb3.common.env_util.make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = sb3.DQN("MlpPolicy", env, seed=0, batch_size=4, policy_kwargs=dict(net_arch=[8]), **config)
    model.learn(steps)
    assert model._n_updates == expected


def _dqn(cls):
    """A tiny DQN whose target copies are recorded (the env step of each)."""
    agent = cls("CartPole-v1", seed=0, use_rl_zoo=False, net_arch=(8,), batch_size=4, learning_starts=10, train_freq=8,
                gradient_steps=2, target_update_interval=2, log_interval=32)
    copies, update = [], agent._target_update

    def recorded_update():
        copies.append(agent.num_timesteps)
        update()

    agent._target_update = recorded_update
    return agent, copies


def test_dqn_skips_only_the_hard_target_copies_that_change_nothing():
    counter = iter(range(10**9))

    class CopyEveryTime(agents.DQN):  # every weights version new: a copy at every target_update_interval
        _weights_version = property(lambda self: next(counter), lambda self, value: None)

    skipping, skipped = _dqn(agents.DQN)
    copying, copied = _dqn(CopyEveryTime)
    for agent in (skipping, copying):
        agent.learn(60)
    assert len(copied) == 30 and 6 <= len(skipped) <= 9  # 6 phases train (16, ..., 56), 2 epochs start
    for a, b in zip(skipping.model.get_weights(), copying.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # weights changed between two learn() calls (no update since the last copy) are copied at the next target
    # update (step 62; the next phase trains at 64), as without the skip
    changed = [2.0 * w for w in skipping.model.q.get_weights()]
    skipping.model.q.set_weights(changed)
    skipping.learn(2, reset_num_timesteps=False)
    assert skipped[-1] == 62
    for a, b in zip(skipping.model.q_target.get_weights(), changed):
        np.testing.assert_array_equal(a, b)
