"""zoo.export: .keras, SavedModel serving signature, LiteRT float/float16/dynamic/full-int8."""

import os

import keras
import numpy as np
import pytest

import zoo
from zoo import export
from zoo.inference import LiteRTModel, SavedModelRunner


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits")


@pytest.fixture(scope="module")
def trained_cnn(digits):
    """A small CNN trained on the 8x8 digits (about 65k parameters, test accuracy ~0.98)."""
    keras.utils.set_random_seed(0)
    model = zoo.get("simple_cnn", input_shape=(8, 8, 1), filters=(32, 64), compile=True)
    model.fit(*digits.train, epochs=7, batch_size=16, verbose=0)
    return model


@pytest.fixture(scope="module")
def mlp():
    keras.utils.set_random_seed(0)
    return zoo.get("mlp", hidden_units=(64,))


def test_full_int8_litert_types_agreement_and_size(trained_cnn, digits, tmp_path):
    x_test, y_test = digits.test
    float_path = export.litert(trained_cnn, tmp_path / "cnn.tflite")
    int8_path = export.litert(
        trained_cnn, tmp_path / "cnn_int8.tflite", quantize="int8", representative_data=digits.train
    )
    runner = LiteRTModel(int8_path)
    # int8 input and output with their scale and zero point set
    assert runner.input_dtypes == [np.dtype("int8")] and runner.output_dtypes == [np.dtype("int8")]
    for scale, zero in runner.quantization["inputs"] + runner.quantization["outputs"]:
        assert scale > 0 and -128 <= zero <= 127
    assert runner.quantization["inputs"][0][0] == pytest.approx(1 / 255, rel=0.05)  # inputs in [0, 1]
    # full integer: every weight tensor is int8 (biases int32), no float kernels left
    kinds = {np.dtype(t["dtype"]) for t in runner.interpreter.get_tensor_details()}
    assert np.dtype("float32") not in kinds and np.dtype("int8") in kinds

    # the runner's float interface is q = round(x / scale) + zero_point in, (q - zero_point) * scale out
    (s_in, z_in), (s_out, z_out) = runner.quantization["inputs"][0], runner.quantization["outputs"][0]
    it = runner.interpreter
    q = np.clip(np.round(x_test[:1] / s_in) + z_in, -128, 127).astype("int8")
    it.resize_tensor_input(runner.input_details[0]["index"], [1, 8, 8, 1])
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], q)
    it.invoke()
    raw = it.get_tensor(it.get_output_details()[0]["index"])
    np.testing.assert_allclose(runner(x_test[:1]), (raw.astype("float32") - z_out) * s_out, atol=1e-7)

    float_pred = trained_cnn.predict(x_test, verbose=0).argmax(-1)
    int8_pred = runner.predict(x_test).argmax(-1)
    assert np.mean(int8_pred == float_pred) >= 0.95
    float_acc, int8_acc = np.mean(float_pred == y_test), np.mean(int8_pred == y_test)
    assert float_acc >= 0.93
    assert int8_acc >= float_acc - 0.02
    assert os.path.getsize(int8_path) <= 0.3 * os.path.getsize(float_path)
    # the float file runs the same function as Keras
    np.testing.assert_allclose(LiteRTModel(float_path).predict(x_test[:32]), trained_cnn.predict(x_test[:32], verbose=0),
                               atol=1e-4)


def test_float16_and_dynamic_range_files(mlp, tmp_path, rng):
    x = rng.random((16, 64), dtype="float32")
    reference = np.asarray(mlp(x))
    sizes = {}
    for mode in (None, "float16", "dynamic"):
        path = export.litert(mlp, tmp_path / f"m_{mode}.tflite", quantize=mode)
        sizes[mode] = os.path.getsize(path)
        runner = LiteRTModel(path)
        assert runner.input_dtypes == [np.dtype("float32")]
        np.testing.assert_allclose(runner(x), reference, atol=2e-2 if mode else 1e-5)
    assert sizes["float16"] < 0.65 * sizes[None]
    assert sizes["dynamic"] < 0.45 * sizes[None]


