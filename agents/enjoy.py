"""Watching a trained agent: play episodes deterministically, optionally as an animated GIF.

``play`` runs the agent's greedy policy on a fresh env (rl-baselines3-zoo's ``enjoy``) and
returns each episode's return and length; with ``gif=`` it keeps the env's ``rgb_array``
frames (up to ``max_frames``, each turned into a palette image at once to bound memory)
and writes them with Pillow as one looping GIF. Rendering ``rgb_array`` frames sets
``SDL_VIDEODRIVER`` and ``SDL_AUDIODRIVER`` to ``dummy`` unless they are set (pygame's
envs would otherwise print "XDG_RUNTIME_DIR is invalid" looking for a display).
"""

from __future__ import annotations

import os

import numpy as np

from agents.env_util import make_env
from zoo.core.checks import check_int, check_number, check_path, fail

__all__ = ["play", "write_gif"]


def write_gif(frames, path, fps: float) -> str:
    """Write Pillow images (or ``(H, W, 3)`` uint8 arrays) as a looping animated GIF at ``fps`` frames/s."""
    from PIL import Image

    path = os.fspath(check_path("path", path, "write_gif"))
    check_number("fps", fps, low=0, low_open=True, owner="write_gif")
    images = [f if isinstance(f, Image.Image) else Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
    if not images:
        raise ValueError("write_gif: invalid frames=[]; expected at least one frame")
    from zoo.core.io import atomic_path

    with atomic_path(path, suffix=".gif") as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], loop=0,
                       duration=max(20, round(1000 / fps)), optimize=False, disposal=1)
    return path


def play(agent, n_episodes: int = 1, seed: int = 0, gif=None, fps: float | None = None, max_frames: int = 1000,
         on_episode=None):
    """Play ``n_episodes`` with ``agent.predict(obs, deterministic=True)``; returns ``[(return, length), ...]``.

    The env is made from ``agent.env_id`` and reset with ``seed`` once (the episodes follow
    on from it, as gymnasium seeds). ``gif``: a path; the first ``max_frames`` rendered frames
    of the episodes go there at ``fps`` (default: the env's ``render_fps``). ``on_episode(i,
    return, length)`` is called after each episode (the command line prints it).
    """
    check_int("n_episodes", n_episodes, minimum=1, owner="play")
    check_int("seed", seed, owner="play")
    check_int("max_frames", max_frames, minimum=2, owner="play")
    if agent.env_id is None:
        fail("agent", agent, "an agent trained on a registered env id", "play")
    if gif is not None:
        check_path("gif", gif, "play")
        check_number("fps", fps, low=0, low_open=True, owner="play", allow_none=True)
    if gif is not None:  # rgb_array frames need no display nor sound: keep SDL (pygame) from asking for them
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    env = make_env(agent.env_id, render_mode="rgb_array" if gif is not None else None)
    if gif is not None and "rgb_array" not in env.metadata.get("render_modes", ()):
        env.close()
        raise ValueError(f"invalid gif={os.fspath(gif)!r}: env {agent.env_id!r} cannot render rgb_array frames "
                         f"(its render modes: {env.metadata.get('render_modes', [])}); expected no --gif")
    frames, results = [], []
    fps = fps if fps is not None else float(env.metadata.get("render_fps") or 30)

    palette = []

    def keep_frame():  # a palette image at once (a third of the memory); the first frame's palette for all (fast)
        if gif is not None and len(frames) < max_frames:
            from PIL import Image

            image = Image.fromarray(np.asarray(env.render(), np.uint8))
            if not palette:
                palette.append(image.quantize(colors=256, method=Image.Quantize.FASTOCTREE))
            frames.append(image.quantize(palette=palette[0], dither=Image.Dither.NONE))

    try:
        obs, _ = env.reset(seed=seed)
        for episode in range(n_episodes):
            if episode:
                obs, _ = env.reset()
            keep_frame()
            total, length, done = 0.0, 0, False
            while not done:
                action, _ = agent.predict(np.asarray(obs), deterministic=True)
                obs, reward, terminated, truncated, _ = env.step(action)
                total, length, done = total + float(reward), length + 1, bool(terminated or truncated)
                keep_frame()
            results.append((total, length))
            if on_episode is not None:
                on_episode(episode, total, length)
    finally:
        env.close()
    if gif is not None:
        write_gif(frames, gif, fps)
    return results
