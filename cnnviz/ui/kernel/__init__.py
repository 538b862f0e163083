"""The kernel explorer screen: one kernel on one image, convolution → activation → pooling."""