def test_calibration_accepts_datasets_and_fixed_batch(mlp, tmp_path, rng):
    x = rng.random((120, 64), dtype="float32")
    ds = zoo.data.as_dataset(x, np.zeros(120, "int32"), batch_size=10, shuffle=False)
    path = export.litert(mlp, tmp_path / "m.tflite", quantize="int8", representative_data=ds, batch_size=4)
    runner = LiteRTModel(path)
    assert runner.input_details[0]["shape_signature"][0] == 4
    out = runner(x[:10])  # a fixed-batch file is fed in slices of 4, the last one padded
    assert out.shape == (10, 10)
    np.testing.assert_allclose(out, np.asarray(mlp(x[:10])), atol=0.05)


def test_litert_bad_inputs(mlp, tmp_path, rng):
    x = rng.random((120, 64), dtype="float32")
    with pytest.raises(ValueError, match="representative_data"):
        export.litert(mlp, tmp_path / "m.tflite", quantize="int8")
    with pytest.raises(ValueError, match=r"representative_data of shape \(120, 8, 8\).*\(n, \*\(64,\)\)"):
        export.litert(mlp, tmp_path / "m.tflite", quantize="int8", representative_data=x.reshape(120, 8, 8))
    with pytest.raises(ValueError, match="invalid quantize='int4'"):
        export.litert(mlp, tmp_path / "m.tflite", quantize="int4")
    with pytest.raises(ValueError, match="ending in '.tflite'"):
        export.litert(mlp, tmp_path / "m.lite")
    with pytest.raises(ValueError, match="calibration_samples=0"):
        export.litert(mlp, tmp_path / "m.tflite", quantize="int8", representative_data=x, calibration_samples=0)
    with pytest.raises(TypeError, match="keras.Model"):
        export.litert(lambda x: x, tmp_path / "m.tflite")
    assert not list(tmp_path.iterdir())  # nothing half-written is left behind
    with pytest.raises(FileNotFoundError, match="does not exist"):
        LiteRTModel(tmp_path / "missing.tflite")
    (tmp_path / "junk.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(ValueError, match="could not load"):
        LiteRTModel(tmp_path / "junk.tflite")


def test_litert_runner_checks_input_shape(mlp, tmp_path):
    runner = LiteRTModel(export.litert(mlp, tmp_path / "m.tflite"))
    with pytest.raises(ValueError, match=r"input 0 has shape \(2, 63\); expected \(batch, \*\(64,\)\)"):
        runner(np.zeros((2, 63), "float32"))


def test_saved_model_serving_signature_round_trip(mlp, tmp_path, rng):
    import tensorflow as tf

    x = rng.random((5, 64), dtype="float32")
    path = export.saved_model(mlp, tmp_path / "digits" / "1")
    export.saved_model(mlp, path)  # overwriting an export is atomic and works
    loaded = tf.saved_model.load(path)
    assert "serving_default" in loaded.signatures
    fn = loaded.signatures["serving_default"]
    _, kwargs = fn.structured_input_signature
    assert list(kwargs) == ["inputs"] and kwargs["inputs"].shape.as_list() == [None, 64]
    out = fn(inputs=tf.constant(x))
    np.testing.assert_allclose(out["outputs"].numpy(), np.asarray(mlp(x)), atol=1e-6)
    np.testing.assert_allclose(SavedModelRunner(path)(x), np.asarray(mlp(x)), atol=1e-6)
    with pytest.raises(ValueError, match="invalid signature='predict'"):
        SavedModelRunner(path, signature="predict")


def test_keras_file_round_trip(mlp, tmp_path, rng):
    x = rng.random((3, 64), dtype="float32")
    path = export.keras_file(mlp, tmp_path / "m.keras")
    again = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(mlp(x)), atol=1e-6)
    with pytest.raises(ValueError, match="ending in '.keras'"):
        export.keras_file(mlp, tmp_path / "m.h5")


