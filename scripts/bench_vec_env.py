"""What vec_env="async" gains: PPO's learn with the env copies in subprocesses against one process.

    python scripts/bench_vec_env.py [--ms 0 3] [--wait-ms 3] [--n-envs 2 4] [--steps 1024] [--repeats 3]

The env is CartPole-v1 with a wrapper that makes each step expensive: ``--ms`` milliseconds
of fixed CPU work (a stand-in for a physics or game simulator; a count of loop iterations
calibrated once, so a descheduled process does not finish early), or ``--wait-ms``
milliseconds of waiting (a simulator in another process or machine answering; no CPU
used). For each cost and ``n_envs``, one PPO agent per kind is built (same seed) and their
``learn(steps)`` calls are timed alternately (``benchlib.alternate``): the ratio is the
median of async / sync (< 1: async is faster). The start-up of the async agent (its
subprocesses) is printed apart. ``--ms 0`` is plain CartPole, where async only adds
inter-process traffic. CPU work runs in parallel only on free cores: the load average is
printed with the figures.

TensorFlow is imported inside ``main``, not at the top: each subprocess imports this
file (the multiprocessing rule for forkserver and spawn), and would otherwise import it too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import gymnasium as gym

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import alternate, emit  # noqa: E402

ENV_ID = "dlzoo-bench/BusyCartPole-v1"
PPO_SETTINGS = dict(n_steps=64, batch_size=64, n_epochs=4, net_arch=(64, 64), use_rl_zoo=False)


class BusyStep(gym.Wrapper):
    """Does ``work`` loop iterations of CPU work, then waits ``wait`` seconds, in every ``step``."""

    def __init__(self, env, work: int = 0, wait: float = 0.0):
        super().__init__(env)
        self.work, self.wait = int(work), float(wait)

    def step(self, action):
        acc = 0
        for i in range(self.work):
            acc += i * i
        if self.wait:
            time.sleep(self.wait)
        return self.env.step(action)


def busy_cartpole(work: int = 0, wait: float = 0.0):
    from gymnasium.envs.classic_control.cartpole import CartPoleEnv

    return BusyStep(CartPoleEnv(), work, wait)


def iterations_per_ms() -> float:
    """Loop iterations of ``BusyStep`` per millisecond on this machine (the best of 5 measurements)."""
    env, n = BusyStep(gym.make("CartPole-v1"), 200_000), []
    env.reset(seed=0)
    for _ in range(5):
        start = time.perf_counter()
        env.step(0)
        n.append(env.work / ((time.perf_counter() - start) * 1000))
    return max(n)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ms", type=float, nargs="*", default=[0.0, 3.0], help="CPU milliseconds per env step")
    parser.add_argument("--wait-ms", type=float, nargs="*", default=[3.0], help="milliseconds of waiting per step")
    parser.add_argument("--n-envs", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--steps", type=int, default=1024, help="env steps per learn (all copies together)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from zoo.core import quiet

    quiet.install()  # TensorFlow's logs stay off the console (DLZOO_VERBOSE=1 brings them back)
    import agents

    rate = iterations_per_ms()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other work competes for the cores); "
          f"{rate:.0f} loop iterations per ms; start method {agents.env_util.START_METHOD}", flush=True)
    rows = []
    costs = [(f"{ms:g} ms CPU/step", dict(work=int(ms * rate))) for ms in args.ms]
    costs += [(f"{ms:g} ms wait/step", dict(wait=ms / 1000)) for ms in args.wait_ms]
    for cost, kwargs in costs:
        gym.register(ENV_ID, entry_point=busy_cartpole, kwargs=kwargs, max_episode_steps=500)
        for n_envs in args.n_envs:
            built, start = {}, {}
            for kind in ("sync", "async"):
                t0 = time.perf_counter()
                built[kind] = agents.PPO(ENV_ID, n_envs=n_envs, seed=0, vec_env=kind, **PPO_SETTINGS)
                start[kind] = time.perf_counter() - t0
            times = alternate({kind: (lambda a=agent: a.learn(args.steps)) for kind, agent in built.items()},
                              repeats=args.repeats)
            sync, asyn = statistics.median(times["sync"]), statistics.median(times["async"])
            ratio = statistics.median(a / s for a, s in zip(times["async"], times["sync"]))
            print(f"{cost}, n_envs={n_envs}: sync {sync:.2f} s, async {asyn:.2f} s (median of "
                  f"{args.repeats}), async/sync {ratio:.2f}; async start-up {start['async']:.2f} s "
                  f"(sync {start['sync']:.2f} s)", flush=True)
            rows.append(dict(measure=f"PPO learn {args.steps} steps, {cost}, n_envs={n_envs}", peer="sync",
                             ratio=ratio, sync_s=round(sync, 2), async_s=round(asyn, 2),
                             async_startup_s=round(start["async"], 2), load_average=round(os.getloadavg()[0], 1)))
            for agent in built.values():
                agent.close()
        del gym.registry[ENV_ID]
    emit("vec_env", rows)
    return rows


if __name__ == "__main__":
    main()
