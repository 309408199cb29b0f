"""Sphinx configuration for trioshop's docs.

The build must work offline (CI has no internet): intersphinx is used only when
``TRIOSHOP_INTERSPHINX=1``. Without it, references into Python, Trio, attrs and outcome
cannot be resolved, so nitpicky mode ignores exactly those (and nothing of ours).
"""

from __future__ import annotations

import os

project = "trioshop"
author = "the trioshop developers"
copyright = "2026, the trioshop developers"

import trioshop  # noqa: E402

release = trioshop.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinxcontrib_trio",
]

nitpicky = True
default_role = "py:obj"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_preserve_defaults = False  # True renders attrs defaults as attr_dict[...]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
add_module_names = False

_EXTERNAL = (
    r"(trio|outcome|attrs|typing|typing_extensions|collections|contextlib|abc|random|math"
    r"|types|builtins)(\..*)?"
)

# Type variables of generic classes (``Shop[OrderT, ResultT]``) have no page of their own.
_TYPEVARS = [(r"py:(class|obj)", r"(trioshop\.)?(_[a-z_]+\.)?[A-Za-z]*T")]

if os.environ.get("TRIOSHOP_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "trio": ("https://trio.readthedocs.io/en/stable", None),
        "outcome": ("https://outcome.readthedocs.io/en/latest", None),
        "attrs": ("https://www.attrs.org/en/stable", None),
    }
    nitpick_ignore_regex = _TYPEVARS
else:
    nitpick_ignore_regex = [
        *_TYPEVARS,
        (r"py:.*", _EXTERNAL),
        # builtins and typing names used bare in annotations
        (
            r"py:.*",
            r"(int|float|str|bool|bytes|object|None|Any|Callable|Awaitable|"
            r"AsyncIterator|AsyncIterable|Iterable|Iterator|Sequence|TypeVar|Generic|"
            r"[A-Z][A-Za-z]*Error|[A-Z][A-Za-z]*Exception|BaseExceptionGroup|ExceptionGroup|"
            r"KeyboardInterrupt|SystemExit|WouldBlock|Cancelled|EndOfChannel|"
            r"NoneType|Ellipsis|T|ResultT|OrderT|ItemT|OutT|P|R)",
        ),
        # type variables as autodoc spells them from a private module: Once.__call__ -> T
        (r"py:.*", r"trioshop\._[a-z_]+\.(T|Ts)"),
    ]

html_theme = "furo"
html_title = "trioshop"
templates_path: list[str] = []
exclude_patterns = ["_build"]
