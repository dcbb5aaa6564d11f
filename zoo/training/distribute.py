"""Strategy resolution for ``tf.distribute``: TPU > multi-worker > multi-GPU > one device.

```python
strategy = zoo.distribute.strategy("auto")      # or "one_device", "mirrored", "multi_worker", "tpu"
history = zoo.train.fit(model_fn, data, strategy=strategy, epochs=10)
```

``auto`` picks, in order:

1. ``TPUStrategy`` when a TPU resolver finds a TPU. The resolver is only asked
   when the machine says it has one (``TPU_NAME``, ``COLAB_TPU_ADDR`` or
   ``TPU_WORKER_ID`` set, or ``/dev/accel*`` / ``/dev/vfio`` TPU devices), so
   that no metadata server is queried on ordinary machines.
2. ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names several workers.
3. ``MirroredStrategy`` over all GPUs when there are several.
4. ``OneDeviceStrategy`` on the first GPU, else on the CPU.

``TF_CONFIG`` is validated before any strategy is built: text that is not JSON,
a cluster without workers, an unknown task type or a worker index out of range
raise ``ValueError`` naming the value and what is accepted.

``MultiWorkerMirroredStrategy`` must be created before TensorFlow runs any
other operation in the process (TensorFlow configures its collective ops at
start-up): create the strategy first thing in the worker program.

For trying strategies without GPUs, :func:`split_cpu` splits the CPU into N
logical devices; it too must run before TensorFlow initialises its devices
(first thing in a process, or in a subprocess).
"""

from __future__ import annotations

import glob
import json
import os

from zoo.core.checks import check_int, check_str, fail

__all__ = [
    "KINDS",
    "strategy",
    "parse_tf_config",
    "num_workers",
    "worker_index",
    "is_chief",
    "split_cpu",
    "check_global_batch",
    "describe",
]

KINDS = ("auto", "one_device", "mirrored", "multi_worker", "tpu")
_WORKER_TYPES = ("chief", "worker")
_TF_CONFIG_EXAMPLE = (
    '{"cluster": {"worker": ["localhost:12345", "localhost:12346"]}, "task": {"type": "worker", "index": 0}}'
)


def parse_tf_config(value: str | dict | None = None) -> dict | None:
    """The validated ``TF_CONFIG`` (``value``, else the environment variable), or None when unset."""
    raw = os.environ.get("TF_CONFIG") if value is None else value
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str):
        try:
            cfg = json.loads(raw)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"invalid TF_CONFIG={_clip(raw)!r}: not JSON ({err}); expected e.g. {_TF_CONFIG_EXAMPLE}"
            ) from None
    else:
        cfg = raw
    if not isinstance(cfg, dict):
        raise ValueError(f"invalid TF_CONFIG={_clip(raw)!r}: expected a JSON object like {_TF_CONFIG_EXAMPLE}")
    cluster = cfg.get("cluster")
    if not isinstance(cluster, dict) or not any(cluster.get(t) for t in _WORKER_TYPES):
        raise ValueError(
            f"invalid TF_CONFIG cluster={cluster!r}: expected a dict naming 'worker' (and optionally 'chief') "
            f"addresses, e.g. {_TF_CONFIG_EXAMPLE}"
        )
    for task_type, addresses in cluster.items():
        if not isinstance(addresses, list) or not all(isinstance(a, str) and ":" in a for a in addresses):
            raise ValueError(
                f"invalid TF_CONFIG cluster[{task_type!r}]={addresses!r}: expected a list of 'host:port' strings"
            )
    task = cfg.get("task")
    if not isinstance(task, dict):
        raise ValueError(f"invalid TF_CONFIG task={task!r}: expected {{'type': 'worker', 'index': 0}}")
    task_type, index = task.get("type"), task.get("index", 0)
    if task_type not in cluster:
        raise ValueError(f"invalid TF_CONFIG task type={task_type!r}; expected one of {sorted(cluster)}")
    n = len(cluster[task_type])
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < n:
        raise ValueError(
            f"invalid TF_CONFIG task index={index!r}: out of range for {n} {task_type!r} task(s); "
            f"expected an integer in 0..{n - 1}"
        )
    return cfg


def num_workers(cfg: dict | None = None) -> int:
    """Number of training processes (chief + workers) in ``TF_CONFIG``; 1 when unset."""
    cfg = parse_tf_config() if cfg is None else cfg
    if not cfg:
        return 1
    return sum(len(cfg["cluster"].get(t, [])) for t in _WORKER_TYPES)


def worker_index(cfg: dict | None = None) -> int:
    """This process's rank among chief + workers (0 is the chief); 0 when ``TF_CONFIG`` is unset."""
    cfg = parse_tf_config() if cfg is None else cfg
    if not cfg:
        return 0
    task = cfg["task"]
    if task["type"] == "chief":
        return 0
    return len(cfg["cluster"].get("chief", [])) + task.get("index", 0)


def is_chief(cfg: dict | None = None) -> bool:
    """Whether this process writes checkpoints and files: the chief, or worker 0 when there is none."""
    return worker_index(cfg) == 0


def _clip(raw, n=80):
    text = raw if isinstance(raw, str) else repr(raw)
    return text if len(text) <= n else text[:n] + "..."


