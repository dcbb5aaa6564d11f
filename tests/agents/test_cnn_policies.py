"""Image observations: ``policy="cnn"`` (the Nature CNN) and zoo backbones, on Atari, CarRacing and a tiny image env.

Short runs that train (weights change, losses finite), store uint8 frames, save and load
(identical predictions) and export to full-int8 LiteRT; one run that learns; the errors.
"""

import json
import zipfile

import gymnasium as gym
import keras
import numpy as np
import pytest
import tensorflow as tf
from image_envs import ImageIdentityEnv

import agents
import zoo
from agents.policies import PolicyNetworks, image_layout
from zoo.inference import LiteRTModel

SAME_STEP = gym.vector.AutoresetMode.SAME_STEP
SMALL = dict(features_dim=32)  # a narrower Nature CNN dense layer: the same convolutions, faster tests


def pong():
    """Gymnasium's standard Atari pipeline at 42x42: (4, 42, 42) uint8 frame stacks."""
    ale_py = pytest.importorskip("ale_py")
    pytest.importorskip("cv2")  # AtariPreprocessing resizes with OpenCV
    gym.register_envs(ale_py)
    env = gym.make("ALE/Pong-v5", frameskip=1)
    return gym.wrappers.FrameStackObservation(gym.wrappers.AtariPreprocessing(env, screen_size=42), 4)


def car_racing():
    """CarRacing-v3 resized to 48x48x3 (continuous actions)."""
    pytest.importorskip("Box2D")
    pytest.importorskip("cv2")
    return gym.wrappers.ResizeObservation(gym.make("CarRacing-v3"), (48, 48))


def trainable(agent):
    return {v.path: v.numpy().copy() for v in agent.model.trainable_variables}


def check_trains_saves_loads(agent, steps, tmp_path, frames=None):
    """``learn`` changes every trainable weight of the acting network, losses stay finite, and the agent
    saved and loaded predicts the same; returns frames the agent saw (from its buffer)."""
    before = trainable(agent)
    agent.learn(steps)
    after = trainable(agent)
    policy_vars = {v.path for v in getattr(agent.model, agent.model.policy_name).trainable_variables}
    assert all(not np.array_equal(before[p], after[p]) for p in policy_vars)
    for key in agent.loss_names:
        assert np.all(np.isfinite(agent.history.history[key])), key
    buffer = agent.replay if hasattr(agent, "replay") else agent.buffer
    assert buffer.obs.dtype == np.uint8 and buffer.obs.shape[-len(agent.observation_space.shape):] == \
        agent.observation_space.shape
    if frames is None:
        frames = buffer.obs[: len(buffer)] if hasattr(agent, "replay") else buffer.obs.reshape(
            -1, *agent.observation_space.shape)
    loaded = agents.load(agent.save(tmp_path / "agent"), env=agent.env)
    assert loaded.policy == agent.policy and loaded.policy_kwargs == agent.policy_kwargs
    assert all(np.array_equal(x, y) for x, y in zip(agent.model.get_weights(), loaded.model.get_weights()))
    np.testing.assert_array_equal(loaded.predict(frames[:32])[0], agent.predict(frames[:32])[0])
    np.testing.assert_array_equal(loaded.policy_model(frames[:32]), agent.policy_model(frames[:32]))
    return frames


def check_litert_int8(agent, frames, tmp_path):
    """The policy model in full int8 LiteRT: the float model's outputs within a few int8 steps."""
    policy = agent.policy_model
    assert policy.input_shape[1:] == agent.observation_space.shape
    path = zoo.export.litert(policy, tmp_path / "policy.tflite", quantize="int8",
                             representative_data=frames[:200].astype("float32"))
    edge = LiteRTModel(path)
    assert edge.input_dtypes == [np.dtype("int8")]
    expected = np.asarray(policy(frames[:64]))
    got = edge.predict(frames[:64].astype("float32"))
    step = edge.quantization["outputs"][0][0]
    assert np.abs(got - expected).max() <= max(6 * step, 0.05 * np.abs(expected).max()), (step, got, expected)
    return expected, got


# --------------------------------------------------------------------------- Atari


