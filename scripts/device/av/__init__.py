"""Stand-in for PyAV on the device, which lacks it: training on synthetic pairs never opens a video."""
