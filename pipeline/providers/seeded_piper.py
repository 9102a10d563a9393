"""Piper with its noise drawn from the sentence: the same sentence always gives the same samples.

Piper's VITS voices draw Gaussian noise inside the ONNX graph, in two `RandomNormalLike` nodes (the
stochastic duration predictor's, scaled by `noise_w`, and the prior's, scaled by `noise_scale`).
onnxruntime seeds such a node once per session, from the clock, and its generator moves on with every
call: the same sentence said twice in one process came out with different samples and lengths, so a
resumed narration differed from an uninterrupted one. Here the model is loaded with each of those
nodes replaced by a slice of noise given as an input, drawn from a generator seeded by what is said
(the sentence's phoneme ids, the synthesis scales, the speaker): the same distribution, so the same
voice, but one outcome per sentence, whatever was said before it and in whichever thread.
"""

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from piper import PiperConfig, PiperVoice

NOISE_VERSION = b"piper-noise-1"  # part of every seed: change it to change every cue's noise on purpose
FIRST_GUESS = 1024.0  # noise values per phoneme id a node needs at first; a 192-channel prior takes ~700
MARGIN = 1.25  # then this much over the most a node has needed so far


def seeded_noise_model(model_path: Path) -> tuple[bytes, int]:
    """The model with its random nodes fed from inputs `noise_<k>`, and the number of such nodes.

    Node k's noise is the first `noise_need_<k>` values of `noise_<k>` (zeros past its end), reshaped to
    the node's shape; `noise_need_<k>` is an output, so a caller that gave too few values can tell.
    """
    model = onnx.load(str(model_path))
    graph = model.graph
    _expose_durations(model)
    nodes = list(graph.node)
    del graph.node[:]
    count = 0
    for node in nodes:
        if node.op_type != "RandomNormalLike":
            graph.node.append(node)
            continue
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attributes.get("mean", 0.0) != 0.0 or attributes.get("scale", 1.0) != 1.0 or \
                attributes.get("dtype", TensorProto.FLOAT) != TensorProto.FLOAT:
            raise ValueError(f"{model_path.name}: {node.name} is not standard float noise: {attributes}")
        k, like, out = count, node.input[0], node.output[0]
        n = f"noise_{k}"
        graph.input.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, [f"noise_{k}_size"]))
        graph.output.append(helper.make_tensor_value_info(f"noise_need_{k}", TensorProto.INT64, [1]))
        graph.initializer.append(numpy_helper.from_array(np.zeros(1, np.int64), f"{n}/start"))
        zero = helper.make_tensor(f"{n}/zero", TensorProto.FLOAT, [1], [0.0])
        graph.node.extend([
            helper.make_node("Shape", [like], [f"{n}/shape"]),
            helper.make_node("ReduceProd", [f"{n}/shape"], [f"noise_need_{k}"], keepdims=1),
            helper.make_node("ConstantOfShape", [f"noise_need_{k}"], [f"{n}/zeros"], value=zero),
            helper.make_node("Concat", [n, f"{n}/zeros"], [f"{n}/padded"], axis=0),
            helper.make_node("Slice", [f"{n}/padded", f"{n}/start", f"noise_need_{k}"], [f"{n}/flat"]),
            helper.make_node("Reshape", [f"{n}/flat", f"{n}/shape"], [out]),
        ])
        count += 1
    return model.SerializeToString(), count


def _expose_durations(model: onnx.ModelProto) -> None:
    """Make the phoneme durations (the graph's one `Ceil`: audio frames per phoneme id) an output, as piper's
    own `include_alignments` does, so word timings can be read beside the audio; the audio is unchanged."""
    from piper.patch_voice_with_alignment import add_alignment_output

    try:
        add_alignment_output(model)
    except ValueError:  # no single Ceil (another architecture), or already an output: no timings
        pass


class SeededSession:
    """Stands in for the ONNX session a PiperVoice runs (`run(None, feeds)`), feeding it seeded noise."""

    def __init__(self, model_path: Path, threads: int = 0):
        model, self.nodes = seeded_noise_model(model_path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: onnxruntime's default, one per core
        self._session = onnxruntime.InferenceSession(model, sess_options=options,
                                                     providers=["CPUExecutionProvider"])
        self._most = [0.0] * self.nodes  # the most noise per phoneme id each node has needed: a guess, not a result
        self._needs = [f"noise_need_{k}" for k in range(self.nodes)]
        outputs = [o.name for o in self._session.get_outputs()]
        # the phoneme durations (_expose_durations), returned second: PiperVoice reads them as alignments
        self._durations = [n for n in outputs if n != "output" and not n.startswith("noise_need_")][:1]

    def run(self, output_names: Any, feeds: dict[str, np.ndarray], run_options: Any = None) -> list[np.ndarray]:
        """The model's audio output for `feeds`, with noise that depends on `feeds` alone."""
        ids = feeds["input"]
        digest = hashlib.sha256(b"".join([NOISE_VERSION, ids.astype("<i8").tobytes(),
                                          feeds["scales"].astype("<f4").tobytes(),
                                          feeds["sid"].astype("<i8").tobytes() if "sid" in feeds else b""])).digest()
        seeds = np.random.SeedSequence(int.from_bytes(digest[:16], "little")).spawn(self.nodes)
        count = max(1, ids.shape[-1])
        sizes = [math.ceil((MARGIN * most if most else FIRST_GUESS) * count) for most in self._most]
        # Too few values for a node shows in its need; a node's need may depend on earlier nodes' noise,
        # so each pass fixes at least the first short node: at most one pass per node more.
        for _ in range(self.nodes + 1):
            noise = {f"noise_{k}": np.random.Generator(np.random.PCG64(seed)).standard_normal(size, np.float32)
                     for k, (seed, size) in enumerate(zip(seeds, sizes))}
            audio, *rest = self._session.run(["output", *self._durations, *self._needs], {**feeds, **noise},
                                             run_options)
            durations, needs = rest[:len(self._durations)], rest[len(self._durations):]
            wanted = [int(need[0]) for need in needs]
            if all(need <= size for need, size in zip(wanted, sizes)):
                self._most = [max(most, need / count) for most, need in zip(self._most, wanted)]
                return [audio, *durations]
            sizes = [max(size, need) for size, need in zip(sizes, wanted)]
        raise AssertionError("unreachable: every pass gives at least one more node all the noise it needs")


def load_voice(model_path: Path, config_path: Path, threads: int = 0) -> PiperVoice:
    """A piper voice whose every sentence is a function of the sentence, the voice and the settings.

    Args:
        threads: onnxruntime's threads per call (0: one per core).
    """
    config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    # PiperVoice calls session.run(None, feeds) and reads the first output (piper-tts 1.8).
    return PiperVoice(session=SeededSession(model_path, threads), config=config)  # type: ignore[arg-type]
