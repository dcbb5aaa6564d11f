"""TD3's and DDPG's exploration noise: Gaussian, or stable-baselines3's Ornstein-Uhlenbeck (rl-zoo's
``noise_type``), temporally correlated, reset when an episode ends, in the warm-up too."""

import numpy as np
import pytest

import agents

OU = dict(action_noise=0.5, action_noise_type="ornstein-uhlenbeck", net_arch=(8,), use_rl_zoo=False)


def lag_one_correlation(x):
    return float(np.corrcoef(x[:-1], x[1:])[0, 1])


@pytest.mark.parametrize("name", ["TD3", "DDPG"])
def test_ornstein_uhlenbeck_noise_is_correlated_in_time_and_reset_by_episode_ends(name):
    agent = agents.make(name, "Pendulum-v1", seed=0, **OU)
    agent._reset_env()
    agent._sync_numpy()
    obs = agent._last_obs
    mode = agent._np_forward(obs)
    noise = np.array([agent._explore(obs) - mode for _ in range(300)])[:, 0, 0]
    assert lag_one_correlation(noise) > 0.9  # Gaussian noise: ~0
    assert np.all(np.abs(agent._explore(obs)) <= 1.0)
    agent._on_step(np.array([True]))
    assert np.array_equal(agent._ou, np.zeros((1, 1)))
    gaussian = agents.make(name, "Pendulum-v1", seed=0, action_noise=0.5, net_arch=(8,), use_rl_zoo=False)
    gaussian._reset_env()
    gaussian._sync_numpy()
    white = np.array([gaussian._explore(obs) - mode for _ in range(300)])[:, 0, 0]
    assert abs(lag_one_correlation(np.clip(white, -0.9, 0.9))) < 0.2


def test_the_warm_up_actions_get_the_noise_too_as_in_stable_baselines3():
    agent = agents.make("TD3", "Pendulum-v1", seed=0, **OU)
    agent._reset_env()
    agent._random_action()
    assert agent._ou is not None and agent._ou.shape == (1, 1)  # the process runs from the first step


@pytest.mark.parametrize("noise_type", ["normal", "ornstein-uhlenbeck"])
def test_warm_up_actions_are_uniform_plus_the_noise_clipped_as_in_stable_baselines3(noise_type):
    agent = agents.make("TD3", "Pendulum-v1", seed=0, net_arch=(8,), use_rl_zoo=False, action_noise=0.5,
                        action_noise_type=noise_type)
    agent._reset_env()
    actions = np.array([agent._random_action() for _ in range(2000)]).ravel()
    assert actions.min() == -1.0 and actions.max() == 1.0  # U(-1, 1) + noise, clipped: mass on the bounds
    assert 0.1 < np.mean(np.abs(actions) == 1.0) < 0.4
    quiet = agents.make("TD3", "Pendulum-v1", seed=0, net_arch=(8,), use_rl_zoo=False, action_noise=0.0)
    quiet._reset_env()
    plain = np.array([quiet._random_action() for _ in range(2000)]).ravel()
    assert np.abs(plain).max() < 1.0 and plain.std() == pytest.approx(1 / np.sqrt(3), rel=0.05)  # uniform alone


def test_rl_zoo_settings_and_bad_values():
    for name in ("TD3", "DDPG"):
        config = agents.make(name, "MountainCarContinuous-v0").config
        assert config.action_noise_type == "ornstein-uhlenbeck" and config.action_noise == 0.5  # rl-zoo's
        assert agents.make(name, "Pendulum-v1").config.action_noise_type == "normal"
    with pytest.raises(ValueError, match=r"action_noise_type.*'ou'.*'normal', 'ornstein-uhlenbeck'"):
        agents.make("TD3", "Pendulum-v1", action_noise_type="ou")
    with pytest.raises(ValueError, match=r"action_noise.*-0.1.*>= 0"):
        agents.make("DDPG", "Pendulum-v1", action_noise=-0.1)
