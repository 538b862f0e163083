"""What each unit looks for: a network's units scored on real test pictures, inputs
optimised to excite a unit, the map of what the network learned (an embedding of its
penultimate layer), and saliency."""
