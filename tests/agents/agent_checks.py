"""The checks every registered agent gets (used by test_agents.py and by the contributor-guide test).

Per-agent facts come from the agent class: ``action_spaces``, ``test_config``
(small hyperparameters), ``loss_names`` (its logs) and ``test_learns`` (the
identity-env targets).
"""

import os

import gymnasium as gym
import numpy as np
from identity_envs import BoxIdentityEnv, DiscreteIdentityEnv

import agents

SAME_STEP = gym.vector.AutoresetMode.SAME_STEP
ENV_OF_SPACE = {gym.spaces.Discrete: "CartPole-v1", gym.spaces.Box: "Pendulum-v1"}
IDENTITY_ENV = {"Discrete": DiscreteIdentityEnv, "Box": BoxIdentityEnv}


def vec(make_env, n):
    return gym.vector.SyncVectorEnv([make_env] * n, autoreset_mode=SAME_STEP)


def run_cases(names=None):
    """``(name, env id)``: CartPole for agents with Discrete actions, Pendulum for those with Box actions."""
    names = agents.list_agents() if names is None else names
    return [(n, ENV_OF_SPACE[s]) for n in names for s in ENV_OF_SPACE if s in agents.registry.agent_class(n).action_spaces]


def save_env(name):
    """Pendulum when the agent supports Box actions, else CartPole."""
    cls = agents.registry.agent_class(name)
    return "Pendulum-v1" if gym.spaces.Box in cls.action_spaces else "CartPole-v1"


def check_runs(name, env_id):
    cls = agents.registry.agent_class(name)
    agent = agents.make(name, env_id, seed=0, use_rl_zoo=False, **cls.test_config)
    assert agent.learn(300) is agent
    history = agent.history.history
    assert agent.num_timesteps >= 300
    for key in ("episode_return", "episode_length", "steps_per_second", "timesteps", *cls.loss_names):
        assert key in history, key
    for key in cls.loss_names:
        assert all(np.isfinite(history[key])), key
    action, state = agent.predict(agent.env.observation_space.sample()[0])
    assert state is None and agent.action_space.contains(np.asarray(action, agent.action_space.dtype))
    assert agent.policy_model.output_shape[-1] == (agent.n_actions if agent.discrete else agent.action_dim)


def check_learns(name, space):
    params, steps, threshold = agents.registry.agent_class(name).test_learns[space]
    params = dict(params)
    make_env = IDENTITY_ENV[space]
    agent = agents.make(name, vec(make_env, params.pop("n_envs", 1)), seed=0, **params)
    before, _ = agents.evaluate(agent, make_env(), n_episodes=5)
    agent.learn(steps)
    mean, _ = agents.evaluate(agent, make_env(), n_episodes=5)
    assert mean >= threshold > before, (before, mean)


def check_save_load(name, tmp_path):
    cls = agents.registry.agent_class(name)
    agent = agents.make(name, save_env(name), seed=1, normalize_obs=True, **cls.test_config).learn(120)
    path = agent.save(tmp_path / "agent")
    assert path.endswith(".zip") and os.path.isfile(path)
    loaded = agents.load(path)
    assert type(loaded) is type(agent) and loaded.config == agent.config
    assert loaded.num_timesteps == agent.num_timesteps
    assert all(np.array_equal(x, y) for x, y in zip(agent.model.get_weights(), loaded.model.get_weights()))
    np.testing.assert_array_equal(loaded.normalizer.mean.numpy(), agent.normalizer.mean.numpy())
    obs = np.random.default_rng(0).normal(size=(8, *agent.observation_space.shape)).astype("float32")
    np.testing.assert_array_equal(agent.predict(obs)[0], loaded.predict(obs)[0])
    np.testing.assert_array_equal(agent.policy_model(obs), loaded.policy_model(obs))
    loaded.learn(60)  # a loaded agent trains on


def first_kernels_by_seed(name, network, init_flag, seed=3):
    """The first Dense kernel of ``network`` for ``seed`` (twice), ``seed + 1``, and the agent built
    with ``init_flag=False`` (Keras's initialisation) at ``seed``: the initialisation tests' cases."""
    from agents.initializers import init_layers

    def make(s, **kwargs):
        return agents.make(name, ENV_OF_SPACE[gym.spaces.Discrete], seed=s, use_rl_zoo=False, **kwargs)

    kernel = lambda agent: init_layers(getattr(agent.model, network))[0].kernel.numpy()  # noqa: E731
    return kernel(make(seed)), kernel(make(seed)), kernel(make(seed + 1)), make(seed, **{init_flag: False})
