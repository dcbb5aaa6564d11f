"""Run by ``test_resume.py`` in a subprocess: ``python resume_script.py NAME CHECKPOINT_DIR OUT.npz``.

It calls ``learn`` with ``checkpoint_dir``; once this process has written a
checkpoint it sleeps at every epoch end, so that the test's SIGKILL lands
mid-run. A rerun (a checkpoint already there at the start) does not sleep: it
resumes, finishes and writes the final weights to ``OUT.npz``.
"""

import os
import sys
import time

#: name -> (env id, total_timesteps, checkpoint_every, hyperparameters): tiny runs on CartPole
RUNS = {
    "PPO": ("CartPole-v1", 256, 64, dict(n_envs=2, n_steps=32, batch_size=32, n_epochs=2, net_arch=(16,),
                                           jit_compile=False, use_rl_zoo=False)),
    "DQN": ("CartPole-v1", 300, 100, dict(learning_starts=50, train_freq=4, gradient_steps=4, batch_size=32,
                                           net_arch=(16,), log_interval=100, buffer_size=5000,
                                           target_update_interval=30, jit_compile=False, use_rl_zoo=False)),
}


def make(name):
    """The agent of ``RUNS[name]`` and its ``(total_timesteps, checkpoint_every)``."""
    import agents

    env, total, every, params = RUNS[name]
    return agents.make(name, env, seed=0, **params), total, every


def main(name, checkpoint_dir, out):
    import keras
    import numpy as np

    from agents.checkpoint import checkpoint_path

    resuming = os.path.exists(checkpoint_path(checkpoint_dir))

    class HoldAfterFirstCheckpoint(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if not resuming and os.path.exists(checkpoint_path(checkpoint_dir)):
                time.sleep(120)

    agent, total, every = make(name)
    agent.learn(total, callbacks=[HoldAfterFirstCheckpoint()], checkpoint_dir=checkpoint_dir, checkpoint_every=every)
    np.savez(out, *agent.model.get_weights(), num_timesteps=agent.num_timesteps)


if __name__ == "__main__":
    main(*sys.argv[1:])
