"""One-layer cases in the style of Keras' own layer tests, checked through netbuilder.

Each case is (class, settings, input shape(s) with the batch axis, input dtype). The
expected output shape is computed here by building the layer with Keras directly (never
through netbuilder's code); netbuilder must accept the settings in a project file and
`check` must report the same shape. A last test runs the literal and parameterized cases
of Keras' installed layer tests (tools/keras_layer_cases.py) and requires ≥ 95 % agreement.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from builder import project as projectlib
from builder.checker import check
from tools import keras_layer_cases

D = {"class_name": "Dense", "config": {"units": 4}}
CASES = [
    # core
    ("Dense", {"units": 5}, (2, 3), None),
    (
        "Dense",
        {
            "units": 5,
            "activation": "gelu",
            "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": 1}},
            "bias_initializer": "ones",
            "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}},
            "bias_regularizer": "l1",
            "activity_regularizer": "l2",
            "kernel_constraint": "max_norm",
            "bias_constraint": {"class_name": "NonNeg", "config": {}},
        },
        (2, 3, 4),
        None,
    ),
    ("Dense", {"units": 3, "lora_rank": 2}, (None, 7), None),
    ("Dense", {"units": 3, "dtype": "float16"}, (2, 4), None),
    ("Dense", {"units": 3, "trainable": False}, (2, 4), None),
    ("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 4, "bias_axes": "c"}, (2, 3), None),
    (
        "EinsumDense",
        {"equation": "abc,cde->abde", "output_shape": [None, 4, 5], "bias_axes": "de"},
        (2, 3, 6),
        None,
    ),
    ("EinsumDense", {"equation": "ab,bcd->acd", "output_shape": [8, 32]}, (2, 3), None),
    ("Embedding", {"input_dim": 5, "output_dim": 4}, (2, 3), "int32"),
    (
        "Embedding",
        {"input_dim": 5, "output_dim": 4, "mask_zero": True, "embeddings_constraint": "unit_norm"},
        (2, 3),
        "int32",
    ),
    ("Identity", {}, (2, 3), None),
    ("Masking", {"mask_value": 0.0}, (2, 3, 2), None),
    ("Activation", {"activation": "hard_silu"}, (2, 5), None),
    ("ReLU", {"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.5}, (2, 5), None),
    ("LeakyReLU", {"negative_slope": 0.2}, (2, 5), None),
    ("PReLU", {"shared_axes": [1, 2], "alpha_initializer": "zeros"}, (2, 4, 4, 3), None),
    ("ELU", {"alpha": 0.5}, (2, 5), None),
    ("Softmax", {"axis": [1, 2]}, (2, 3, 4), None),
    # convolution
    (
        "Conv1D",
        {
            "filters": 5,
            "kernel_size": 2,
            "strides": 1,
            "padding": "valid",
            "data_format": "channels_last",
            "dilation_rate": 1,
        },
        (3, 5, 4),
        None,
    ),
    (
        "Conv1D",
        {"filters": 6, "kernel_size": 2, "padding": "causal", "dilation_rate": 2},
        (3, 4, 4),
        None,
    ),
    ("Conv1D", {"filters": 6, "kernel_size": 2, "groups": 2}, (3, 4, 4), None),
    ("Conv1D", {"filters": 6, "kernel_size": 3, "data_format": "channels_first"}, (3, 4, 8), None),
    (
        "Conv2D",
        {"filters": 5, "kernel_size": 2, "strides": [2, 1], "padding": "same"},
        (3, 5, 5, 4),
        None,
    ),
    (
        "Conv2D",
        {
            "filters": 6,
            "kernel_size": [2, 3],
            "dilation_rate": [2, 1],
            "data_format": "channels_first",
        },
        (3, 4, 6, 7),
        None,
    ),
    (
        "Conv2D",
        {
            "filters": 5,
            "kernel_size": 3,
            "activation": "sigmoid",
            "kernel_regularizer": "l2",
            "lora_rank": 2,
        },
        (2, 5, 5, 4),
        None,
    ),
    (
        "Conv3D",
        {"filters": 5, "kernel_size": 2, "strides": 1, "padding": "valid"},
        (3, 5, 5, 5, 4),
        None,
    ),
    (
        "Conv3D",
        {
            "filters": 6,
            "kernel_size": [2, 2, 3],
            "strides": 2,
            "padding": "same",
            "data_format": "channels_first",
        },
        (3, 4, 6, 6, 6),
        None,
    ),
    (
        "Conv1DTranspose",
        {"filters": 5, "kernel_size": 2, "strides": 2, "output_padding": 1},
        (2, 8, 4),
        None,
    ),
    (
        "Conv2DTranspose",
        {
            "filters": 5,
            "kernel_size": 3,
            "strides": [2, 2],
            "padding": "same",
            "output_padding": [1, 1],
        },
        (2, 8, 8, 4),
        None,
    ),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "dilation_rate": 2}, (2, 8, 8, 4), None),
    (
        "Conv3DTranspose",
        {"filters": 5, "kernel_size": 2, "strides": 2, "padding": "valid"},
        (2, 4, 4, 4, 3),
        None,
    ),
    (
        "SeparableConv1D",
        {"filters": 5, "kernel_size": 2, "depth_multiplier": 2, "padding": "same"},
        (3, 5, 4),
        None,
    ),
    (
        "SeparableConv2D",
        {
            "filters": 5,
            "kernel_size": 3,
            "depth_multiplier": 1,
            "strides": 2,
            "depthwise_initializer": "he_normal",
            "pointwise_regularizer": "l2",
        },
        (3, 9, 9, 4),
        None,
    ),
    (
        "DepthwiseConv1D",
        {"kernel_size": 2, "depth_multiplier": 3, "dilation_rate": 2},
        (3, 8, 4),
        None,
    ),
    (
        "DepthwiseConv2D",
        {"kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2},
        (3, 8, 8, 4),
        None,
    ),
    (
        "DepthwiseConv2D",
        {"kernel_size": [3, 2], "data_format": "channels_first"},
        (3, 4, 8, 8),
        None,
    ),
    # pooling
    ("MaxPooling1D", {"pool_size": 2, "strides": 1, "padding": "valid"}, (3, 5, 4), None),
    (
        "MaxPooling1D",
        {"pool_size": 3, "strides": 2, "padding": "same", "data_format": "channels_first"},
        (3, 4, 9),
        None,
    ),
    (
        "MaxPooling2D",
        {"pool_size": [2, 3], "strides": [2, 1], "padding": "same"},
        (3, 7, 7, 4),
        None,
    ),
    ("MaxPooling3D", {"pool_size": 2, "strides": 2}, (3, 6, 6, 6, 2), None),
    (
        "MaxPooling3D",
        {"pool_size": [2, 3, 3], "padding": "same", "data_format": "channels_first"},
        (3, 2, 6, 6, 6),
        None,
    ),
    ("AveragePooling1D", {"pool_size": 2}, (3, 6, 4), None),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "valid"}, (3, 9, 9, 4), None),
    ("AveragePooling3D", {"pool_size": [2, 2, 2], "padding": "same"}, (3, 5, 5, 5, 2), None),
    ("GlobalMaxPooling1D", {"keepdims": True}, (3, 5, 4), None),
    ("GlobalAveragePooling1D", {"data_format": "channels_first"}, (3, 5, 4), None),
    ("GlobalMaxPooling2D", {}, (3, 5, 5, 4), None),
    (
        "GlobalAveragePooling2D",
        {"keepdims": True, "data_format": "channels_first"},
        (3, 4, 5, 5),
        None,
    ),
    ("GlobalMaxPooling3D", {"keepdims": True}, (3, 4, 4, 4, 2), None),
    ("GlobalAveragePooling3D", {}, (3, 4, 4, 4, 2), None),
    ("MaxPool2D", {"pool_size": 2}, (3, 8, 8, 2), None),
    ("AvgPool1D", {"pool_size": 2}, (3, 8, 2), None),
    ("AdaptiveAveragePooling2D", {"output_size": 3}, (2, 9, 9, 4), None),
    ("AdaptiveMaxPooling1D", {"output_size": 4}, (2, 12, 3), None),
    # recurrent
    (
        "SimpleRNN",
        {
            "units": 3,
            "return_sequences": True,
            "bias_regularizer": "l1",
            "kernel_regularizer": "l2",
            "recurrent_regularizer": "l2",
        },
        (3, 2, 4),
        None,
    ),
    ("LSTM", {"units": 3, "dropout": 0.5, "recurrent_dropout": 0.5, "seed": 1}, (3, 2, 4), None),
    ("LSTM", {"units": 3, "return_state": True}, (3, 2, 4), None),
    (
        "LSTM",
        {"units": 3, "unit_forget_bias": False, "implementation": 1, "go_backwards": True},
        (3, 5, 4),
        None,
    ),
    ("GRU", {"units": 3, "reset_after": False, "return_sequences": True}, (3, 2, 4), None),
    ("GRU", {"units": 3, "training": True, "dropout": 0.5}, (3, 2, 4), None),
    (
        "Bidirectional",
        {
            "layer": {"class_name": "LSTM", "config": {"units": 4, "return_sequences": True}},
            "merge_mode": "concat",
        },
        (2, 3, 5),
        None,
    ),
    (
        "Bidirectional",
        {
            "layer": {"class_name": "GRU", "config": {"units": 4}},
            "backward_layer": {"class_name": "GRU", "config": {"units": 4, "go_backwards": True}},
            "merge_mode": "sum",
        },
        (2, 3, 5),
        None,
    ),
    ("TimeDistributed", {"layer": D}, (2, 3, 5), None),
    (
        "TimeDistributed",
        {"layer": {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3}}},
        (2, 3, 8, 8, 1),
        None,
    ),
    ("ConvLSTM1D", {"filters": 5, "kernel_size": 3, "return_sequences": True}, (2, 3, 8, 4), None),
    (
        "ConvLSTM2D",
        {"filters": 5, "kernel_size": 3, "padding": "same", "strides": 1},
        (2, 3, 8, 8, 4),
        None,
    ),
    ("ConvLSTM3D", {"filters": 2, "kernel_size": 2}, (2, 2, 4, 4, 4, 1), None),
    # attention
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2}, [(2, 8, 16), (2, 4, 16)], None),
    (
        "MultiHeadAttention",
        {
            "num_heads": 2,
            "key_dim": 2,
            "value_dim": 4,
            "use_bias": False,
            "dropout": 0.5,
            "output_shape": 8,
        },
        [(2, 8, 16), (2, 4, 16), (2, 4, 6)],
        None,
    ),
    (
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 4, "use_causal_mask": True},
        [(2, 6, 8), (2, 6, 8)],
        None,
    ),
    (
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 4, "return_attention_scores": True},
        [(2, 6, 8), (2, 5, 8)],
        None,
    ),
    (
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 4, "attention_axes": [1, 2]},
        [(2, 3, 4, 8), (2, 3, 4, 8)],
        None,
    ),
    (
        "GroupQueryAttention",
        {"num_query_heads": 4, "num_key_value_heads": 2, "head_dim": 2},
        [(2, 8, 16), (2, 4, 16)],
        None,
    ),
    (
        "GroupedQueryAttention",
        {"num_query_heads": 2, "num_key_value_heads": 2, "head_dim": 2, "use_gate": True},
        [(2, 8, 16), (2, 4, 16)],
        None,
    ),
    (
        "Attention",
        {"score_mode": "concat", "use_scale": True, "dropout": 0.5},
        [(2, 3, 4), (2, 4, 4)],
        None,
    ),
    ("Attention", {"use_causal_mask": True}, [(2, 4, 4), (2, 4, 4), (2, 4, 4)], None),
    (
        "AdditiveAttention",
        {"use_scale": False, "return_attention_scores": True},
        [(2, 3, 4), (2, 4, 4)],
        None,
    ),
    # normalization and regularization
    (
        "BatchNormalization",
        {"center": False, "scale": False, "momentum": 0.9, "epsilon": 0.01},
        (2, 3),
        None,
    ),
    (
        "BatchNormalization",
        {
            "axis": 1,
            "renorm": True,
            "renorm_clipping": {"rmax": 3.0, "rmin": 0.3, "dmax": 5.0},
            "beta_regularizer": "l2",
            "gamma_constraint": "non_neg",
            "synchronized": False,
        },
        (2, 4, 4, 3),
        None,
    ),
    (
        "LayerNormalization",
        {"axis": [1, 2], "gamma_initializer": "ones", "beta_initializer": "ones"},
        (3, 4, 2),
        None,
    ),
    ("LayerNormalization", {"rms_scaling": False, "epsilon": 1e-5}, (3, 3), None),
    ("GroupNormalization", {"groups": 2, "axis": -1}, (2, 5, 4), None),
    ("GroupNormalization", {"groups": 3, "axis": 1}, (2, 6, 5, 4), None),
    ("UnitNormalization", {"axis": [1, 2]}, (1, 3, 3), None),
    ("RMSNormalization", {"axis": -1, "epsilon": 1e-5}, (4, 2), None),
    ("SpectralNormalization", {"layer": D, "power_iterations": 2}, (2, 3), None),
    ("Dropout", {"rate": 0.5, "noise_shape": [None, 1], "seed": 3}, (2, 3), None),
    ("Dropout", {"rate": 1.0}, (2, 3), None),
    ("SpatialDropout1D", {"rate": 0.5}, (2, 3, 4), None),
    ("SpatialDropout2D", {"rate": 0.5, "data_format": "channels_first"}, (2, 3, 4, 5), None),
    ("SpatialDropout3D", {"rate": 0.5}, (2, 3, 4, 5, 6), None),
    ("GaussianNoise", {"stddev": 0.2, "seed": 1}, (2, 3), None),
    ("GaussianDropout", {"rate": 0.2}, (2, 3), None),
    ("AlphaDropout", {"rate": 0.2, "noise_shape": [2, 1]}, (2, 3), None),
    ("ActivityRegularization", {"l1": 0.1, "l2": 0.2}, (2, 3), None),
    # reshaping
    ("Flatten", {"data_format": "channels_first"}, (2, 3, 4), None),
    ("Reshape", {"target_shape": [-1, 2]}, (3, 8), None),
    ("Reshape", {"target_shape": [2, 3]}, (None, 6), None),
    ("Permute", {"dims": [2, 1]}, (2, 3, 4), None),
    ("RepeatVector", {"n": 3}, (2, 5), None),
    ("UpSampling1D", {"size": 3}, (2, 4, 3), None),
    (
        "UpSampling2D",
        {"size": [2, 3], "interpolation": "bilinear", "data_format": "channels_first"},
        (2, 3, 4, 4),
        None,
    ),
    ("UpSampling3D", {"size": 2}, (2, 3, 4, 4, 1), None),
    ("ZeroPadding1D", {"padding": [1, 2]}, (2, 4, 3), None),
    (
        "ZeroPadding2D",
        {"padding": [[1, 2], [3, 4]], "data_format": "channels_first"},
        (2, 3, 4, 4),
        None,
    ),
    ("ZeroPadding3D", {"padding": [[1, 2], [3, 4], [0, 1]]}, (2, 3, 4, 4, 1), None),
    ("ZeroPadding3D", {"padding": 2}, (2, 3, 4, 4, 1), None),
    ("Cropping1D", {"cropping": [1, 2]}, (2, 6, 3), None),
    ("Cropping2D", {"cropping": [[1, 2], [0, 1]]}, (2, 6, 6, 3), None),
    (
        "Cropping3D",
        {"cropping": [[1, 1], [2, 1], [0, 1]], "data_format": "channels_last"},
        (2, 6, 6, 6, 3),
        None,
    ),
    # merging
    ("Add", {}, [(2, 3, 4), (2, 3, 4)], None),
    ("Subtract", {}, [(2, 4), (2, 4)], None),
    ("Multiply", {}, [(2, 4), (2, 4), (2, 4)], None),
    ("Average", {}, [(2, 4), (2, 4)], None),
    ("Maximum", {}, [(2, 4), (2, 4)], None),
    ("Minimum", {}, [(2, 4), (2, 4)], None),
    ("Concatenate", {"axis": 1}, [(2, 3, 4), (2, 5, 4)], None),
    ("Dot", {"axes": [2, 2], "normalize": True}, [(2, 3, 4), (2, 5, 4)], None),
    # preprocessing and augmentation
    ("Rescaling", {"scale": 0.5, "offset": -1.0}, (2, 4, 4, 3), None),
    (
        "Resizing",
        {"height": 6, "width": 5, "interpolation": "nearest", "crop_to_aspect_ratio": True},
        (2, 8, 8, 3),
        None,
    ),
    ("Resizing", {"height": 6, "width": 5, "data_format": "channels_first"}, (2, 3, 8, 8), None),
    ("CenterCrop", {"height": 6, "width": 6}, (2, 12, 12, 3), None),
    (
        "CenterCrop",
        {"height": 7, "width": 7, "data_format": "channels_first"},
        (2, 3, 13, 13),
        None,
    ),
    ("Normalization", {"axis": -1}, (2, 3), None),
    ("Normalization", {"mean": [0.5, 0.2, 0.1], "variance": [1.0, 2.0, 3.0]}, (2, 3), None),
    ("CategoryEncoding", {"num_tokens": 6, "output_mode": "one_hot"}, (2,), "int32"),
    ("CategoryEncoding", {"num_tokens": 6, "output_mode": "count"}, (2, 4), "int32"),
    ("Discretization", {"bin_boundaries": [0.0, 0.5, 1.0]}, (2, 3), None),
    ("Discretization", {"bin_boundaries": [0.0, 0.5], "output_mode": "one_hot"}, (2,), None),
    ("Hashing", {"num_bins": 3}, (2, 4), "int32"),
    ("IntegerLookup", {"vocabulary": [12, 36, 1138, 42]}, (2, 4), "int64"),
    ("RandomFlip", {"mode": "horizontal", "seed": 1}, (2, 8, 8, 3), None),
    (
        "RandomRotation",
        {"factor": [-0.1, 0.2], "fill_mode": "constant", "interpolation": "nearest"},
        (2, 8, 8, 3),
        None,
    ),
    ("RandomZoom", {"height_factor": 0.2, "width_factor": [-0.1, 0.3]}, (2, 8, 8, 3), None),
    ("RandomTranslation", {"height_factor": 0.1, "width_factor": [-0.2, 0.2]}, (2, 8, 8, 3), None),
    (
        "RandomContrast",
        {"factor": 0.75, "value_range": [0, 255], "seed": 1, "data_format": "channels_first"},
        (8, 3, 4, 4),
        None,
    ),
    ("RandomCrop", {"height": 2, "width": 2, "data_format": "channels_first"}, (1, 3, 3, 4), None),
    ("RandomBrightness", {"factor": [-0.2, 0.2], "value_range": [0, 1]}, (2, 8, 8, 3), None),
    (
        "RandomShear",
        {"x_factor": [0.5, 1], "y_factor": [0.5, 1], "fill_mode": "reflect"},
        (8, 3, 4, 3),
        None,
    ),
    (
        "Solarization",
        {"addition_factor": 0.75, "value_range": [20, 200], "threshold_factor": [0, 1]},
        (8, 3, 4, 3),
        None,
    ),
    ("RandomGrayscale", {"factor": 0.5}, (1, 2, 2, 3), None),
    ("AutoContrast", {"value_range": [20, 200]}, (8, 3, 4, 3), None),
    (
        "MelSpectrogram",
        {"num_mel_bins": 80, "sampling_rate": 8000, "sequence_stride": 128, "fft_length": 2048},
        (2, 16000),
        None,
    ),
    # any lengths
    ("LSTM", {"units": 4, "return_sequences": True}, (None, None, 3), None),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "same"}, (None, None, 3), None),
    ("Conv2D", {"filters": 4, "kernel_size": 3}, (None, None, None, 3), None),
    ("GlobalAveragePooling2D", {}, (None, None, None, 3), None),
]


def _shapes(shape):
    return list(shape) if isinstance(shape, list) else [shape]


def keras_expected(class_name, config, shapes, dtype):
    """The output shape(s) Keras itself gives, built here without netbuilder."""
    import keras

    cls = getattr(keras.layers, class_name, None) or keras.layers.GroupQueryAttention
    call_names = {"use_causal_mask", "return_attention_scores", "training"}
    init = {k: v for k, v in config.items() if k not in call_names}
    call = {k: v for k, v in config.items() if k in call_names}

    def conv(v):
        if (
            isinstance(v, dict)
            and "class_name" in v
            and "config" in v
            and v["class_name"] in dir(keras.layers)
        ):
            return getattr(keras.layers, v["class_name"])(**v["config"])
        return v

    init = {k: conv(v) for k, v in init.items()}
    tensors = [keras.KerasTensor(s, dtype=dtype or "float32") for s in shapes]
    layer = cls(**init)
    if class_name == "MultiHeadAttention" and call.get("return_attention_scores"):
        # Keras' symbolic scores shape repeats the query length; run it on zeros instead
        import numpy as np

        out = layer(*[np.zeros(s, "float32") for s in shapes], **call)
    elif class_name in ("MultiHeadAttention", "GroupQueryAttention", "GroupedQueryAttention"):
        out = layer(*tensors, **call)
    else:
        out = layer(tensors if len(tensors) > 1 else tensors[0], **call)
    outs = out if isinstance(out, (list, tuple)) else [out]
    shapes_out = [list(o.shape) for o in outs]
    return shapes_out[0] if len(shapes_out) == 1 else shapes_out


def _project(class_name, config, shapes, dtype):
    case = {"class_name": class_name, "config": config, "input_shape": shapes, "input_dtype": dtype}
    return keras_layer_cases.project_for(case)


@pytest.mark.parametrize(
    "class_name, config, shape, dtype", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_check_agrees_with_keras(class_name, config, shape, dtype):
    shapes = _shapes(shape)
    expected = keras_expected(class_name, config, shapes, dtype)
    project = _project(class_name, config, shapes, dtype)
    projectlib.validate(project)  # every setting Keras takes is valid in a project file
    result = check(project)
    report = result.layer("layer")
    assert report.error is None, report.error
    assert report.output_shape == expected


def test_cases_cover_the_new_classes():
    covered = {c[0] for c in CASES}
    for name in (
        "Conv3D",
        "MaxPooling3D",
        "AveragePooling3D",
        "GlobalMaxPooling3D",
        "ZeroPadding3D",
        "Cropping3D",
        "UpSampling3D",
        "Conv1DTranspose",
        "SeparableConv1D",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "ConvLSTM1D",
        "ConvLSTM2D",
        "ConvLSTM3D",
        "TimeDistributed",
        "Masking",
        "PReLU",
        "GroupNormalization",
        "UnitNormalization",
        "Resizing",
        "CenterCrop",
        "ActivityRegularization",
        "SpatialDropout3D",
        "MultiHeadAttention",
        "GroupQueryAttention",
        "Attention",
        "AdditiveAttention",
        "EinsumDense",
        "Identity",
        "RMSNormalization",
        "SpectralNormalization",
        "RandomFlip",
        "RandomRotation",
        "RandomZoom",
        "RandomTranslation",
        "RandomContrast",
        "RandomCrop",
        "Normalization",
        "CategoryEncoding",
        "Discretization",
    ):
        assert name in covered, name
    assert len(CASES) >= 100


@pytest.mark.timeout(900)
def test_keras_own_layer_tests_agree():
    """The literal and parameterized one-layer cases of Keras' installed layer tests."""
    cases = keras_layer_cases.extract()
    assert len(cases) >= 150
    agree = sum(keras_layer_cases.run(c)[0] for c in cases)
    assert agree / len(cases) >= 0.95, f"{agree}/{len(cases)}"


@pytest.mark.parametrize(
    "class_name, config, shape, dtype", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_keras_own_full_config_is_accepted(class_name, config, shape, dtype):
    """The whole get_config() Keras writes for the layer (name, dtype policy, every default,
    wrapped layers serialised) is a valid project config and checks to the same shape."""
    import json

    import keras

    from builder.checker import split_call

    shapes = _shapes(shape)
    expected = keras_expected(class_name, config, shapes, dtype)
    init, calls = split_call(class_name, config)
    cls = getattr(keras.layers, class_name, None) or keras.layers.GroupQueryAttention

    def conv(v):
        if isinstance(v, dict) and v.get("class_name") in dir(keras.layers):
            return getattr(keras.layers, v["class_name"])(**v["config"])
        return v

    layer = cls(**{k: conv(v) for k, v in init.items()})
    full = json.loads(json.dumps(layer.get_config(), default=lambda o: o.tolist()))
    result = check(_project(class_name, {**full, **calls}, shapes, dtype))
    report = result.layer("layer")
    assert report.error is None, report.error
    assert report.output_shape == expected
