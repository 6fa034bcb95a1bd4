"""Make ``model-card-toolkit==2.0.0`` importable and working next to TensorFlow 2.21 / protobuf 7.

MCT 2.0 pins old protobuf, ml-metadata and tensorflow-model-analysis, none of which exist for
this stack, so it is installed with ``--no-deps`` and this module (imported by
:mod:`a2common.model_cards` before the toolkit) repairs what breaks:

1. stand-in modules for the TFX packages it imports but only needs for its optional MLMD/TFMA/
   TFDV auto-fill; using them raises a clear ``ImportError``;
2. ``model_card_pb2`` was generated for protobuf 3 ("Descriptors cannot be created directly"
   on protobuf >= 4): rebuild it from the serialized descriptor stored in that very file;
3. protobuf 7 removed ``FieldDescriptor.label``, which ``BaseModelCardField`` uses to detect
   repeated fields: recompile those methods with ``is_repeated``;
4. the JSON schema writes ``"#definitions/..."`` refs, which jsonschema rejects
   (``InvalidAnchor`` as soon as a card has graphics): fix the refs when the schema is loaded.

TensorFlow, imported at the top of one optional MCT module, is made lazy so that writing a card
from a PyTorch package neither pays for importing it (seconds) nor requires it.

Importing this module twice (or reloading it) is harmless: every step checks whether it is done.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import sys
import textwrap
import types
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_STAND_INS = (
    "ml_metadata",
    "ml_metadata.proto",
    "tensorflow_model_analysis",
    "tensorflow_metadata",
    "tensorflow_metadata.proto",
    "tensorflow_metadata.proto.v0",
)
_PB2_MODULE = "model_card_toolkit.proto.model_card_pb2"
_OLD_REPEATED_TEST = "field_descriptor.label == descriptor.FieldDescriptor.LABEL_REPEATED"
_PATCHED = "_a2common_patched"


class _Missing:
    """Placeholder for anything inside a stand-in module.

    Attribute access must work (MCT uses these names in annotations at import time); calling
    one is the first real use, and fails with a message saying why.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> "_Missing":
        if attr.startswith("__"):  # keep typing/inspect from mistaking us for a type or alias
            raise AttributeError(attr)
        return _Missing(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        raise ImportError(
            f"{self._name} is not available: model-card-toolkit is installed without its "
            "TFX dependencies (ml-metadata, tensorflow-model-analysis, tensorflow-metadata), so "
            "cards cannot be auto-filled from MLMD/TFMA/TFDV. Fill the ModelCard fields directly "
            "(see a2common.model_cards)."
        )

    def __repr__(self) -> str:
        return f"<unavailable {self._name}>"


class _StandInModule(types.ModuleType):
    def __getattr__(self, attr: str) -> _Missing:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Missing(f"{self.__name__}.{attr}")


class _LazyModule:
    """Imports the named module on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


def _is_missing(package: str) -> bool:
    if package in sys.modules:
        return isinstance(sys.modules[package], _StandInModule)
    return importlib.util.find_spec(package) is None


def _install_stand_ins() -> None:
    for name in _STAND_INS:
        if name not in sys.modules and _is_missing(name.partition(".")[0]):
            module = _StandInModule(name)
            module.__path__ = []  # a package, so that "from x.proto import y" resolves
            sys.modules[name] = module
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, module)


def _install_model_card_pb2() -> None:
    if _PB2_MODULE in sys.modules:
        return
    # Importing the generated file is what fails, so read its descriptor bytes with ast.
    spec = importlib.util.find_spec("model_card_toolkit")
    if spec is None or spec.origin is None:
        raise ImportError(
            "model-card-toolkit is not installed: `pip install --no-deps "
            "-c constraints.txt model-card-toolkit` (done by `make setup`)."
        )
    package_dir = Path(spec.origin).parent
    tree = ast.parse((package_dir / "proto" / "model_card_pb2.py").read_text())
    (serialized,) = [
        keyword.value.args[0].value
        for keyword in ast.walk(tree)
        if isinstance(keyword, ast.keyword)
        and keyword.arg == "serialized_pb"
        and isinstance(keyword.value, ast.Call)
        and isinstance(keyword.value.args[0], ast.Constant)
    ]
    if not isinstance(serialized, str):
        raise ImportError(
            "model-card-toolkit's model_card_pb2.py has an unexpected layout: "
            "this version needs a different compatibility patch."
        )
    serialized = serialized.encode("latin1")  # what the file's own _b() helper does
    file_name = descriptor_pb2.FileDescriptorProto.FromString(serialized).name
    pool = descriptor_pool.Default()
    try:
        file_descriptor = pool.FindFileByName(file_name)
    except KeyError:
        pool.AddSerializedFile(serialized)
        file_descriptor = pool.FindFileByName(file_name)
    module = types.ModuleType(_PB2_MODULE)
    setattr(module, "DESCRIPTOR", file_descriptor)
    for name, message_descriptor in file_descriptor.message_types_by_name.items():
        setattr(module, name, message_factory.GetMessageClass(message_descriptor))
    sys.modules[_PB2_MODULE] = module


def _import_toolkit_without_tensorflow() -> types.ModuleType:
    if "model_card_toolkit" in sys.modules or "tensorflow" in sys.modules:
        return importlib.import_module("model_card_toolkit")
    # Only utils.tfx_util imports tensorflow, for optional MLMD reading: hide it during the
    # import, then give tfx_util a lazy handle so those paths still work if TF is installed.
    sys.modules["tensorflow"] = _StandInModule("tensorflow")
    try:
        toolkit = importlib.import_module("model_card_toolkit")
    finally:
        del sys.modules["tensorflow"]
    setattr(sys.modules["model_card_toolkit.utils.tfx_util"], "tf", _LazyModule("tensorflow"))
    return toolkit


def _use_is_repeated(cls: type, method_names: tuple[str, ...], expected_count: int) -> None:
    if all(getattr(getattr(cls, name), _PATCHED, False) for name in method_names):
        return
    # Recompile the methods from their source rather than copy the module: importing a patched
    # copy of base_model_card_field before the package would be a circular import.
    patched, found = {}, 0
    for name in method_names:
        method = getattr(cls, name)
        source = textwrap.dedent(inspect.getsource(method))
        found += source.count(_OLD_REPEATED_TEST)
        tree = ast.parse(source.replace(_OLD_REPEATED_TEST, "field_descriptor.is_repeated"))
        ast.increment_lineno(tree, method.__code__.co_firstlineno - 1)  # honest tracebacks
        namespace: dict = {}
        file_name = inspect.getsourcefile(method) or f"<{cls.__module__}>"
        exec(compile(tree, file_name, "exec"), method.__globals__, namespace)
        patched[name] = namespace[name]
    if found != expected_count:
        raise ImportError(
            f"a2common._mct_compat expected {expected_count} uses of FieldDescriptor.label in "
            f"{cls.__module__}.{cls.__name__} (model-card-toolkit 2.0.0), found {found}: this "
            "model-card-toolkit version needs a different compatibility patch."
        )
    for name, function in patched.items():
        setattr(function, _PATCHED, True)
        setattr(cls, name, function)


def _fix_schema_refs(validation: types.ModuleType) -> None:
    original = getattr(validation, "_find_json_schema")
    if getattr(original, _PATCHED, False):
        return

    def _find_json_schema(schema_version=None):
        text = json.dumps(original(schema_version))
        return json.loads(text.replace('"#definitions/', '"#/definitions/'))

    setattr(_find_json_schema, _PATCHED, True)
    setattr(validation, "_find_json_schema", _find_json_schema)


_install_stand_ins()
_install_model_card_pb2()
_import_toolkit_without_tensorflow()
_use_is_repeated(
    sys.modules["model_card_toolkit.base_model_card_field"].BaseModelCardField,
    ("to_proto", "_from_proto"),
    expected_count=4,
)
_fix_schema_refs(sys.modules["model_card_toolkit.utils.validation"])
