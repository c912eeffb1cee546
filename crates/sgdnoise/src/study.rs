//! The built-in perceptron study (to be written).
