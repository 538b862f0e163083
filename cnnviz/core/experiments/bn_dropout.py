"""Batch norm and dropout in their two modes, training and evaluation.

Batch norm: "BN calculates the mean and standard deviation of each input variable, to a
layer per mini-batch and uses this to perform the standardization",
x̂ = (x − μ) / √(σ² + ε). In training it uses the batch's own μ and σ²; at test time the
running statistics it gathered while training.

    s = batch_statistics(network, images, "bn1")
    s.batch_mean, s.batch_var, s.running_mean, s.running_var      # (C,) each
    s.normalise(value, channel)                                   # the formula's numbers

Dropout: "we randomly add dropout only during the training time, (testing time, we activate
back all nodes)". dropout_samples runs the current input many times with only the dropout
layers in training mode (batch norm stays in evaluation mode: a batch of one copy would
break its statistics) and records which units each sample dropped.

Qt-free.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from ..networks.network import probabilities

__all__ = ["BatchStatistics", "DropoutSamples", "batch_statistics", "dropout_samples",
           "layer_names"]


def layer_names(network, kind: str) -> list[str]:
    return [i.name for i in network.layer_infos if i.kind == kind]


@torch.no_grad()
def _inputs_of(network, images: np.ndarray, name: str) -> torch.Tensor:
    """What layer `name` receives for a batch of (B, H, W) or (B, C, H, W) inputs, in
    evaluation mode."""
    network.eval()
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    if x.ndim == 3:
        x = x[:, None]
    if name not in network.layers:
        raise KeyError(name)
    seen = []
    hook = network.layers[name].register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    try:
        for layer_name, _ in network.layer_outputs((x - network.input_mean) / network.input_std):
            if layer_name == name:
                return seen[0]
    finally:
        hook.remove()
    raise KeyError(name)


@dataclass(frozen=True, eq=False)
class BatchStatistics:
    name: str
    inputs: np.ndarray  # (B, C, H, W) or (B, N): what the layer receives
    batch_mean: np.ndarray  # (C,) μ over the batch (and every position of each map)
    batch_var: np.ndarray  # (C,) σ², the biased variance batch norm divides by
    running_mean: np.ndarray  # (C,) what it uses at test time
    running_var: np.ndarray
    weight: np.ndarray  # (C,) γ
    bias: np.ndarray  # (C,) β
    eps: float

    def normalise(self, value: float, channel: int, training: bool = True) -> dict:
        """The lecture's formula for one value: x̂ = (x − μ) / √(σ² + ε), then y = γ·x̂ + β;
        with the batch's statistics (training) or the running ones (evaluation)."""
        mu = float((self.batch_mean if training else self.running_mean)[channel])
        var = float((self.batch_var if training else self.running_var)[channel])
        x_hat = (float(value) - mu) / np.sqrt(var + self.eps)
        gamma, beta = float(self.weight[channel]), float(self.bias[channel])
        return {"x": float(value), "mu": mu, "var": var, "eps": self.eps, "x_hat": float(x_hat),
                "gamma": gamma, "beta": beta, "y": gamma * float(x_hat) + beta}


def batch_statistics(network, images: np.ndarray, name: str) -> BatchStatistics:
    """A batch of (B, 28, 28) images through the network up to batch-norm layer `name`:
    the batch's mean and variance per channel against the layer's running statistics."""
    layer = network.layers[name]
    if not isinstance(layer, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
        raise ValueError(f"{name} is not a batch-norm layer")
    if layer.running_mean is None or layer.running_var is None:
        raise ValueError(f"{name} keeps no running mean and variance")
    x = _inputs_of(network, images, name).double()
    if x.shape[0] < 2:
        raise ValueError("a batch needs at least two images for a variance")
    dims = (0, 2, 3) if x.ndim == 4 else (0,)
    mean = x.mean(dim=dims)
    var = ((x - mean.reshape((1, -1) + (1,) * (x.ndim - 2))) ** 2).mean(dim=dims)
    return BatchStatistics(name, x.float().numpy(), mean.numpy(), var.numpy(),
                           layer.running_mean.detach().double().numpy().copy(),
                           layer.running_var.detach().double().numpy().copy(),
                           layer.weight.detach().double().numpy().copy(),
                           layer.bias.detach().double().numpy().copy(), float(layer.eps))


@dataclass(frozen=True, eq=False)
class DropoutSamples:
    probabilities: np.ndarray  # (S, classes): each sample's class probabilities
    answers: np.ndarray  # (S,)
    eval_probabilities: np.ndarray  # (classes,): dropout off, as at test time
    masks: dict[str, np.ndarray]  # dropout layer -> (S, units) True where a unit was dropped
    rates: dict[str, float]  # dropout layer -> its p

    @property
    def answer_counts(self) -> np.ndarray:
        return np.bincount(self.answers, minlength=self.probabilities.shape[1])


def dropout_samples(network, image: np.ndarray, samples: int = 100,
                    seed: int | None = 0) -> DropoutSamples:
    """The network's input ((H, W) or (C, H, W)) `samples` times through a copy of the
    network with only its dropout layers in training mode; the model passed in is not
    touched."""
    net = copy.deepcopy(network)
    net.eval()
    drops = {n: m for n, m in net.layers.items() if isinstance(m, torch.nn.Dropout)}
    if not drops:
        raise ValueError("this network has no dropout layers")
    for m in drops.values():
        m.train()
    masks: dict[str, np.ndarray] = {}

    def recorder(name, p):
        def hook(module, inputs, output):
            # Inverted dropout as torch does it (keep with probability 1 − p, scale by
            # 1 / (1 − p)), with the mask drawn here so it is known for every unit, also
            # those whose input was 0 (torch's own output cannot tell those apart).
            (x,) = inputs
            keep = torch.bernoulli(torch.full_like(x, 1.0 - p))
            masks[name] = (keep == 0).reshape(x.shape[0], -1).numpy()
            return x * keep / (1.0 - p) if p < 1 else torch.zeros_like(x)
        return hook

    handles = [m.register_forward_hook(recorder(n, float(m.p))) for n, m in drops.items()]
    generator_state = torch.get_rng_state()
    try:
        if seed is not None:
            torch.manual_seed(seed)
        x = torch.as_tensor(np.asarray(image, dtype=np.float32)).reshape(1, *network.input_spec.shape)
        with torch.no_grad():
            probs = probabilities(net(x.repeat(samples, 1, 1, 1))).double().numpy()
            for m in drops.values():
                m.eval()
            for h in handles:
                h.remove()
            eval_probs = probabilities(net(x))[0].double().numpy()
    finally:
        torch.set_rng_state(generator_state)  # the app's other random numbers stay as they were
    return DropoutSamples(probs, probs.argmax(axis=1), eval_probs, masks,
                          {n: float(m.p) for n, m in drops.items()})
