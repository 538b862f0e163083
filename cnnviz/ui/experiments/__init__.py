"""The Experiments tab: teaching views that let a student check the lecture's claims on
their own drawing (slide the window, receptive fields, saliency, invariance, batch norm,
dropout, parameters)."""
