"""The lecture's claims put to the test: exercises with worked answers, fully connected
against convolutional layers, batch norm and dropout, and invariance to shifts, turns and
scale."""