def test_dqn_nature_cnn_on_pong_stores_uint8_trains_saves_and_exports_int8(tmp_path):
    agent = agents.DQN(pong(), policy="CnnPolicy", seed=0, learning_starts=64, train_freq=4, batch_size=16,
                       buffer_size=400, target_update_interval=100, policy_kwargs=SMALL)
    assert agent.policy == "cnn" and agent.replay.obs.shape == (400, 4, 42, 42)
    q = agent.model.q
    convs = [layer for layer in q.get_layer("q_features").layers if isinstance(layer, keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.strides) for c in convs] == [(32, (8, 8), (4, 4)), (64, (4, 4), (2, 2)),
                                                                     (64, (3, 3), (1, 1))]
    assert [layer.name for layer in q.layers[1:]] == ["q_features", "predictions"]  # features straight to Q
    frames = check_trains_saves_loads(agent, 200, tmp_path)
    expected, got = check_litert_int8(agent, frames, tmp_path)
    gap = np.sort(expected, -1)[:, -1] - np.sort(expected, -1)[:, -2]
    resolvable = gap > 6 * LiteRTModel(tmp_path / "policy.tflite").quantization["outputs"][0][0]
    assert np.array_equal(got.argmax(-1)[resolvable], expected.argmax(-1)[resolvable])


@pytest.mark.parametrize("share", [True, False])
def test_a2c_on_pong_shares_the_extractor_by_default(share, tmp_path):
    kwargs = dict(SMALL) if share else dict(SMALL, share_features_extractor=False)
    agent = agents.A2C(pong(), policy="cnn", seed=0, n_steps=16, policy_kwargs=kwargs)
    assert agent.config.net_arch == () and agent.config.jit_compile is False  # the image-policy defaults
    actor, critic = agent.model.actor, agent.model.critic
    shared = {id(v) for v in actor.trainable_variables} & {id(v) for v in critic.trainable_variables}
    assert len(shared) == (8 if share else 0)  # the Nature CNN's 3 convolutions and dense layer
    assert len(agent.trainable_variables()) == len(actor.trainable_variables) + len(critic.trainable_variables) \
        - len(shared)
    if share:
        check_trains_saves_loads(agent, 64, tmp_path)
    else:  # SAC keeps its net_arch on top of the features, as stable-baselines3
        assert agents.SAC(ImageIdentityEnv(continuous=True), policy="cnn").config.net_arch == (256, 256)


# --------------------------------------------------------------------------- CarRacing (continuous actions)


@pytest.mark.parametrize("name", ["SAC", "TD3", "PPO"])
def test_continuous_agents_on_car_racing(name, tmp_path):
    if name == "PPO":
        params = dict(n_steps=32, batch_size=32, n_epochs=1)
    else:
        params = dict(learning_starts=40, train_freq=20, gradient_steps=4, batch_size=16, buffer_size=300,
                      net_arch=(32,))
    agent = agents.make(name, car_racing(), policy="cnn", seed=0, policy_kwargs=SMALL, **params)
    if name != "PPO":  # SB3's default: the critics share one extractor of their own, not the actor's
        critic_ids = {id(v) for v in agent.model.critic_0.trainable_variables}
        assert not critic_ids & {id(v) for v in agent.model.actor.trainable_variables}
        assert len(critic_ids & {id(v) for v in agent.model.critic_1.trainable_variables}) == 8
        assert not critic_ids & {id(v) for v in agent.model.target_critic_0.trainable_variables}
    frames = check_trains_saves_loads(agent, 80 if name != "PPO" else 64, tmp_path)
    if name == "SAC":
        check_litert_int8(agent, frames, tmp_path)


def test_ddpg_shared_extractor_is_trained_by_the_actor_only():
    """share_features_extractor=True (SAC/TD3/DDPG): the critics see the actor's features behind stop_gradient."""
    agent = agents.DDPG(ImageIdentityEnv(shape=(2, 36, 36, 3), continuous=True), policy="cnn", seed=0,
                        learning_starts=20, train_freq=20, gradient_steps=2, batch_size=8, net_arch=(16,),
                        policy_kwargs=dict(SMALL, share_features_extractor=True))
    extractor = agent.model.actor.get_layer("actor_features")
    features = {id(v) for v in extractor.trainable_variables}
    critic_vars = agent.model.critic_0.trainable_variables
    assert features <= {id(v) for v in critic_vars}
    obs = tf.constant(agent.observation_space.sample()[None], tf.float32)
    with tf.GradientTape() as tape:
        q = agent.model.critic_0([obs, tf.zeros((1, 1))])
    grads = tape.gradient(q, critic_vars)
    assert [g is None for g in grads] == [id(v) in features for v in critic_vars]
    before = [v.numpy().copy() for v in extractor.trainable_variables]
    agent.learn(60)  # the actor's updates move the shared features
    assert all(not np.array_equal(b, v.numpy()) for b, v in zip(before, extractor.trainable_variables))


