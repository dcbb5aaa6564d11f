"""``agents.check_env`` on small deliberately broken environments: each problem is a ValueError that names it."""

import warnings

import gymnasium as gym
import numpy as np
import pytest

import agents
from agents.env_util import check_env_type


class GoodEnv(gym.Env):
    """A valid env: 3 floats in [-1, 1], two actions, episodes of 10 steps."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def obs(self):
        return self.np_random.uniform(-1, 1, 3).astype(np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.obs(), {}

    def step(self, action):
        self.t += 1
        return self.obs(), 1.0, self.t >= 10, False, {}


def subclass(**overrides):
    """A GoodEnv with some class attributes or methods replaced."""
    return type("BrokenEnv", (GoodEnv,), overrides)


def step_with(**values):
    """A ``step`` that returns GoodEnv's step with some of its five values replaced from step 3 on."""
    names = ("obs", "reward", "terminated", "truncated", "info")

    def step(self, action):
        out = list(GoodEnv.step(self, action))
        if self.t >= 3:
            for key, value in values.items():
                out[names.index(key)] = value(self) if callable(value) else value
        return tuple(out)

    return subclass(step=step)


def old_reset(self):
    return self.obs(), {}


def unseeded_reset(self, seed=None, options=None):
    self.t = 0
    return np.random.uniform(-1, 1, 3).astype(np.float32), {}  # ignores seed: not reproducible


BOX = gym.spaces.Box
BROKEN = [
    ("dict-obs", subclass(observation_space=gym.spaces.Dict({"x": BOX(-1, 1, (3,))})),
     r"observation space Dict\(.*is not supported.*gymnasium\.wrappers\.FlattenObservation\(env\)"),
    ("discrete-obs", subclass(observation_space=gym.spaces.Discrete(4)), r"Discrete observation space.*FlattenObservation"),
    ("int-obs", subclass(observation_space=BOX(0, 9, (3,), np.int64)),
     r"of dtype int64; expected a floating dtype or uint8.*DtypeObservation\(env, numpy\.float32\)"),
    ("multidiscrete-actions", subclass(action_space=gym.spaces.MultiDiscrete([2, 2])),
     r"action space MultiDiscrete\(\[2 2\]\), which is not supported: dlzoo's agents support Discrete or Box"),
    ("2d-box-actions", subclass(action_space=BOX(-1, 1, (2, 2), np.float32)), r"of shape \(2, 2\); expected a 1-D Box"),
    ("infinite-actions", subclass(action_space=BOX(-np.inf, np.inf, (2,), np.float32)),
     r"with infinite bounds; expected finite bounds.*TransformAction"),
    ("obs-out-of-bounds", subclass(obs=lambda self: np.full(3, 2.0, np.float32)),
     r"observation of reset\(\) is outside the observation space: obs\[0\] = 2\.0 not in \[-1\.0, 1\.0\]"),
    ("obs-dtype", subclass(obs=lambda self: np.zeros(3)),
     r"has dtype float64; the observation space declares float32: return obs\.astype\(numpy\.float32\)"),
    ("obs-shape", subclass(obs=lambda self: np.zeros(4, np.float32)), r"has shape \(4,\); .* declares \(3,\): .*shape=\(4,\)"),
    ("obs-list", subclass(obs=lambda self: [0.0, 0.0, 0.0]), r"is a list .*expected a numpy array of shape \(3,\)"),
    ("nan-obs", step_with(obs=lambda self: np.array([0, np.nan, 0], np.float32)),
     r"observation of step 3 contains NaN or inf \(obs\[1\] = nan\)"),
    ("nan-reward", step_with(reward=float("nan")), r"the reward of step 3 is nan; rewards must be finite"),
    ("array-reward", step_with(reward=np.ones(1)), r"the reward of step 3 is array\(\[1\.\]\).*finite scalar"),
    ("int-terminated", step_with(terminated=0), r"terminated=0 at step 3; expected a bool"),
    ("four-values", subclass(step=lambda self, a: (self.obs(), 1.0, False, {})), r"step\(\) returned .*expected the tuple"),
    ("reset-no-info", subclass(reset=lambda self, seed=None, options=None: np.zeros(3, np.float32)),
     r"reset\(\) returned array.*\(observation, info: dict\)"),
    ("old-reset", subclass(reset=old_reset), r"reset\(\) does not take seed= and options="),
    ("unseeded-reset", subclass(reset=unseeded_reset), r"fails gymnasium's env checker.*"),
]


@pytest.mark.parametrize("env_cls,match", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_env_is_a_value_error_naming_the_problem(env_cls, match):
    with pytest.raises(ValueError, match=r"^check_env: env BrokenEnv"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agents.check_env(env_cls())
    with pytest.raises(ValueError, match=match):
        agents.check_env(env_cls(), warn=False)


def test_good_envs_pass_and_gymnasium_warnings_come_through_unless_warn_false():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert agents.check_env(GoodEnv()) is None
        assert agents.check_env("Pendulum-v1", agent="SAC", warn=False) is None
    assert not caught
    with pytest.warns(UserWarning, match="infinity"):  # gymnasium's: CartPole's observation bounds are infinite
        agents.check_env("CartPole-v1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        agents.check_env("CartPole-v1", warn=False)


def test_the_wrappers_suggested_fix_the_env():
    env = gym.wrappers.FlattenObservation(gym.make("FrozenLake-v1"))
    with pytest.raises(ValueError, match="DtypeObservation"):
        agents.check_env(env, warn=False)
    agents.check_env(gym.wrappers.DtypeObservation(env, np.float32), warn=False)
    agents.check_env(gym.wrappers.DiscretizeAction(gym.make("Pendulum-v1"), bins=5), agent="DQN", warn=False)


def test_agent_argument_checks_its_action_spaces():
    with pytest.raises(ValueError, match=r"Box\(-2\.0, 2\.0, \(1,\), float32\), which is not supported: DQN supports "
                                         r"Discrete action spaces; agents that support it: .*SAC.*DiscretizeAction"):
        agents.check_env("Pendulum-v1", agent="DQN", warn=False)
    with pytest.raises(ValueError, match=r"SAC supports Box \(1-D, bounded\) action spaces; agents that support it: "
                                         r".*DQN"):
        agents.check_env(GoodEnv(), agent=agents.SAC, warn=False)
    with pytest.raises(ValueError, match=r"unknown agent name='DQNN'; did you mean DQN"):
        agents.check_env(GoodEnv(), agent="DQNN")
    with pytest.raises(TypeError, match=r"check_env: invalid agent=42; expected None, an agent name"):
        agents.check_env(GoodEnv(), agent=42)


def test_bad_env_arguments():
    with pytest.raises(TypeError, match=r"check_env: invalid env=42; expected a gymnasium id string or a gymnasium"):
        agents.check_env(42)
    with pytest.raises(TypeError, match=r"not a vector env"):
        agents.check_env(agents.make_vec_env("CartPole-v1"))
    with pytest.raises(ValueError, match=r"unknown environment env='CartPol-v1'; did you mean CartPole-v1"):
        agents.check_env("CartPol-v1")
    with pytest.raises(ValueError, match=r"check_env: invalid warn='yes'; expected True or False"):
        agents.check_env("CartPole-v1", warn="yes")
    with pytest.raises(TypeError, match=r"invalid env=42 \(int\)"):  # the type check the agents use, renamed
        check_env_type(42)
