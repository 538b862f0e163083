"""Building a cnnviz Network from a model file made elsewhere (Keras, ONNX): the readers
walk the file's layers or nodes in order and add cnnviz layer specs here, each with its
weights in torch's layout and what it reads; `network` makes the Architecture (with its
sources when the file's graph is not one chain) and the Network with those weights.

Outputs are numbered as an Architecture's sources are: 0 is the input, k the output of
spec k (from 1).
"""

from __future__ import annotations

import numpy as np

from ..basics.limits import MAX_ARCH_LAYERS

__all__ = ["GraphBuilder"]


class GraphBuilder:
    """specs, their sources and tensors, and the file's name for each (what it came from).
    error: the reader's exception class (its messages name the file's own layer)."""

    def __init__(self, input_shape: tuple[int, int, int], error: type[Exception] = ValueError):
        self.error = error
        self.shapes: list[tuple[int, ...]] = [tuple(input_shape)]  # the input's and every spec's
        self.tip = 0  # the output the next layer reads (the last one, in a chain)
        self.specs: list = []
        self.sources: list[tuple[int, ...]] = []
        self.tensors: list[dict] = []  # per spec: torch-layout arrays by parameter name
        self.names: list[str] = []  # per spec: the file's layer (or node) it came from
        self.log_softmax = False  # the file ends in log-softmax (shown as a softmax)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.shapes[self.tip]

    def add(self, spec, tensors: dict | None, name: str,
            sources: tuple[int, ...] | None = None) -> int:
        """Add a spec reading `sources` (default: the tip); it becomes the tip. Returns its
        output's number."""
        from .layers import LayerError

        sources = sources or (self.tip,)
        in_shape = self.shapes[sources[0]] if len(sources) == 1 \
            else tuple(self.shapes[i] for i in sources)
        try:
            out = spec.output_shape(in_shape)
        except LayerError as exc:
            raise self.error(f"layer {name!r}: {exc}") from None
        if len(self.specs) >= MAX_ARCH_LAYERS:
            raise self.error(f"the model makes more than {MAX_ARCH_LAYERS} layers")
        self.specs.append(spec)
        self.sources.append(tuple(sources))
        self.tensors.append(tensors or {})
        self.names.append(name)
        self.shapes.append(tuple(out))
        self.tip = len(self.shapes) - 1
        return self.tip

    def network(self, name: str, description: str, mean: float = 0.0, std: float = 1.0):
        """The Network these specs make, with their weights, in eval mode."""
        import torch

        from .models import Architecture, ArchitectureError, Network, summarize
        from .weights import WeightsError, check_multiply_adds

        if not self.specs:
            raise self.error("the model has no layer cnnviz can show")
        if len(self.shape) != 1:
            raise self.error("the model must end in a flat output (Flatten, Dense, global "
                             "pooling)")
        chain = all(src == (i,) for i, src in enumerate(self.sources))
        c, h, w = self.shapes[0]  # the input (C, H, W), as the reader settled it
        try:
            arch = Architecture(name=name, description=description, layers=tuple(self.specs),
                                input_shape=(c, h, w), input_mean=mean, input_std=std,
                                sources=None if chain else tuple(self.sources))
            check_multiply_adds(summarize(arch))  # from the shapes, before anything runs
            net = Network(arch)
        except WeightsError as exc:
            raise self.error(str(exc)) from None
        except (ArchitectureError, ValueError) as exc:
            raise self.error(f"cnnviz cannot build this network: {exc}") from None
        state = net.state_dict()
        for info, tensors in zip(net.layer_infos, self.tensors):
            for key, value in tensors.items():
                full = f"layers.{info.name}.{key}"
                if tuple(state[full].shape) != tuple(np.shape(value)):
                    raise self.error(f"layer {info.name}: its {key} has shape "
                                     f"{tuple(np.shape(value))}, not {tuple(state[full].shape)}")
                state[full] = torch.from_numpy(np.array(value, np.float32)).to(state[full].dtype)
        net.load_state_dict(state)
        return net.eval()

    def loaded(self, name: str, what: str, made_with: str, path=None, card_facts=None):
        """The LoadedModel of these specs: the network (described as `what`, "an ONNX
        model"), its card (name, what made it, `card_facts`), its input convention settled
        (cnnviz.core.networks.input_scale)."""
        from ..datasets.data import DATASETS
        from .card import read_card
        from .input_scale import settle
        from .weights import LoadedModel

        note = "; its log-softmax is shown as a softmax (the same answer)" if self.log_softmax \
            else ""
        net = self.network(name[:60], f"{name[:60]}, {what} ({made_with}){note}")
        facts = {"model_name": name, "made_with": made_with, **(card_facts or {})}
        card = read_card(facts, int(np.prod(net.layer_infos[-1].output_shape)), DATASETS)
        net.card = card
        return settle(LoadedModel(net, card, path))