def split_cpu(n: int = 2) -> list[str]:
    """Split the CPU into ``n`` logical devices (for trying strategies without GPUs).

    Must run before TensorFlow initialises its devices; returns the logical
    device names (``/device:CPU:0`` ...).
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"invalid n={n!r}; expected a positive integer number of logical CPU devices")
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if not (current and len(current) == n):
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
        except RuntimeError:
            raise RuntimeError(
                f"split_cpu(n={n}) must run before TensorFlow initialises its devices; call it first thing "
                "in the process (or run the work in a subprocess)"
            ) from None
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def _tpu_present() -> bool:
    if any(os.environ.get(k) for k in ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_WORKER_ID")):
        return True
    return bool(glob.glob("/dev/accel[0-9]*") or glob.glob("/dev/vfio/[0-9]*"))


def _tpu_strategy(tpu: str | None):
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def strategy(kind="auto", *, devices=None, tpu: str | None = None, communication: str = "auto"):
    """A ``tf.distribute.Strategy`` by name (see the module docstring for ``auto``).

    - ``kind``: one of :data:`KINDS`, a ``tf.distribute.Strategy`` (returned as
      is) or None (the strategy whose scope is active, else TF's default).
    - ``devices``: for ``one_device`` (one name) and ``mirrored`` (a list);
      ``mirrored`` defaults to all GPUs, else all logical CPU devices.
    - ``tpu``: the TPU name or address for ``tpu`` (default: the local TPU).
    - ``communication``: ``"auto"``, ``"ring"`` or ``"nccl"`` all-reduce for
      ``multi_worker`` (``auto`` uses NCCL with GPUs, ring otherwise).
    """
    import tensorflow as tf

    if kind is None:
        return tf.distribute.get_strategy()
    if isinstance(kind, tf.distribute.Strategy):
        return kind
    check_str("tpu", tpu, allow_none=True, accepted="a TPU name or address")
    if kind not in KINDS:
        raise ValueError(f"invalid strategy={kind!r}; expected one of {list(KINDS)} or a tf.distribute.Strategy")
    if communication not in ("auto", "ring", "nccl"):
        raise ValueError(f"invalid communication={communication!r}; expected 'auto', 'ring' or 'nccl'")
    if kind == "auto":
        if _tpu_present():
            try:
                return _tpu_strategy(tpu)
            except (ValueError, RuntimeError, tf.errors.OpError):
                pass  # no reachable TPU after all: fall through to the next candidate
        if num_workers() > 1:
            kind = "multi_worker"
        elif len(tf.config.list_physical_devices("GPU")) > 1:
            kind = "mirrored"
        else:
            kind = "one_device"
    if kind == "tpu":
        return _tpu_strategy(tpu)
    if kind == "multi_worker":
        if parse_tf_config() is None:
            raise ValueError(
                "strategy='multi_worker' needs the TF_CONFIG environment variable; expected e.g. "
                f"TF_CONFIG='{_TF_CONFIG_EXAMPLE}' (scripts/launch_local_workers.py sets it for local tries)"
            )
        if communication == "auto":
            communication = "nccl" if tf.config.list_physical_devices("GPU") else "ring"
        impl = {
            "ring": tf.distribute.experimental.CommunicationImplementation.RING,
            "nccl": tf.distribute.experimental.CommunicationImplementation.NCCL,
        }[communication]
        options = tf.distribute.experimental.CommunicationOptions(implementation=impl)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if kind == "mirrored":
        if devices is not None and (not isinstance(devices, (list, tuple)) or not all(isinstance(d, str) for d in devices)):
            fail("devices", devices, "a list of device names such as ['/gpu:0', '/gpu:1'] for strategy='mirrored'",
                 error=TypeError)
        devices = devices or gpus or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=list(devices))
    if devices is not None and not isinstance(devices, str):
        raise ValueError(f"invalid devices={devices!r} for strategy='one_device'; expected one device name")
    return tf.distribute.OneDeviceStrategy(devices or (gpus[0] if gpus else "/cpu:0"))


def check_global_batch(batch_size, strat, *, arg: str = "batch_size") -> None:
    """Raise unless the global ``batch_size`` splits evenly over ``strat``'s replicas.

    An uneven split gives replicas different batch sizes (TensorFlow accepts it
    silently): BatchNormalization statistics then differ between replicas, XLA
    and TPUs recompile or refuse the ragged shapes, and the result no longer
    matches one device with the same global batch.
    """
    check_int(arg, batch_size, minimum=1, allow_none=True)
    replicas = strat.num_replicas_in_sync
    if batch_size is None or replicas == 1:
        return
    if batch_size % replicas:
        lo, hi = (batch_size // replicas) * replicas, (batch_size // replicas + 1) * replicas
        hint = f"{lo} or {hi}" if lo else f"{hi}"
        raise ValueError(
            f"invalid {arg}={batch_size} for {replicas} replicas ({describe(strat)}): the global batch is split "
            f"evenly across replicas; expected a multiple of {replicas} (e.g. {hint})"
        )


def describe(strat) -> str:
    """One line naming a strategy and its replicas, e.g. ``MirroredStrategy, 2 replicas``."""
    n = strat.num_replicas_in_sync
    return f"{type(strat).__name__}, {n} replica{'s' if n != 1 else ''}"
