"""zoo.inference (batch, streaming, edge, cloud runners) and zoo.serve (HTTP endpoint)."""

import json
import threading
import urllib.error
import urllib.request

import keras
import numpy as np
import pytest

import zoo
from zoo import export, inference, serve


@pytest.fixture(scope="module")
def mlp():
    keras.utils.set_random_seed(0)
    return zoo.get("mlp", hidden_units=(32,))


@pytest.fixture(scope="module")
def x64():
    return np.random.default_rng(0).random((50, 64), dtype="float32")


def test_batch_predict_arrays_and_datasets(mlp, x64):
    expected = mlp.predict(x64, verbose=0)
    np.testing.assert_allclose(inference.batch_predict(mlp, x64, batch_size=16, progress=False), expected, atol=1e-6)
    ds = zoo.data.as_dataset(x64, np.zeros(50, "int32"), batch_size=7, shuffle=False)  # (x, y) elements
    np.testing.assert_allclose(inference.batch_predict(mlp, ds, progress=True), expected, atol=1e-6)
    with pytest.raises(ValueError, match="invalid batch_size=0"):
        inference.batch_predict(mlp, x64, batch_size=0)


def test_chunked_stream_matches_batch_and_records_latency(mlp, x64):
    result = inference.stream(mlp, x64, chunk_size=8)
    assert result.steps == 7 and len(result.latencies_ms) == 7 and np.all(result.latencies_ms > 0)
    stats = result.stats()
    assert stats["p50_ms"] <= stats["p95_ms"] <= stats["max_ms"]
    np.testing.assert_allclose(result.outputs, mlp.predict(x64, verbose=0), atol=1e-6)
    # any iterable of chunks streams too (a generator reading a sensor, a queue)
    gen = (x64[i:i + 5] for i in range(0, 50, 5))
    assert inference.stream(mlp, gen).outputs.shape == (50, 10)


def test_stateful_stream_equals_whole_sequence():
    keras.utils.set_random_seed(0)
    model = zoo.get("lstm", input_shape=(6, 3), units=8, num_classes=4)
    live = model.streaming(batch_size=2)
    x = np.random.default_rng(1).random((2, 6, 3), dtype="float32")
    result = inference.stream(live, x)
    assert result.outputs.shape == (2, 6, 4) and result.steps == 6
    # after the last step the stateful model has seen the whole sequence
    np.testing.assert_allclose(result.outputs[:, -1], np.asarray(model(x)), atol=1e-5)
    again = inference.stream(live, x)  # reset between streams: the same answer
    np.testing.assert_allclose(again.outputs, result.outputs, atol=1e-6)
    s = inference.Stream(live)
    assert s.mode == "stateful"
    with pytest.raises(ValueError, match=r"invalid input of shape \(2,\)"):
        s.step(np.zeros(2))


def test_stream_bad_mode(mlp):
    with pytest.raises(ValueError, match="mode='stateful' needs a model with stateful"):
        inference.Stream(mlp, mode="stateful")
    with pytest.raises(ValueError, match="invalid mode='live'"):
        inference.Stream(mlp, mode="live")


def test_load_opens_every_export(mlp, x64, tmp_path):
    expected = np.asarray(mlp(x64[:4]))
    paths = [
        export.keras_file(mlp, tmp_path / "m.keras"),
        export.saved_model(mlp, tmp_path / "sm"),
        export.litert(mlp, tmp_path / "m.tflite"),
    ]
    for path in paths:
        runner = inference.load(path)
        np.testing.assert_allclose(runner.predict(x64[:4]), expected, atol=1e-5)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        inference.load(tmp_path / "nothing.tflite")
    (tmp_path / "m.onnx").write_bytes(b"")
    with pytest.raises(ValueError, match="expected a .tflite file, a SavedModel folder or a .keras file"):
        inference.load(tmp_path / "m.onnx")


def _post(url, payload, timeout=10):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_http_endpoint_answers_on_localhost_and_stops(mlp, x64, tmp_path):
    path = export.saved_model(mlp, tmp_path / "digits" / "1")
    server = serve.make_server(path, port=0, max_requests=4)  # port 0: a free port
    host, port = server.server_address[:2]
    assert host == "127.0.0.1" and server.model_name == "digits"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}/v1/models/digits"
        with urllib.request.urlopen(base, timeout=10) as r:
            assert json.loads(r.read())["model_version_status"][0]["state"] == "AVAILABLE"
        status, reply = _post(base + ":predict", {"instances": x64[:3].tolist()})
        assert status == 200
        np.testing.assert_allclose(np.array(reply["predictions"]), np.asarray(mlp(x64[:3])), atol=1e-5)
        status, reply = _post(base + ":predict", b"{not json")
        assert status == 400 and "not valid JSON" in reply["error"]
        status, reply = _post(base + ":predict", {"instances": [[1.0, 2.0]]})
        assert status == 400 and "shape" in reply["error"]
    finally:
        thread.join(timeout=20)  # it stops by itself after max_requests answers
        if thread.is_alive():
            server.shutdown()
        server.server_close()
    assert not thread.is_alive() and server.requests == 4


def test_cli_serve_tflite_stops_by_itself(mlp, x64, tmp_path):
    from zoo.cli import main

    path = export.litert(mlp, tmp_path / "m.tflite")
    probe = serve.make_server(path, port=0)  # find a free port, then release it
    port = probe.server_address[1]
    probe.server_close()
    codes = []
    thread = threading.Thread(
        target=lambda: codes.append(main(["serve", path, "--port", str(port), "--max-requests", "1", "--timeout", "30"])),
        daemon=True,
    )
    thread.start()
    reply = None
    for _ in range(100):  # wait until it listens (bounded)
        try:
            reply = _post(f"http://127.0.0.1:{port}/v1/models/m:predict", {"instances": x64[:2].tolist()}, timeout=5)
            break
        except (urllib.error.URLError, ConnectionError):
            thread.join(timeout=0.1)
    thread.join(timeout=20)
    assert reply is not None and reply[0] == 200 and np.array(reply[1]["predictions"]).shape == (2, 10)
    assert not thread.is_alive() and codes == [0]


def test_serve_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError):
        serve.make_server(tmp_path / "missing.tflite", port=0)
    with pytest.raises(ValueError, match="invalid port=70000"):
        serve.make_server(tmp_path / "missing.tflite", port=70000)


def test_serve_port_in_use(mlp, tmp_path):
    path = export.keras_file(mlp, tmp_path / "m.keras")
    first = serve.make_server(path, port=0)
    try:
        with pytest.raises(ValueError, match=f"cannot listen on host='127.0.0.1' port={first.server_address[1]}"):
            serve.make_server(path, port=first.server_address[1])
    finally:
        first.server_close()
