"""The dataset table (files, sha256, reader, how to get them) and the functions that load
a dataset, or one split of it, by name."""

from __future__ import annotations

import difflib
from pathlib import Path

from a2common.data.files import DataFile, Dataset, DatasetSpec, Split, locate
from a2common.data.readers import (
    CIFAR10_SHA256,
    TabularFormat,
    _read_cifar10,
    _read_fashion_mnist,
    _read_image_folder_npz,
    _read_keras_style_npz,
    _read_medmnist,
    _read_tabular,
)
from a2common.data.splits import (
    WINE_COLOURS,
    WINE_QUALITY_BANDS,
    combine_wine_split,
    select_classes,
)

_SHARED_HOW = (
    "Put the project's shared/data folder beside the repository (../shared/data), "
    "or download it with `python -m a2common.download {name}` (needs internet)."
)
_FASHION_HOW = (
    "Install Debian's package: `sudo apt-get install dataset-fashion-mnist` "
    "(files go to /usr/share/datasets/fashion-mnist/), or download the originals "
    "with `python -m a2common.download fashion_mnist` (needs internet)."
)
_ZALANDO = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_ZENODO_MEDMNIST = "https://zenodo.org/records/10519652/files/"
_BROWNLEE = "https://raw.githubusercontent.com/jbrownlee/Datasets/master/"

WINE_FEATURES = (
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
)
"""The 11 measurements of both wine-quality files, in file order (the target ``quality`` follows).
Models import these names from here instead of writing them again."""
PIMA_FEATURES = (
    "Pregnancies",
    "Glucose",
    "BloodPressure",
    "SkinThickness",
    "Insulin",
    "BMI",
    "DiabetesPedigreeFunction",
    "Age",
)
"""The 8 Pima measurements, in file order (the target ``Outcome`` follows)."""
_ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]


