"""Training: the one training loop (loop.train), its run in a child process (job) with the
messages it sends, training on several processes, the user's own data (a folder of
pictures made into a dataset) and its training, and the report card of a trained model."""