# --------------------------------------------------------------------------- layouts, backbones, every agent


@pytest.mark.parametrize("shape, moved", [
    ((36, 36, 1), lambda x: x),
    ((36, 36), lambda x: x[..., None]),
    ((4, 36, 36), lambda x: np.moveaxis(x, 1, -1)),
    ((2, 36, 36, 3), lambda x: np.moveaxis(x, 1, 3).reshape(len(x), 36, 36, 6)),
])
def test_frames_are_scaled_and_stacks_moved_into_the_channels(shape, moved):
    space = gym.spaces.Box(0, 255, shape, np.uint8)
    nets = PolicyNetworks("cnn", None, "test", None).bind(space, normalize_obs=False)
    extractor = nets.extractor("features")
    channels = extractor.get_layer("channels" if len(shape) != 3 or shape[0] < shape[2] else "scale")
    frames = np.random.default_rng(0).integers(0, 256, (2, *shape), dtype=np.uint8)
    images = keras.Model(extractor.input, channels.output)(frames)
    np.testing.assert_allclose(images, moved(frames.astype("float32")) / 255.0, rtol=1e-6)
    assert image_layout(shape)[1] == (36, 36, images.shape[-1])


@pytest.mark.parametrize("name, shape, params", [
    ("DQN", (4, 36, 36), dict(dueling=True, double_q=True)), ("REINFORCE", (36, 36), {}),
])
def test_the_other_agents_and_heads_run_an_image_policy(name, shape, params):
    """REINFORCE and DQN's dueling head (A2C, DQN: Pong; SAC, TD3, PPO: CarRacing; DDPG, PPO: below)."""
    params = {**agents.registry.agent_class(name).test_config, **params}
    agent = agents.make(name, ImageIdentityEnv(shape=shape), policy="cnn", seed=0, policy_kwargs=SMALL, **params)
    before = trainable(agent)
    agent.learn(100)
    assert any(not np.array_equal(before[v.path], v.numpy()) for v in agent.model.trainable_variables)
    assert agent.policy_model.output_shape == (None, 2)


def test_zoo_backbone_with_its_kwargs_saves_and_loads(tmp_path):
    env = ImageIdentityEnv(shape=(16, 16, 3))
    agent = agents.A2C(env, policy="simple_cnn", seed=0, n_steps=16,
                       policy_kwargs=dict(filters=(8, 16), share_features_extractor=False))
    backbone = agent.model.actor.get_layer("actor_features").get_layer("simple_cnn")
    assert backbone.input_shape == (None, 16, 16, 3) and backbone.output_shape == (None, 16)  # avg-pooled
    assert agent.model.critic.get_layer("critic_features").get_layer("simple_cnn") is not backbone
    check_trains_saves_loads(agent, 64, tmp_path)
    with zipfile.ZipFile(tmp_path / "agent.zip") as zf:
        config = json.loads(zf.read("config.json"))
    assert config["policy"] == "simple_cnn"
    assert config["policy_kwargs"] == {"filters": [8, 16], "share_features_extractor": False}


def test_ppo_cnn_learns_the_image_identity_env():
    """A uniform policy scores 20/3; the CNN learns to read the lit band (measured: 20 of 20 after 256 steps,
    seeds 0-2; the untrained greedy policy scored 11.6, 7.8 and 6.4)."""
    vec = gym.vector.SyncVectorEnv([lambda: ImageIdentityEnv(n=3)] * 4, autoreset_mode=SAME_STEP)
    agent = agents.PPO(vec, policy="cnn", seed=0, n_steps=32, batch_size=64, learning_rate=1e-3,
                       policy_kwargs=dict(features_dim=64))
    before, _ = agents.evaluate(agent, ImageIdentityEnv(n=3), n_episodes=5)
    agent.learn(512)
    after, _ = agents.evaluate(agent, ImageIdentityEnv(n=3), n_episodes=5)
    assert after >= 19 and after > before + 5, (before, after)