def _spec(name, files, reader, description, how=None):
    return DatasetSpec(
        name, tuple(files), reader, description, (how or _SHARED_HOW).format(name=name)
    )


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        _spec(
            "mnist",
            [
                DataFile(
                    "mnist.npz", "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
                )
            ],
            _read_keras_style_npz("mnist", [str(d) for d in range(10)]),
            "MNIST handwritten digits, 60k/10k official split, 28x28 uint8.",
        ),
        _spec(
            "fashion_mnist",
            [
                DataFile(
                    "fashion-mnist/train-images-idx3-ubyte.gz",
                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                    _ZALANDO + "train-images-idx3-ubyte.gz",
                ),
                DataFile(
                    "fashion-mnist/train-labels-idx1-ubyte.gz",
                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                    _ZALANDO + "train-labels-idx1-ubyte.gz",
                ),
                DataFile(
                    "fashion-mnist/t10k-images-idx3-ubyte.gz",
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                    _ZALANDO + "t10k-images-idx3-ubyte.gz",
                ),
                DataFile(
                    "fashion-mnist/t10k-labels-idx1-ubyte.gz",
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                    _ZALANDO + "t10k-labels-idx1-ubyte.gz",
                ),
            ],
            _read_fashion_mnist,
            "Fashion-MNIST, 60k/10k official split, 28x28 uint8.",
            _FASHION_HOW,
        ),
        _spec(
            "cifar10",
            [DataFile("cifar10_jpeg.npz", CIFAR10_SHA256)],
            _read_cifar10,
            "CIFAR-10 50k/10k official split, 32x32x3 uint8 (decoded from quality-75 JPEGs).",
        ),
        _spec(
            "animals3",
            [
                DataFile(
                    "animals3.npz",
                    "04cc0bb59cdb58a691cdc0bcb3b612471b136075be9a672bb1b1d5d533db2a39",
                )
            ],
            _read_image_folder_npz("animals3"),
            "Cats/dogs/pandas, 3000 photos 64x64x3; seeded stratified 70/10/20 split.",
        ),
        _spec(
            "sign_language_digits",
            [
                DataFile(
                    "sign_language_digits.npz",
                    "22153f98cb46d917434dad401bfa0e23d5a8f72b010e9516b671cc35b569d0f7",
                )
            ],
            _read_image_folder_npz("sign_language_digits"),
            "Sign-language digits 0-9, 2062 photos 64x64x3; seeded stratified 70/10/20 split.",
        ),
        _spec(
            "adrenalmnist3d",
            [
                DataFile(
                    "medmnist/adrenalmnist3d.npz",
                    "8ffd78c0f000265deb7cf4ee0b454136fb3170f9839ecaa7bb01adf9f88aa7d1",
                    _ZENODO_MEDMNIST + "adrenalmnist3d.npz?download=1",
                )
            ],
            _read_medmnist("adrenalmnist3d"),
            "MedMNIST AdrenalMNIST3D 28^3 binary volumes, official train/val/test.",
        ),
        _spec(
            "adrenalmnist3d_64",
            [
                DataFile(
                    "medmnist/adrenalmnist3d_64.npz",
                    "124a53ea2c66c8ac1985a4c98ea6f34d1ab35bdab1dc50947f80d4a87e54057d",
                    _ZENODO_MEDMNIST + "adrenalmnist3d_64.npz?download=1",
                )
            ],
            _read_medmnist("adrenalmnist3d_64"),
            "MedMNIST+ AdrenalMNIST3D 64^3 binary volumes, official train/val/test.",
        ),
        _spec(
            "titanic",
            [
                DataFile(
                    "tabular/titanic.csv",
                    "4a437fde05fe5264e1701a7387ac6fb75393772ba38bb2c9c566405af5af4bd7",
                )
            ],
            _read_tabular(
                "titanic",
                TabularFormat(
                    [
                        "PassengerId",
                        "Survived",
                        "Pclass",
                        "Name",
                        "Sex",
                        "Age",
                        "SibSp",
                        "Parch",
                        "Ticket",
                        "Fare",
                        "Cabin",
                        "Embarked",
                    ],
                    "Survived",
                    header=True,
                ),
            ),
            "Kaggle Titanic train.csv; target Survived; seeded stratified 70/10/20 split.",
        ),
        _spec(
            "pima_diabetes",
            [
                DataFile(
                    "tabular/pima-indians-diabetes.csv",
                    "6bfe5d0f379d17a0e0819b996407e3c09bf80febd4287f2ed212190dfff154af",
                    _BROWNLEE + "pima-indians-diabetes.data.csv",
                )
            ],
            _read_tabular(
                "pima_diabetes",
                TabularFormat([*PIMA_FEATURES, "Outcome"], "Outcome"),
            ),
            "Pima Indians diabetes; target Outcome; seeded stratified 70/10/20 split.",
        ),
        _spec(
            "wine_red",
            [
                DataFile(
                    "tabular/winequality-red.csv",
                    "c9614512e980f1cbd221c796daa97f00c4898c3cd1716863abac60f6cd1a522e",
                    _BROWNLEE + "winequality-red.csv",
                )
            ],
            _read_tabular("wine_red", TabularFormat([*WINE_FEATURES, "quality"], "quality")),
            "Red wine quality (3-8); seeded stratified 70/10/20 split.",
        ),
        _spec(
            "wine_white",
            [
                DataFile(
                    "tabular/winequality-white.csv",
                    "659d419fff887f225bf977d20520bb64a64cae203e460087f809721d4430ba27",
                    _BROWNLEE + "winequality-white.csv",
                )
            ],
            _read_tabular("wine_white", TabularFormat([*WINE_FEATURES, "quality"], "quality")),
            "White wine quality (3-9); seeded stratified 70/10/20 split.",
        ),
        _spec(
            "banknote",
            [
                DataFile(
                    "tabular/banknote_authentication.csv",
                    "d0539aaed2139ba7a587b3e34fb345ce503ff7d5d33dbf9912d8e195ce425cb9",
                    _BROWNLEE + "banknote_authentication.csv",
                )
            ],
            _read_tabular(
                "banknote",
                TabularFormat(["variance", "skewness", "curtosis", "entropy", "class"], "class"),
            ),
            "UCI banknote authentication; seeded stratified 70/10/20 split.",
        ),
        _spec(
            "cleveland_heart",
            [
                DataFile(
                    "tabular/processed.cleveland.data",
                    "a74b7efa387bc9d108d7d0115d831fe9b414b29ae7124f331b622b4efa0427c8",
                )
            ],
            _read_tabular(
                "cleveland_heart",
                TabularFormat(
                    [
                        "age",
                        "sex",
                        "cp",
                        "trestbps",
                        "chol",
                        "fbs",
                        "restecg",
                        "thalach",
                        "exang",
                        "oldpeak",
                        "slope",
                        "ca",
                        "thal",
                        "num",
                    ],
                    "num",
                    target_map=lambda v: "1" if float(v) > 0 else "0",
                ),
            ),
            "UCI Cleveland heart disease, binary (num > 0); seeded stratified 70/10/20 split.",
        ),
        _spec(
            "adult",
            [
                DataFile(
                    "tabular/adult-train.csv.gz",  # sha256 of the gunzipped CSV
                    "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
                ),
                DataFile(
                    "tabular/adult-test.csv.gz",
                    "72567b94f5c1a6f8501377dd80f93892c3848ff071cf91ba47e00b0785a28074",
                ),
            ],
            _read_tabular(
                "adult", TabularFormat(_ADULT_COLUMNS, "income", target_map=lambda v: v.rstrip("."))
            ),
            "UCI Adult income (<=50K / >50K), official train/test; val 10% of train.",
        ),
    ]
}


