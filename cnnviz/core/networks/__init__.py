"""Networks of every origin behind one interface (network.InspectableNetwork): the layer
vocabulary, the preset architectures and their text form, built torch models, weights and
model cards, Keras (.h5/.keras), ONNX, TorchScript and torch.export files, Keras code in
both directions, the model catalogue, memory estimates and per-layer cards."""
