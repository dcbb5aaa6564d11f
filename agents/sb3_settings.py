"""stable-baselines3's side of the agents benchmark: its arguments equal to a dlzoo agent's
configuration, and the key its cached returns are stored under (``agents.benchmark``)."""

from __future__ import annotations

import hashlib
import json

__all__ = ["sb3_kwargs", "sb3_settings_key"]

_SDE_FIELDS = {True: ("use_sde", "sde_sample_freq"), False: ("use_sde", "sde_sample_freq", "log_std_init")}


def sb3_kwargs(name, config):
    """stable-baselines3 arguments equal to a dlzoo agent's configuration."""
    import numpy as np
    import torch
    from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    c = config
    lr = (lambda p, lr=c.learning_rate: p * lr) if c.lr_schedule == "linear" else c.learning_rate
    act = {"tanh": "Tanh", "relu": "ReLU"}[c.activation]
    policy_kwargs = dict(net_arch=list(c.net_arch), activation_fn=getattr(torch.nn, act))
    sde = dict(use_sde=True, sde_sample_freq=c.sde_sample_freq) if getattr(c, "use_sde", False) else {}
    if name in ("PPO", "A2C") or sde:
        policy_kwargs["log_std_init"] = c.log_std_init
    if name in ("PPO", "A2C"):
        policy_kwargs["ortho_init"] = c.ortho_init
    if getattr(c, "use_expln", False):
        policy_kwargs["use_expln"] = True
    if getattr(c, "use_sde_at_warmup", False):
        sde["use_sde_at_warmup"] = True
    common = dict(learning_rate=lr, gamma=c.gamma, policy_kwargs=policy_kwargs, **sde)
    if name in ("PPO", "A2C"):
        on = dict(common, n_steps=c.n_steps, gae_lambda=c.gae_lambda, ent_coef=c.ent_coef, vf_coef=c.vf_coef,
                  max_grad_norm=c.max_grad_norm, normalize_advantage=c.normalize_advantage)
        if name == "A2C" and c.rms_prop_form == "tf":  # rl-zoo's Atari optimizer
            from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

            policy_kwargs.update(optimizer_class=RMSpropTFLike, optimizer_kwargs=dict(alpha=0.99, eps=c.rms_prop_eps))
        if name == "A2C":
            return dict(on, rms_prop_eps=c.rms_prop_eps)
        clip = (lambda p, v=c.clip_range: p * v) if c.clip_schedule == "linear" else c.clip_range
        return dict(on, batch_size=c.batch_size, n_epochs=c.n_epochs, clip_range=clip)
    off = dict(common, buffer_size=c.buffer_size, learning_starts=c.learning_starts, batch_size=c.batch_size,
               tau=c.tau, train_freq=c.train_freq, gradient_steps=c.gradient_steps)
    if name == "DQN":  # SB3's DQN has no double_q or dueling: it runs without them (the table says so)
        return dict(off, target_update_interval=c.target_update_interval, exploration_fraction=c.exploration_fraction,
                    exploration_initial_eps=c.exploration_initial_eps, exploration_final_eps=c.exploration_final_eps,
                    max_grad_norm=c.max_grad_norm)
    if name == "SAC":
        return dict(off, ent_coef=c.ent_coef, target_update_interval=c.target_update_interval)
    if name in ("TD3", "DDPG"):
        extra = dict(policy_delay=c.policy_delay, target_policy_noise=c.target_policy_noise,
                     target_noise_clip=c.target_noise_clip) if name == "TD3" else {}
        noise = OrnsteinUhlenbeckActionNoise if c.action_noise_type == "ornstein-uhlenbeck" else NormalActionNoise
        return dict(off, action_noise=noise(np.zeros(1), c.action_noise * np.ones(1)), **extra)
    raise ValueError(f"no stable-baselines3 mapping for {name!r}")


def sb3_settings_key(algo, env_id, steps, config):
    """What SB3's returns depend on: its version, the row, and the settings (hashed)."""
    import stable_baselines3 as sb3

    fields = {k: v for k, v in sorted(vars(config).items()) if not k.startswith("_")}
    if not fields.get("use_sde"):  # fields added with gSDE that change nothing when it is off: older keys still hold
        fields = {k: v for k, v in fields.items() if k not in _SDE_FIELDS[algo in ("PPO", "A2C")]}
    if fields.get("ortho_init") is True:  # SB3's default, which it always ran with
        del fields["ortho_init"]
    # dlzoo's side only: its initialisation and Adam (SB3 always runs PyTorch's), its compiler
    for name in ("torch_init", "adam_form", "jit_compile"):
        fields.pop(name, None)
    for name, default in (("normalize_reward", False), ("rms_prop_form", "torch"), ("use_expln", False),
                          ("use_sde_at_warmup", False), ("action_noise_type", "normal")):  # as before the field existed
        if name in fields and fields[name] == default:
            del fields[name]
    digest = hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"sb3-{sb3.__version__}/{algo}/{env_id}/{steps}/{digest}"