@pytest.mark.parametrize("algo", ["PPO", "DQN"])
def test_agent_policy_at_the_edge(algo, tmp_path):
    """A short-trained CartPole policy exported to full int8 takes the float policy's greedy action."""
    import gymnasium as gym

    import agents

    if algo == "PPO":
        agent = agents.PPO("CartPole-v1", seed=0).learn(3_000)
    else:  # rl-zoo's DQN starts learning after 1,000 steps: start earlier for a short run
        agent = agents.DQN("CartPole-v1", seed=0, learning_starts=200, train_freq=32, gradient_steps=32,
                           exploration_fraction=0.3, target_update_interval=100).learn(2_000)
    policy = agent.policy_model
    env = gym.make("CartPole-v1")
    states, (obs, _) = [], env.reset(seed=1)
    while len(states) < 600:  # states the float policy visits, with some random steps for coverage
        states.append(obs)
        action = env.action_space.sample() if len(states) % 4 == 0 else int(np.argmax(policy(obs[None])[0]))
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            obs, _ = env.reset()
    states = np.asarray(states, dtype="float32")
    path = export.litert(policy, tmp_path / "policy_int8.tflite", quantize="int8", representative_data=states[::2])
    edge = LiteRTModel(path)
    assert edge.input_dtypes == [np.dtype("int8")]
    outputs = np.asarray(policy(states))
    float_actions = outputs.argmax(-1)
    assert 0.2 < float_actions.mean() < 0.8  # a policy that reacts to the state, not a constant
    assert np.array_equal(float_actions, agent.predict(states)[0])  # policy_model is what the agent acts on
    same = edge.predict(states).argmax(-1) == float_actions
    if algo == "PPO":
        assert np.mean(same) >= 0.95
    else:
        # a short-trained DQN has near-ties: Q gaps of 1e-3 on values of ~20. The int8 file cannot
        # resolve gaps below its output step; wherever the gap exceeds it, the greedy action agrees.
        gap = np.abs(outputs[:, 0] - outputs[:, 1])
        resolvable = gap > edge.quantization["outputs"][0][0]
        assert resolvable.mean() > 0.5 and np.mean(same[resolvable]) >= 0.95

    def episode_return(act, seed):
        env, total, done = gym.make("CartPole-v1"), 0.0, False
        obs, _ = env.reset(seed=seed)
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(act(obs[None].astype("float32")).argmax(-1)[0]))
            total, done = total + reward, terminated or truncated
        return total

    float_return = np.mean([episode_return(lambda o: np.asarray(policy(o)), s) for s in range(3)])
    int8_return = np.mean([episode_return(edge.predict_batch, s) for s in range(3)])
    assert int8_return >= 0.9 * float_return  # the int8 policy reaches the float policy's return
    if algo == "DQN":
        assert float_return > 50  # (3,000 PPO steps do not reach that yet; 2,000 DQN steps do)


def test_cli_export_and_quantize(mlp, tmp_path, capsys, rng):
    from zoo.cli import main
    from zoo.inference import load

    src = export.keras_file(mlp, tmp_path / "m.keras")
    x = rng.random((4, 64), dtype="float32")
    assert main(["quantize", src, str(tmp_path / "m8.tflite"), "--data", "digits"]) == 0
    assert LiteRTModel(tmp_path / "m8.tflite").input_dtypes == [np.dtype("int8")]
    np.save(tmp_path / "rep.npy", rng.random((100, 64), dtype="float32"))
    assert main(["export", src, str(tmp_path / "f16.tflite"), "--quantize", "float16"]) == 0
    assert main(["quantize", src, str(tmp_path / "q.keras")]) == 0  # Keras-native int8 weights
    assert main(["export", src, str(tmp_path / "sm")]) == 0
    for out in ("f16.tflite", "q.keras", "sm"):
        np.testing.assert_allclose(load(tmp_path / out).predict(x), np.asarray(mlp(x)), atol=0.02)
    assert main(["quantize", src, str(tmp_path / "bad.tflite")]) == 2
    assert "needs representative_data" in capsys.readouterr().err
    assert main(["quantize", src, str(tmp_path / "r8.tflite"), "--representative", str(tmp_path / "rep.npy")]) == 0