# A reader that reads through the table (get_spec), hence here and not in readers.py.
def _read_wine_stacked(name: str, head: str, class_names: tuple[str, ...]):
    """``wine_red`` and ``wine_white``, each split stacked (red first), labelled by ``head``."""

    def reader(paths: dict[str, Path]) -> Dataset:
        parts = []
        for source in ("wine_red", "wine_white"):
            spec = get_spec(source)
            parts.append(spec.reader({f.relpath: paths[f.relpath] for f in spec.files}))
        red, white = parts
        splits = {}
        for split in ("train", "val", "test"):
            features, labels = combine_wine_split(
                getattr(red, split), getattr(white, split), red.class_names, white.class_names
            )
            splits[split] = Split(features, labels[head])
        return Dataset(
            name,
            splits["train"],
            splits["test"],
            splits["val"],
            list(class_names),
            {},
            feature_names=red.feature_names,
            source=[str(p) for p in paths.values()],
        )

    return reader


# Derived datasets: the files of wine_red and wine_white, every split of each stacked (red rows
# first) and labelled by combine_wine_split; the two-head wine task is graded on these.
DATASETS.update(
    {
        spec.name: spec
        for spec in [
            _spec(
                "wine_colour",
                DATASETS["wine_red"].files + DATASETS["wine_white"].files,
                _read_wine_stacked("wine_colour", "colour", WINE_COLOURS),
                "Red + white wine (6,497 rows): colour red/white; each split is wine_red's rows, "
                "then wine_white's.",
            ),
            _spec(
                "wine_quality_band",
                DATASETS["wine_red"].files + DATASETS["wine_white"].files,
                _read_wine_stacked("wine_quality_band", "quality_band", WINE_QUALITY_BANDS),
                "Red + white wine (6,497 rows): quality band low (<= 5) / medium (6) / "
                "high (>= 7); rows as wine_colour.",
            ),
        ]
    }
)


def available_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset`."""
    return sorted(DATASETS)


def get_spec(name: str) -> DatasetSpec:
    """Return the registry entry of ``name``; a ``ValueError`` lists the known names."""
    if name not in DATASETS:
        close = difflib.get_close_matches(name, DATASETS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(available_datasets())}."
        )
    return DATASETS[name]


def load_dataset(name: str, verify: bool = True) -> Dataset:
    """Find, verify and read dataset ``name`` (see :func:`available_datasets`).

    Raises:
        ValueError: ``name`` is not a known dataset.
        DatasetNotFoundError: a file is missing; the message says where it looked and how to get it.
        DatasetChecksumError: a file's sha256 does not match; the message names the file.
    """
    spec = get_spec(name)
    paths = {f.relpath: locate(f, spec, verify=verify) for f in spec.files}
    dataset = spec.reader(paths)
    dataset.sha256 = {f.relpath: f.sha256 for f in spec.files}
    return dataset


def dataset_sha256(names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Expected sha256 of every file of the named datasets (the registry's values)."""
    return {f"{name}:{f.relpath}": f.sha256 for name in names for f in get_spec(name).files}


def load_split(
    name: str, split: str = "test", classes: list[str] | tuple[str, ...] | None = None
) -> tuple[Split, list[str]]:
    """One split of dataset ``name`` (optionally only ``classes``) and its class names.

    Example:

    >>> test, names = load_split("mnist", "test", classes=("3", "8"))
    >>> len(test), names, test.x.shape[1:], sorted(set(test.y.tolist()))
    (1984, ['3', '8'], (28, 28), [0, 1])
    """
    dataset = load_dataset(name)
    if split not in ("train", "val", "test"):
        raise ValueError(f"Expected split in ('train', 'val', 'test'). Received: {split!r}")
    chosen = getattr(dataset, split)
    if chosen is None:
        raise ValueError(f"Dataset {name!r} has no {split!r} split.")
    if classes is None:
        return chosen, list(dataset.class_names)
    return select_classes(chosen, dataset.class_names, classes), list(classes)
