"""The data section of an exported script or notebook: code that loads the project's
dataset and prepares it exactly as training does.

``_Data(project)`` is the dataset as ``builder.data`` sees it (spec, options, the fitted
encoder); ``_data_code(data)`` returns (explanation, code) that leaves x_train, y_train,
x_test and y_test as NumPy arrays, the labels still raw. Keras' and scikit-learn's bundled
sets are loaded by their own loaders, a CSV file is read, checked and encoded by
``builder.data``'s own functions (their source is written into the script) with the values
the encoder learnt from the training split. Every value is written with
``codegen.literal``. ``builder.export`` puts this section between its settings and the
labels.
"""

from __future__ import annotations

import inspect
import textwrap

from builder import codegen
from builder.project import ProjectError

_SKLEARN_LOADERS = {
    "digits": "load_digits()",
    "breast_cancer": "load_breast_cancer(return_X_y=True)",
    "wine": "load_wine(return_X_y=True)",
    "diabetes": "load_diabetes(scaled=False, return_X_y=True)",
}
_py = codegen.literal


class _Data:
    """The project's dataset as builder.data sees it: spec, options with defaults, task,
    and the fitted encoder (what training learnt about the data, as plain values)."""

    def __init__(self, project: dict):
        from builder.data import encoding, registry
        from builder.data.errors import DataError
        from builder.data.loader import NO_DATA_MESSAGE

        if project["data"].get("chosen") is False:  # a script must not train on a guess
            raise ProjectError(NO_DATA_MESSAGE + " Keras JSON and .keras need no data.", "data")
        try:
            self.options = registry.resolved_options(project["data"])
            self.info = registry.describe(project["data"])
            self.encoder = encoding.fit(project)
        except DataError as err:
            raise ProjectError(str(err), "data") from None
        self.spec = registry.DATASETS[project["data"]["dataset"]]
        self.seed = self.encoder.split_seed
        # The model reads raw text (a CSV's text column, input dtype "string").
        self.text_input = self.info.input_spec.get("dtype") == "string"


def _function(fn) -> str:
    """The source of a builder.data function, written into the script as it is: the
    exported code prepares data with the very functions training uses."""
    return textwrap.dedent(inspect.getsource(fn)).strip("\n")


