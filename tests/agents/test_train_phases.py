"""When the replay agents train: phases of ``train_freq`` steps from step 0, updates once more than
``learning_starts`` steps are collected, as stable-baselines3's ``OffPolicyAlgorithm``."""

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
