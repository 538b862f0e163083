"""Receptive fields: which input pixels a unit of a conv or pool layer can see.

Worked out exactly from each layer's kernel, stride and padding (the lecture's "spatial
hierarchies of patterns": a unit of a deeper layer sees a larger square). A layer with
kernel k, stride s and padding p turns the field of its input's units (size R, jump J
between neighbouring units, offset O of unit 0) into

    R' = R + (k − 1)·J      J' = J·s      O' = O − p·J

so unit i of it covers input pixels i·J' + O' … i·J' + O' + R' − 1 (clipped to the image:
the rest is padding). Batch norm, activations and dropout work pixel by pixel and keep the
field. For a dense unit, incoming_weights gives its weights shaped as the maps they come
from (a 64 × 4 × 4 flatten: 64 small 4×4 images).

Qt-free; the tests check the fields against torch's input gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LayerField", "incoming_weights", "mosaic", "receptive_fields", "unit_field"]


@dataclass(frozen=True)
class LayerField:
    name: str  # the layer's name ("conv1", "pool2")
    kind: str  # its spec type
    label: str
    shape: tuple[int, int, int]  # its output (C, H, W)
    size: tuple[int, int]  # R: the field's rows and columns (before clipping to the image)
    jump: tuple[int, int]  # J: input pixels between neighbouring units
    offset: tuple[int, int]  # O: where unit 0's field starts (negative: in the padding)


def _kernel_stride_padding(spec) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    if spec.type == "conv":  # a dilated kernel reaches further: its reach is its k
        return tuple(spec.reach), tuple(spec.stride), tuple(spec.padding)
    if spec.type == "pool":
        return (spec.size, spec.size), (spec.stride, spec.stride), (0, 0)
    if spec.type == "pad":  # zeros above and to the left move unit 0's field up and left
        return (1, 1), (1, 1), (spec.top, spec.left)
    return None


def _union(fields: list[tuple]) -> tuple:
    """The field of a layer that joins several (add, concatenate): every input pixel any of
    them sees (their jumps are the same when their maps are the same size)."""
    if len(fields) == 1:
        return fields[0]
    top = min(f[2][0] for f in fields), min(f[2][1] for f in fields)
    end = (max(f[2][0] + f[0][0] for f in fields), max(f[2][1] + f[0][1] for f in fields))
    jump = max(f[1][0] for f in fields), max(f[1][1] for f in fields)
    return (end[0] - top[0], end[1] - top[1]), jump, top


def receptive_fields(layer_infos) -> list[LayerField]:
    """Every layer that makes maps (conv, pool, batch norm, activation, dropout before the
    flatten), in order; in a network that is not one chain, a layer's field is worked out
    from the layers it reads (a join sees what any of its inputs sees). layer_infos:
    cnnviz.core.networks.models.summarize(arch) or Network.layer_infos."""
    known = {"input": ((1, 1), (1, 1), (0, 0))}  # name -> (size, jump, offset)
    before = "input"
    fields = []
    for info in layer_infos:
        if len(info.output_shape) != 3:
            break  # flatten and after: no maps
        inputs = getattr(info, "inputs", ()) or (before,)
        if any(name not in known for name in inputs):
            break  # maps made again from flat numbers (a reshape): no field in the picture
        size, jump, offset = _union([known[name] for name in inputs])
        ksp = _kernel_stride_padding(info.spec) if info.spec is not None else None
        if ksp is not None:
            (kh, kw), (sh, sw), (ph, pw) = ksp
            size = (size[0] + (kh - 1) * jump[0], size[1] + (kw - 1) * jump[1])
            offset = (offset[0] - ph * jump[0], offset[1] - pw * jump[1])
            jump = (jump[0] * sh, jump[1] * sw)
        known[info.name] = (size, jump, offset)
        before = info.name
        fields.append(LayerField(info.name, info.kind, info.label, tuple(info.output_shape),
                                 size, jump, offset))
    return fields


def unit_field(field: LayerField, row: int, col: int,
               input_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """The input pixels unit (row, col) of the layer sees: (top, left, bottom, right), bottom
    and right exclusive, clipped to the image."""
    h, w = input_hw
    top = row * field.jump[0] + field.offset[0]
    left = col * field.jump[1] + field.offset[1]
    return (max(0, top), max(0, left), min(h, top + field.size[0]), min(w, left + field.size[1]))


def incoming_weights(network, layer_name: str, unit: int) -> tuple[np.ndarray, str]:
    """A dense unit's incoming weights, shaped as what feeds it: (C, H, W) when the layer
    comes right after a flatten of C maps of H×W, else (N,). Returns (weights, words)."""
    infos = list(network.layer_infos)
    names = [i.name for i in infos]
    index = names.index(layer_name)
    info = infos[index]
    if info.kind != "dense":
        raise ValueError(f"{layer_name} is not a dense layer")
    weight = network.layers[layer_name].weight.detach().cpu().numpy()
    if not 0 <= unit < weight.shape[0]:
        raise IndexError(f"{layer_name} has {weight.shape[0]} units, not {unit + 1}")
    row = weight[unit].astype(np.float64)
    # What the dense layer reads: walk back over dropout to the flatten, and from there to
    # the last maps (following what each layer reads, in a network that is not one chain).
    by_name = {i.name: k for k, i in enumerate(infos)}

    def source(k: int) -> int:
        reads = infos[k].inputs
        if len(reads) == 1:
            return by_name.get(reads[0], -1)
        return k - 1 if not reads else -2  # -2: a join (several sources)

    j = source(index)
    while j >= 0 and infos[j].kind == "dropout":
        j = source(j)
    if j >= 0 and infos[j].kind == "flatten" and len(infos[j].in_shape) == 3:
        c, h, w = infos[j].in_shape
        maps = row.reshape(h, w, c).transpose(2, 0, 1) if infos[j].spec.order == "hwc" \
            else row.reshape(c, h, w)  # Keras flattened pixel by pixel
        before = source(j)
        return maps, (f"{c} maps of {h}×{w} (the flatten of "
                      f"{infos[before].name if before >= 0 else 'the input'})")
    named = infos[j].name if j >= 0 else ("the input" if j == -1 else "several layers")
    return row, f"{row.size} values from {named}"


def mosaic(maps: np.ndarray, gap: int = 1) -> np.ndarray:
    """(C, H, W) -> one (rows·(H+gap)−gap, cols·(W+gap)−gap) array of small images in a
    near-square grid, NaN between them (and after the last). A (N,) vector -> (rows, cols)."""
    a = np.asarray(maps, dtype=np.float64)
    if a.ndim == 1:
        cols = math.ceil(math.sqrt(a.size))
        rows = math.ceil(a.size / cols)
        out = np.full(rows * cols, np.nan)
        out[: a.size] = a
        return out.reshape(rows, cols)
    c, h, w = a.shape
    cols = math.ceil(math.sqrt(c))
    rows = math.ceil(c / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for i in range(c):
        r, q = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, q * (w + gap): q * (w + gap) + w] = a[i]
    return out