# --------------------------------------------------------------------------- errors, before any training


@pytest.mark.parametrize("make, error, message", [
    (lambda: agents.PPO("CartPole-v1", policy="cnn"), ValueError,
     r"PPO: invalid policy='cnn'; expected 'mlp' for the observation space Box\(.*\(4,\).*needs image observations"),
    (lambda: agents.PPO(ImageIdentityEnv(shape=(24, 24, 1)), policy="cnn"), ValueError,
     r"at least 36x36.*24x24.*ResizeObservation\(env, \(84, 84\)\)"),
    (lambda: agents.PPO(ImageIdentityEnv(shape=(16, 16, 3)), policy="resnet18"), ValueError,
     r"policy='resnet18'.*at least 32x32.*zoo.info\('resnet18'\).*ResizeObservation\(env, \(32, 32\)\)"),
    (lambda: agents.DQN(ImageIdentityEnv(), policy="cnnn"), ValueError,
     r"DQN: invalid policy='cnnn'.*did you mean 'cnn'.*'mlp' \('MlpPolicy'\), 'cnn' \('CnnPolicy'\).*resnet18"),
    (lambda: agents.DQN(ImageIdentityEnv(), policy="bert"), ValueError, r"zoo model 'bert' is not one \(task 'masked-lm'"),
    (lambda: agents.DQN(ImageIdentityEnv(), policy=42), TypeError, r"DQN: invalid policy=42"),
    (lambda: agents.PPO(ImageIdentityEnv(), policy="cnn", policy_kwargs=[("features_dim", 8)]), TypeError,
     r"PPO: invalid policy_kwargs=\[\('features_dim', 8\)\]; expected a dict"),
    (lambda: agents.PPO(ImageIdentityEnv(), policy="cnn", policy_kwargs={"feature_dim": 8}), ValueError,
     r"unknown key 'feature_dim' \(did you mean features_dim\?\).*accepted keys: share_features_extractor, "
     r"normalize_images, features_dim"),
    (lambda: agents.DQN(ImageIdentityEnv(), policy="cnn", policy_kwargs={"share_features_extractor": True}),
     ValueError, r"unknown key 'share_features_extractor'.*accepted keys: normalize_images, features_dim"),
    (lambda: agents.PPO("CartPole-v1", policy_kwargs={"features_dim": 8}), ValueError,
     r"policy='mlp' takes no policy_kwargs"),
    (lambda: agents.PPO(ImageIdentityEnv(), policy="simple_cnn", policy_kwargs={"filterz": (8,)}), ValueError,
     r"unknown key 'filterz' \(did you mean filters"),
    (lambda: agents.PPO(ImageIdentityEnv(), policy="simple_cnn", policy_kwargs={"pooling": None}), ValueError,
     r"invalid policy_kwargs\['pooling'\]=None; expected 'avg' or 'max'"),
    (lambda: agents.PPO(ImageIdentityEnv(), policy="cnn", policy_kwargs={"features_dim": 0}), ValueError,
     r"invalid policy_kwargs\['features_dim'\]=0"),
    (lambda: agents.PPO(ImageIdentityEnv(), policy="cnn", policy_kwargs={"normalize_images": "yes"}), ValueError,
     r"invalid policy_kwargs\['normalize_images'\]='yes'; expected True or False"),
    (lambda: agents.PPO(ImageIdentityEnv(), policy="simple_cnn", policy_kwargs={"filters": {8, 16}}), TypeError,
     r"invalid policy_kwargs\['filters'\]=\{8, 16\}; expected JSON data"),
    (lambda: agents.PPO(ImageIdentityEnv(), policy="cnn", normalize_obs=True), ValueError,
     r"invalid normalize_obs=True; expected False with policy='cnn'"),
])
def test_bad_policies_fail_before_anything_is_built(make, error, message):
    with pytest.raises(error, match=message):
        make()
