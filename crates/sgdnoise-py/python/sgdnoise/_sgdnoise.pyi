"""Type stub of the native half of sgdnoise (``src/lib.rs``); use the functions of ``sgdnoise``."""

from typing import Any, List, Optional, Sequence, Tuple

__version__: str

# One column: (name, kind, data, extra); see ``column_to_py`` in src/lib.rs.
#   "float": data = f64 little-endian (NaN missing), extra = None
#   "int":   data = i64 little-endian, extra = u8 mask (1 = missing) or None
#   "bool":  data = u8, extra = u8 mask or None
#   "str":   data = i32 codes (-1 missing), extra = the distinct values
_Column = Tuple[str, str, bytes, Any]
_Filters = Sequence[Tuple[str, Sequence[Any]]]

def run(
    settings: Sequence[Tuple[str, str]],
    config: Optional[str] = None,
    out: Optional[str] = None,
    store: Optional[str] = None,
    checkpoints: bool = False,
) -> Tuple[str, Optional[List[_Column]]]: ...
def runs_table(store: str, filters: _Filters) -> List[_Column]: ...
def checkpoints_table(store: str, filters: _Filters) -> List[_Column]: ...
def settings() -> List[Tuple[str, str, bool]]: ...
def setting_kinds() -> List[Tuple[str, str]]: ...