def _packed(items: list[str], indent: str = "    ", width: int = 92) -> str:
    """A list literal of already-written items, several per line."""
    if not items:
        return "[]"
    lines, line = [], ""
    for item in items:
        piece = item + ","
        if line and len(indent) + len(line) + 1 + len(piece) > width:
            lines.append(indent + line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    lines.append(indent + line)
    return "[\n" + "\n".join(lines) + "\n]"


def _statistics_code(enc) -> str:
    """MEAN and STD as float32 literals: each feature's mean and standard deviation in the
    training split, exactly as training computed them (``preprocess.standardize_fit``),
    and ``preprocess.standardize`` itself."""
    from builder.data.preprocess import standardize

    return (
        "# Each feature's mean and standard deviation in the training split, as the app "
        "computed them\n# (a feature the app leaves as it is has mean 0 and deviation 1).\n"
        f'MEAN = np.array({_packed([_py(v) for v in enc.mean])}, dtype="float32")\n'
        f'STD = np.array({_packed([_py(v) for v in enc.std])}, dtype="float32")\n\n\n'
        f"{_function(standardize)}\n\n\n"
    )


_NORMALIZE_TEXT = (
    ", then normalise each feature with the training split's mean and "
    "standard deviation (never the test split's, as the book says), written "
    "here as the app computed them"
)
_STANDARDIZE = "\nx_train, x_test = standardize(x_train, MEAN, STD), standardize(x_test, MEAN, STD)"


def _data_code(data: _Data) -> tuple[str, str]:
    """(explanation, code) leaving x_train, y_train, x_test, y_test as NumPy arrays, the
    labels still raw (class numbers or values), prepared with builder.data's own functions
    and the fitted encoder's values."""
    from builder.data.preprocess import scale_pixels

    spec, opt, enc = data.spec, data.options, data.encoder
    if spec.sample_kind == "text":
        return _text_code(data)
    if spec.sample_kind == "image":
        image = opt["image_layout"] == "image"
        shape = tuple(enc.input_shape)
        if spec.source == "sklearn":
            load = (
                "digits = load_digits()\n"
                "x_train, x_test, y_train, y_test = train_test_split(\n"
                f"    digits.images, digits.target, test_size={_py(opt['test_fraction'])},\n"
                f"    random_state={_py(data.seed)}, stratify=digits.target)"
            )
            where = "scikit-learn's 8×8 digits (pixels count 0-16), keep a test split"
        else:
            load = f"(x_train, y_train), (x_test, y_test) = keras.datasets.{spec.name}.load_data()"
            where = f"{spec.label} from `keras.datasets`"
        text = f"Load {where}, scale pixels to [0, 1] and shape each image as " + (
            "(height, width, channels), for Conv2D." if image else "one flat vector, for Dense."
        )
        scale = f"{_py(enc.pixel_scale)}, {_py(shape)}"
        code = (
            f"{_function(scale_pixels)}\n\n\n{load}\n"
            f"x_train = scale_pixels(x_train, {scale})\n"
            f"x_test = scale_pixels(x_test, {scale})\n"
            "y_train, y_test = y_train.reshape(-1), y_test.reshape(-1)"
        )
        return text, code
    if spec.source == "csv":
        return _csv_code(data)
    if spec.source == "sklearn":
        stratify = ", stratify=y" if spec.task != "regression" else ""
        text = f"Load scikit-learn's {spec.label.split(' (')[0].lower()} table, keep a test split"
        code = (
            f"x, y = {_SKLEARN_LOADERS[spec.name]}\n"
            "x_train, x_test, y_train, y_test = train_test_split(\n"
            f'    x.astype("float32"), y, test_size={_py(opt["test_fraction"])},\n'
            f"    random_state={_py(data.seed)}{stratify})"
        )
    else:
        text = f"Load {spec.label} from `keras.datasets`"
        code = (
            f"(x_train, y_train), (x_test, y_test) = keras.datasets.{spec.name}.load_data()\n"
            'x_train, x_test = x_train.astype("float32"), x_test.astype("float32")'
        )
    if enc.mean is not None:
        text += _NORMALIZE_TEXT
        code = _statistics_code(enc) + code + _STANDARDIZE
    return text + ".", code


def _text_code(data: _Data) -> tuple[str, str]:
    spec, opt, enc = data.spec, data.options, data.encoder
    num_words = opt["num_words"]
    load = f"keras.datasets.{spec.name}.load_data(num_words={_py(num_words)})"
    if enc.maxlen is not None:
        maxlen = enc.maxlen
        text = (
            f"Load {spec.label} as lists of word ids (the {num_words:,} most frequent "
            f"words) and pad or cut every text to its last {maxlen} ids."
        )
        code = (
            f"(train_data, y_train), (test_data, y_test) = {load}\n"
            f"x_train = keras.utils.pad_sequences(train_data, maxlen={_py(maxlen)})"
            '.astype("int32")\n'
            f"x_test = keras.utils.pad_sequences(test_data, maxlen={_py(maxlen)})"
            '.astype("int32")'
        )
        return text, code
    text = (
        f"Load {spec.label} as lists of word ids (the {num_words:,} most frequent "
        "words) and multi-hot encode each text: a vector of 0s with a 1 at each word "
        "it uses."
    )
    code = f"(train_data, y_train), (test_data, y_test) = {load}\n\n\n" + _MULTI_HOT.replace(
        "DIMENSION", _py(enc.multi_hot_dimension)
    )
    return text, code


_MULTI_HOT = '''def multi_hot(sequences, dimension=DIMENSION):
    """One row per text, 1.0 at the id of every word the text contains."""
    results = np.zeros((len(sequences), dimension), dtype="float32")
    rows = np.repeat(np.arange(len(sequences)), [len(s) for s in sequences])
    cols = np.concatenate([np.asarray(s, dtype="int64") for s in sequences])
    keep = cols < dimension
    results[rows[keep], cols[keep]] = 1.0
    return results


x_train, x_test = multi_hot(train_data), multi_hot(test_data)'''

# The CSV by the name it was exported with: in the folder the script runs in, else beside
# the script (a downloaded zip unpacked anywhere); otherwise which file, and where, in words.
_CSV_FIND = """here = os.path.dirname(os.path.abspath(globals().get("__file__", "")))
for place in (CSV_FILE, os.path.join(here, CSV_FILE)):
    if os.path.isfile(place):
        CSV_FILE = place
        break
else:
    raise SystemExit(f"This script trains on the CSV file {CSV_FILE!r}, which is not here: "
                     f"put it next to the script (in {here}) or in the folder you run it "
                     f"from ({os.getcwd()}), or set CSV_FILE to its full path.")
"""

_CSV_READ = (
    _CSV_FIND
    + """frame = read_rows(CSV_FILE, SEPARATOR).dropna(how="all").reset_index(drop=True)
absent = [c for c in [TARGET] + [col["name"] for col in COLUMNS] if c not in frame.columns]
if absent:
    raise SystemExit(f"{CSV_FILE} has no column(s) {absent}: use the file this network "
                     "was exported with.")
if frame[TARGET].isna().any():
    raise SystemExit(f"column {TARGET!r} has empty cells: fill them or delete those rows.")"""
)
_CSV_CLASSES = """
y = target_codes(frame[TARGET].astype(str) if TARGET_IS_TEXT else frame[TARGET], CLASSES)
if (y < 0).any():
    raise SystemExit(f"column {TARGET!r} holds values that are not among CLASSES: use the "
                     "file this network was exported with.")"""
_CSV_SPLIT = """
train_rows, test_rows = split_rows(len(frame), y, TASK, TEST_FRACTION, SPLIT_SEED)
x_train = encode_columns(frame.iloc[train_rows], COLUMNS)
x_test = encode_columns(frame.iloc[test_rows], COLUMNS)
y_train, y_test = y[train_rows], y[test_rows]"""


_CSV_READ_TARGETS = (
    _CSV_FIND
    + """frame = read_rows(CSV_FILE, SEPARATOR).dropna(how="all")
frame = frame.reset_index(drop=True)
wanted = [target["column"] for target in TARGETS] + [col["name"] for col in COLUMNS]
absent = [c for c in wanted if c not in frame.columns]
if absent:
    raise SystemExit(f"{CSV_FILE} has no column(s) {absent}: use the file this network "
                     "was exported with.")
y_columns = []  # each target's class numbers or values, in the order of TARGETS
for target in TARGETS:
    values = frame[target["column"]]
    if values.isna().any():
        raise SystemExit(f"column {target['column']!r} has empty cells: fill them or delete "
                         "those rows.")
    if target["task"] == "regression":
        y_columns.append(values.to_numpy("float32"))
        continue
    codes = target_codes(values.astype(str) if target["is_text"] else values, target["classes"])
    if (codes < 0).any():
        raise SystemExit(f"column {target['column']!r} holds values that are not among its "
                         "classes: use the file this network was exported with.")
    y_columns.append(codes)
# One column per target, so splitting y keeps every sample's targets together.
y = np.stack(y_columns, axis=1).astype("float32")
train_rows, test_rows = split_rows(len(frame), y_columns[0], TARGETS[0]["task"],
                                   TEST_FRACTION, SPLIT_SEED)
x_train = encode_columns(frame.iloc[train_rows], COLUMNS)
x_test = encode_columns(frame.iloc[test_rows], COLUMNS)
y_train, y_test = y[train_rows], y[test_rows]"""
)


def _encoded_as(enc) -> str:
    """How the exported script encodes a CSV's input columns, in words (its notebook text)."""
    if enc.columns and enc.columns[0]["kind"] == "text":
        return (
            f'read as raw text from column "{codegen.markdown(enc.columns[0]["name"])}" '
            "(the model's "
            "TextVectorization turns it into numbers)"
            + (
                f"; {len(enc.dropped)} other column(s) are left out, as in the app"
                if enc.dropped
                else ""
            )
        )
    normalised = ", normalised with the training split's mean and deviation"
    dropped = f"; {len(enc.dropped)} column(s) are left out, as the app left them out"
    return (
        "encoded as the app encoded them for training: number columns with gaps filled by "
        "the training median"
        + (normalised if enc.mean is not None else "")
        + ", text columns one-hot encoded with the categories seen in training"
        + (dropped if enc.dropped else "")
    )


def _targets_code(data: _Data) -> tuple[str, str]:
    """A CSV with several target columns: TARGETS lists them (the output each trains, its
    task and classes), y holds one column per target."""
    from builder.data import csv_data

    enc = data.encoder
    names = ", ".join(
        f'"{codegen.markdown(t["column"])}" (output `{t["output"]}`)' for t in enc.targets
    )
    text = (
        f"Read the CSV file and predict {len(enc.targets)} columns, each by its own model "
        f"output: {names}, from {len(enc.columns)} of the other columns, {_encoded_as(enc)}. "
        "The same seeded test split is kept apart (stratified by the first target's "
        "classes, as in the app)."
    )
    targets = [
        {key: t[key] for key in ("column", "output", "task", "classes", "is_text")}
        for t in enc.targets
    ]
    lines = [
        "# The CSV file is read from the folder this script runs in or the script's own",
        "# folder (or give its full path).",
        f"CSV_FILE = {_py(enc.file_name)}",
        f"SEPARATOR = {_py(enc.delimiter)}",
        "# The columns to predict, each with the model output it trains, its task and, for",
        "# classes, their values in the order the model numbers them (is_text: compare as text).",
        f"TARGETS = {_packed([_py(t) for t in targets])}",
        f"TEST_FRACTION = {_py(float(data.options['test_fraction']))}",
        f"SPLIT_SEED = {_py(data.seed)}",
    ]
    for name, why in enc.dropped:
        lines.append(f"# Left out, as in the app: column {_py(name)} ({codegen.inline(why)}).")
    lines.append(f"COLUMNS = {_packed([_py(c) for c in enc.columns])}")
    code = "\n".join(lines) + "\n"
    code += _statistics_code(enc) if enc.mean is not None else "\n\n"
    functions = [csv_data.read_rows, csv_data.target_codes, csv_data.split_rows]
    functions.append(csv_data.encode_columns)
    code += "\n\n\n".join(_function(fn) for fn in functions) + "\n\n\n" + _CSV_READ_TARGETS
    if enc.mean is not None:
        code += _STANDARDIZE
    return text, code


def _csv_code(data: _Data) -> tuple[str, str]:
    from builder.data import csv_data

    enc = data.encoder
    if enc.targets:
        return _targets_code(data)
    classify = enc.task != "regression"
    numbers = [c["name"] for c in enc.columns if c["kind"] == "number"]
    texts = [c["name"] for c in enc.columns if c["kind"] != "number"]
    text = (
        f'Read the CSV file and predict column "{codegen.markdown(enc.target)}" from '
        f"{len(enc.columns)} of the other columns, {_encoded_as(enc)}. The same seeded "
        "test split is kept apart."
    )
    lines = [
        "# The CSV file is read from the folder this script runs in or the script's own",
        "# folder (or give its full path).",
        f"CSV_FILE = {_py(enc.file_name)}",
        f"SEPARATOR = {_py(enc.delimiter)}",
        f"TARGET = {_py(enc.target)}",
        f"TASK = {_py(enc.task)}",
        f"TEST_FRACTION = {_py(float(data.options['test_fraction']))}",
        f"SPLIT_SEED = {_py(data.seed)}",
    ]
    if classify:
        lines += [
            "# The target's classes, in the order the model numbers them.",
            f"CLASSES = {_packed([_py(c) for c in enc.target_classes])}",
            f"TARGET_IS_TEXT = {_py(enc.target_is_text)}  # compare the target as text",
        ]
    for name, why in enc.dropped:
        lines.append(f"# Left out, as in the app: column {_py(name)} ({codegen.inline(why)}).")
    if data.text_input:
        lines.append("# The model's input: the raw text of this column (an empty cell is '').")
    else:
        lines.append(
            f"# Kept columns: {len(numbers)} of numbers (an empty cell becomes the "
            f"training median), {len(texts)} of text\n# (one 0/1 input per category "
            'seen in training; an empty cell is the category "(missing)").'
        )
    lines.append(f"COLUMNS = {_packed([_py(c) for c in enc.columns])}")
    code = "\n".join(lines) + "\n"
    code += _statistics_code(enc) if enc.mean is not None else "\n\n"
    functions = [csv_data.read_rows, csv_data.split_rows, csv_data.encode_columns]
    if classify:
        functions.insert(1, csv_data.target_codes)
    code += "\n\n\n".join(_function(fn) for fn in functions) + "\n\n\n" + _CSV_READ
    code += _CSV_CLASSES if classify else '\ny = frame[TARGET].to_numpy("float32")'
    code += _CSV_SPLIT
    if enc.mean is not None:
        code += _STANDARDIZE
    return text, code
