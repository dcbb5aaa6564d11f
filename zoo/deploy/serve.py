"""A small HTTP JSON endpoint for local use: ``python -m zoo serve PATH --port N``.

Built on the standard library (``http.server``) and shaped like TensorFlow
Serving's REST API, so a client written against one works with the other:

    GET  /v1/models/NAME             -> {"model_version_status": [{"version": "1", "state": "AVAILABLE", ...}]}
    GET  /v1/models/NAME/metadata    -> input and output description
    POST /v1/models/NAME:predict     {"instances": [[...], ...]}  -> {"predictions": [[...], ...]}
                                     ({"inputs": ...} is accepted too; a model that takes
                                     strings gets {"instances": ["some text", ...]})

``PATH`` is a SavedModel folder (``zoo.export.saved_model``), a ``.tflite`` file
(``zoo.export.litert``) or a ``.keras`` file. Errors answer with a status code
and ``{"error": "..."}``. For production serving use TensorFlow Serving on the
SavedModel; this endpoint is for local use and tests (it binds 127.0.0.1 by default).
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

__all__ = ["make_server", "serve", "MAX_BODY_BYTES"]

#: Largest request body accepted (bytes).
MAX_BODY_BYTES = 64 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server_version = "dlzoo-serve/1"

    def log_message(self, fmt, *args):  # quiet by default; server.verbose turns it on
        if getattr(self.server, "verbose", False):
            super().log_message(fmt, *args)

    def _reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.count_request()

    def _route(self):
        prefix = f"/v1/models/{self.server.model_name}"
        path = self.path.split("?")[0].rstrip("/")
        return prefix, path

    def do_GET(self):
        prefix, path = self._route()
        if path == prefix:
            self._reply(200, {"model_version_status": [
                {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
            ]})
        elif path == prefix + "/metadata":
            self._reply(200, self.server.metadata())
        else:
            self._reply(404, {"error": f"unknown path {self.path!r}; try GET {prefix} or POST {prefix}:predict"})

    def do_POST(self):
        prefix, path = self._route()
        if path != prefix + ":predict":
            self._reply(404, {"error": f"unknown path {self.path!r}; expected POST {prefix}:predict"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(413, {"error": f"request body of {length} bytes exceeds {MAX_BODY_BYTES}"})
            return
        try:
            request = json.loads(self.rfile.read(length) or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            self._reply(400, {"error": f"request body is not valid JSON: {err}"})
            return
        if not isinstance(request, dict) or not ({"instances", "inputs"} & set(request)):
            self._reply(400, {"error": 'expected a JSON object {"instances": [...]} or {"inputs": [...]}'})
            return
        key = "instances" if "instances" in request else "inputs"
        try:
            x = self.server.as_input(request[key], key)
            y = self.server.predict(x)
        except (ValueError, TypeError) as err:
            self._reply(400, {"error": str(err)})
            return
        except Exception as err:  # noqa: BLE001 -- the model failed; report it, keep serving
            self._reply(500, {"error": f"{type(err).__name__}: {err}"})
            return
        out = [np.asarray(o).tolist() for o in y] if isinstance(y, list) else np.asarray(y).tolist()
        self._reply(200, {"predictions" if key == "instances" else "outputs": out})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, runner, model_name, path, max_requests=None, verbose=False):
        super().__init__(address, _Handler)
        self.runner = runner
        self.model_name = model_name
        self.model_path = path
        self.max_requests = max_requests
        self.verbose = verbose
        self.requests = 0
        self._lock = threading.Lock()

    def as_input(self, instances, key):
        """The request's instances as an array: strings for a model that takes them, else float32."""
        if self.takes_strings:
            x = np.asarray(instances, dtype=object)
            bad = [v for v in x.ravel() if not isinstance(v, str)][:3]
            if bad:
                raise ValueError(f"{key!r} must be a list of strings for this model (it takes text); got {bad}")
        else:
            x = np.asarray(instances, dtype="float32")
        if x.ndim == 0:
            raise ValueError(f"{key!r} must be a list of instances, got a scalar")
        return x

    @property
    def takes_strings(self) -> bool:
        """Whether the model's (first) input is a string tensor (a model with its tokenizer inside)."""
        specs = getattr(self.runner, "input_specs", None)
        if specs is not None:
            return bool(specs) and specs[0].dtype.name == "string"
        inputs = getattr(getattr(self.runner, "model", None), "inputs", None) or []
        return bool(inputs) and "string" in str(inputs[0].dtype)

    def predict(self, x):
        with self._lock:  # runners are not all thread-safe
            return self.runner.predict_batch(x)

    def metadata(self):
        from zoo.deploy.runtimes import LiteRTModel

        info = {"model_spec": {"name": self.model_name, "version": "1"}, "path": self.model_path,
                "runner": type(self.runner).__name__}
        if isinstance(self.runner, LiteRTModel):
            info["inputs"] = [{"shape": list(s), "dtype": str(d)} for s, d in
                              zip(self.runner.input_shapes, self.runner.input_dtypes)]
        elif hasattr(self.runner, "input_specs"):
            info["inputs"] = [{"name": n, "shape": s.shape.as_list(), "dtype": s.dtype.name}
                              for n, s in zip(self.runner.input_names, self.runner.input_specs)]
        return info

    def count_request(self):
        with self._lock:
            self.requests += 1
            done = self.max_requests is not None and self.requests >= self.max_requests
        if done:  # shutdown() waits for serve_forever, so call it from another thread
            threading.Thread(target=self.shutdown, daemon=True).start()


def _model_name(path):
    base = os.path.basename(os.path.normpath(path))
    if base.isdigit():  # a TF Serving version folder models/NAME/1
        base = os.path.basename(os.path.dirname(os.path.normpath(path)))
    return os.path.splitext(base)[0] or "model"


def make_server(path, host="127.0.0.1", port=8501, model_name=None, max_requests=None, verbose=False):
    """An HTTP server (not yet serving) for the model at ``path``; ``port=0`` picks a free port.

    ``server.server_address`` holds the bound address; run ``server.serve_forever()``
    (or :func:`serve`) and stop with ``server.shutdown()``. With ``max_requests``
    the server shuts itself down after answering that many requests.
    """
    from zoo.deploy.runtimes import load

    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(f"serve: invalid port={port!r}; expected an integer in [0, 65535]")
    if max_requests is not None and (not isinstance(max_requests, int) or max_requests < 1):
        raise ValueError(f"serve: invalid max_requests={max_requests!r}; expected None or a positive integer")
    runner = load(path)
    try:
        return _Server((host, port), runner, model_name or _model_name(path), os.fspath(path), max_requests, verbose)
    except OSError as err:  # port in use, no permission, unknown host
        raise ValueError(f"serve: cannot listen on host={host!r} port={port!r}: {err.strerror or err}") from err


def serve(path, host="127.0.0.1", port=8501, model_name=None, max_requests=None, timeout=None, verbose=True, echo=print):
    """Serve the model at ``path`` until interrupted, ``max_requests`` answers or ``timeout`` seconds."""
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ValueError(f"serve: invalid timeout={timeout!r}; expected None or a positive number of seconds")
    server = make_server(path, host, port, model_name, max_requests, verbose)
    timer = threading.Timer(timeout, server.shutdown) if timeout else None
    host, port = server.server_address[:2]
    echo(f"serving {path} as {server.model_name!r} on http://{host}:{port}/v1/models/{server.model_name}:predict")
    if timer:
        timer.daemon = True
        timer.start()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        if timer:
            timer.cancel()
        server.server_close()
    return server.requests
