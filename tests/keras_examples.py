"""Model-building code from the official Keras examples and guides (keras.io/examples,
keras.io/guides), sizes shrunk so each builds in milliseconds, as a table for
``tests/test_keras_examples.py``.

Each entry builds the model exactly as the example's code does (the same layers, calls,
shared layers, states and keras.ops), only with small widths. ``BUILT_IN`` models use
Keras' built-in layers and operations only: each must open in netbuilder and agree with
Keras. ``REFUSED`` models hold a custom layer (or a Lambda, or an operation no layer
computes): each must be refused with a message naming it. Keras is imported inside the
functions, so collecting the tests stays fast.
"""

from __future__ import annotations


def _k():
    import keras

    return keras


# --------------------------------------------------------------------------- vision


def mnist_convnet():
    """vision/mnist_convnet.py"""
    keras = _k()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def image_classification_from_scratch():
    """vision/image_classification_from_scratch.py (make_model: a small Xception, with
    the residual taken at each block and projected by a 1x1 Conv2D)."""
    keras = _k()
    layers = keras.layers
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(16, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous_block_activation = x
    for size in [32, 64]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    x = layers.SeparableConv2D(64, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.25)(x)
    outputs = layers.Dense(1, activation=None)(x)
    return keras.Model(inputs, outputs)


def conv_autoencoder():
    """vision/autoencoder.py"""
    keras = _k()
    layers = keras.layers
    inp = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(inp)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(8, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(8, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(inp, x)


def siamese_shared_tower():
    """vision/siamese_contrastive.py with the distance written in layers: the embedding
    network is a functional model called on both inputs (one set of weights)."""
    keras = _k()
    layers = keras.layers
    inp = keras.Input((28, 28, 1))
    x = layers.BatchNormalization()(inp)
    x = layers.Conv2D(4, (5, 5), activation="tanh")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Conv2D(8, (5, 5), activation="tanh")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Flatten()(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(10, activation="tanh")(x)
    embedding_network = keras.Model(inp, x)
    input_1 = keras.Input((28, 28, 1))
    input_2 = keras.Input((28, 28, 1))
    tower_1 = embedding_network(input_1)
    tower_2 = embedding_network(input_2)
    merge_layer = layers.Subtract()([tower_1, tower_2])
    normal_layer = layers.BatchNormalization()(merge_layer)
    output_layer = layers.Dense(1, activation="sigmoid")(normal_layer)
    return keras.Model(inputs=[input_1, input_2], outputs=output_layer)


def siamese_sequential_tower():
    """vision/siamese_network.py's idea with a Sequential embedding called twice."""
    keras = _k()
    layers = keras.layers
    tower = keras.Sequential(
        [keras.Input((16,)), layers.Dense(8, activation="relu"), layers.Dense(4)], name="tower"
    )
    a, b = keras.Input((16,)), keras.Input((16,))
    dist = layers.Subtract()([tower(a), tower(b)])
    return keras.Model([a, b], layers.Dense(1, activation="sigmoid")(dist))


def dcgan_generator():
    """generative/dcgan_overriding_train_step.py (the generator)"""
    keras = _k()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(16,)),
            layers.Dense(8 * 8 * 16),
            layers.Reshape((8, 8, 16)),
            layers.Conv2DTranspose(16, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


def conv_lstm():
    """vision/conv_lstm.py (next-frame prediction)"""
    keras = _k()
    layers = keras.layers
    inp = layers.Input(shape=(None, 16, 16, 1))
    x = layers.ConvLSTM2D(4, (3, 3), padding="same", return_sequences=True, activation="relu")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(4, (1, 1), padding="same", return_sequences=True, activation="relu")(x)
    x = layers.Conv3D(1, (3, 3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(inp, x)


# --------------------------------------------------------------------------- text


def bidirectional_lstm_imdb():
    """nlp/bidirectional_lstm_imdb.py"""
    keras = _k()
    layers = keras.layers
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(200, 16)(inputs)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(8))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def text_classification_from_scratch():
    """nlp/text_classification_from_scratch.py (the model after TextVectorization)"""
    keras = _k()
    layers = keras.layers
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(200, 16)(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)
    return keras.Model(inputs, predictions)


def lstm_seq2seq():
    """nlp/lstm_seq2seq.py: the encoder's states start the decoder (initial_state)."""
    keras = _k()
    encoder_inputs = keras.Input(shape=(None, 12))
    encoder = keras.layers.LSTM(16, return_state=True)
    _encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]
    decoder_inputs = keras.Input(shape=(None, 14))
    decoder_lstm = keras.layers.LSTM(16, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(14, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)


def lstm_seq2seq_encoder_model():
    """nlp/lstm_seq2seq.py, the inference encoder: its outputs are the LSTM's states."""
    keras = _k()
    encoder_inputs = keras.Input(shape=(None, 12))
    _, state_h, state_c = keras.layers.LSTM(16, return_state=True)(encoder_inputs)
    return keras.Model(encoder_inputs, [state_h, state_c])


def gru_caption_decoder():
    """The image-captioning pattern: image features, through a Dense, are the GRU's
    initial state."""
    keras = _k()
    layers = keras.layers
    features = keras.Input((32,))
    tokens = keras.Input((None,), dtype="int32")
    state = layers.Dense(16, activation="tanh")(features)
    x = layers.Embedding(50, 8, mask_zero=True)(tokens)
    x = layers.GRU(16, return_sequences=True)(x, initial_state=state)
    return keras.Model([features, tokens], layers.Dense(50, activation="softmax")(x))


def masked_lstm():
    """guides/understanding_masking_and_padding.py: a mask given to the call."""
    keras = _k()
    layers = keras.layers
    values = keras.Input((None, 8))
    mask = keras.Input((None,), dtype="bool")
    x = layers.LSTM(8)(values, mask=mask)
    return keras.Model([values, mask], layers.Dense(1)(x))


def node2vec():
    """graph/node2vec_movielens.py: scalar ids, one Embedding shared by target and
    context, their dot product."""
    keras = _k()
    layers = keras.layers
    inputs = {
        "target": layers.Input(name="target", shape=(), dtype="int32"),
        "context": layers.Input(name="context", shape=(), dtype="int32"),
    }
    embed_item = layers.Embedding(
        input_dim=100,
        output_dim=8,
        embeddings_initializer="he_normal",
        embeddings_regularizer=keras.regularizers.l2(1e-6),
        name="item_embeddings",
    )
    target_embeddings = embed_item(inputs["target"])
    context_embeddings = embed_item(inputs["context"])
    logits = layers.Dot(axes=1, normalize=False, name="dot_similarity")(
        [target_embeddings, context_embeddings]
    )
    return keras.Model(inputs=inputs, outputs=logits)


def shared_embedding_guide():
    """guides/functional_api.py, "Shared layers": one Embedding for two text inputs."""
    keras = _k()
    layers = keras.layers
    shared_embedding = layers.Embedding(100, 8)
    text_input_a = keras.Input(shape=(None,), dtype="int32")
    text_input_b = keras.Input(shape=(None,), dtype="int32")
    encoded_input_a = shared_embedding(text_input_a)
    encoded_input_b = shared_embedding(text_input_b)
    return keras.Model(
        [text_input_a, text_input_b],
        [layers.GlobalAveragePooling1D()(encoded_input_a), layers.LSTM(4)(encoded_input_b)],
    )


def ticket_classifier_guide():
    """guides/functional_api.py: three inputs (title, body, tags), two outputs."""
    keras = _k()
    layers = keras.layers
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(12,), name="tags")
    title_features = layers.Embedding(100, 8)(title_input)
    body_features = layers.Embedding(100, 8)(body_input)
    title_features = layers.LSTM(16)(title_features)
    body_features = layers.LSTM(4)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(4, name="department")(x)
    return keras.Model(
        inputs=[title_input, body_input, tags_input], outputs=[priority_pred, department_pred]
    )


def transformer_block_builtin():
    """nlp/text_classification_with_transformer.py's block written with built-in layers
    in a functional graph (attention, residual, layer normalisation, feed-forward)."""
    keras = _k()
    layers = keras.layers
    inputs = layers.Input(shape=(20,))
    x = layers.Embedding(100, 16)(inputs)
    attn = layers.MultiHeadAttention(num_heads=2, key_dim=16)(x, x)
    attn = layers.Dropout(0.1)(attn)
    out1 = layers.LayerNormalization(epsilon=1e-6)(x + attn)
    ffn = layers.Dense(16, activation="relu")(out1)
    ffn = layers.Dense(16)(ffn)
    x = layers.LayerNormalization(epsilon=1e-6)(out1 + ffn)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def attention_with_mask_input():
    """A MultiHeadAttention given its attention_mask as a model input."""
    keras = _k()
    layers = keras.layers
    x = keras.Input((6, 8))
    mask = keras.Input((6, 6), dtype="bool")
    y = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, attention_mask=mask)
    return keras.Model([x, mask], layers.GlobalAveragePooling1D()(y))


# --------------------------------------------------------------------------- time series


def timeseries_classification():
    """timeseries/timeseries_classification_from_scratch.py"""
    keras = _k()
    layers = keras.layers
    input_layer = keras.Input((50, 1))
    x = input_layer
    for _ in range(3):
        x = layers.Conv1D(filters=8, kernel_size=3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    gap = layers.GlobalAveragePooling1D()(x)
    output_layer = layers.Dense(2, activation="softmax")(gap)
    return keras.Model(inputs=input_layer, outputs=output_layer)


def weather_forecasting():
    """timeseries/timeseries_weather_forecasting.py"""
    keras = _k()
    inputs = keras.layers.Input(shape=(12, 7))
    lstm_out = keras.layers.LSTM(8)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)
    return keras.Model(inputs=inputs, outputs=outputs)


# --------------------------------------------------------------------------- keras.ops


def ops_mixed():
    """keras.ops in the functional graph, each with a layer equivalent: relu, sigmoid,
    mean over the steps, a class token (x[:, 0]), expand_dims/squeeze, reshape,
    transpose, concatenate, a crop of the steps."""
    keras = _k()
    ops = keras.ops
    layers = keras.layers
    x = keras.Input((6, 4))
    h = layers.Dense(4)(x)
    a = ops.nn.relu(h)
    b = ops.sigmoid(h)
    mean = ops.mean(a, axis=1)
    first = b[:, 0]
    crop = ops.max(h[:, 1:4], axis=1)
    joined = ops.concatenate([mean, first, crop], axis=-1)
    grown = ops.squeeze(ops.expand_dims(joined, 1), axis=1)
    t = ops.transpose(h, (0, 2, 1))
    flat = ops.reshape(t, (-1, 24))
    out = layers.Dense(3)(layers.concatenate([grown, flat]))
    return keras.Model(x, ops.nn.softmax(out))


def ops_arithmetic():
    """x * 2.0 - 1.0 (the usual scaling of a preprocess_input) and x + y of two branches."""
    keras = _k()
    layers = keras.layers
    x = keras.Input((8,))
    y = x * 2.0 - 1.0
    a = layers.Dense(4)(y)
    b = layers.Dense(4)(y)
    return keras.Model(x, layers.Dense(1)(a + b))


BUILT_IN = {
    f.__name__: f
    for f in (
        mnist_convnet,
        image_classification_from_scratch,
        conv_autoencoder,
        siamese_shared_tower,
        siamese_sequential_tower,
        dcgan_generator,
        conv_lstm,
        bidirectional_lstm_imdb,
        text_classification_from_scratch,
        lstm_seq2seq,
        lstm_seq2seq_encoder_model,
        gru_caption_decoder,
        masked_lstm,
        node2vec,
        shared_embedding_guide,
        ticket_classifier_guide,
        transformer_block_builtin,
        attention_with_mask_input,
        timeseries_classification,
        weather_forecasting,
        ops_mixed,
        ops_arithmetic,
    )
}


# --------------------------------------------------------------------------- refused


def _custom_layers():
    keras = _k()

    class Sampling(keras.layers.Layer):
        """generative/vae.py"""

        def call(self, inputs):
            z_mean, z_log_var = inputs
            return z_mean + keras.ops.exp(0.5 * z_log_var)

    class TransformerBlockWithAVeryLongDescriptiveClassName(keras.layers.Layer):
        """nlp/text_classification_with_transformer.py's TransformerBlock, renamed long."""

        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    return Sampling, TransformerBlockWithAVeryLongDescriptiveClassName


def vae_encoder():
    """generative/vae.py: the encoder with its custom Sampling layer."""
    keras = _k()
    layers = keras.layers
    sampling, _ = _custom_layers()
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(4, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Flatten()(x)
    z_mean = layers.Dense(2, name="z_mean")(x)
    z_log_var = layers.Dense(2, name="z_log_var")(x)
    z = sampling(name="sampling")([z_mean, z_log_var])
    return keras.Model(encoder_inputs, [z_mean, z_log_var, z])


def transformer_custom_block():
    """nlp/text_classification_with_transformer.py: a custom block layer."""
    keras = _k()
    _, block = _custom_layers()
    inputs = keras.Input(shape=(8,))
    return keras.Model(inputs, block(name="transformer_block")(inputs))


def siamese_lambda_distance():
    """vision/siamese_contrastive.py as written: the distance is a Lambda layer."""
    keras = _k()
    layers = keras.layers

    def euclidean_distance(vects):
        x, y = vects
        return keras.ops.sqrt(keras.ops.sum(keras.ops.square(x - y), axis=1, keepdims=True))

    a, b = keras.Input((4,)), keras.Input((4,))
    dense = layers.Dense(3)
    merged = layers.Lambda(euclidean_distance, output_shape=(1,))([dense(a), dense(b)])
    return keras.Model([a, b], merged)


def ops_without_layer():
    """keras.ops.sum over the features: no built-in layer computes it."""
    keras = _k()
    x = keras.Input((6, 4))
    return keras.Model(x, keras.ops.sum(keras.layers.Dense(4)(x), axis=-1))


def preprocess_channel_flip():
    """keras.applications' caffe preprocess_input: x[..., ::-1] (a GetItem slice)."""
    keras = _k()
    x = keras.Input((8, 8, 3))
    y = x[..., ::-1]
    return keras.Model(x, keras.layers.Conv2D(2, 3)(y))


# name -> (model, words the refusal must contain)
REFUSED = {
    "vae_encoder": (vae_encoder, ["'sampling'", "'Sampling'"]),
    "transformer_custom_block": (
        transformer_custom_block,
        ["'transformer_block'", "'TransformerBlockWithAVeryLongDescriptiveClassName'"],
    ),
    "siamese_lambda_distance": (siamese_lambda_distance, ["Lambda"]),
    "ops_without_layer": (ops_without_layer, ["keras.ops.sum"]),
    "preprocess_channel_flip": (preprocess_channel_flip, ["keras.ops.get_item"]),
}
