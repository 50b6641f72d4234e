"""Writing simple tables (a header row, then one row per thing) as CSV and XLSX, so that they read back
exactly (reading is `graph.bulk_import.read_table`, shared by every spreadsheet import).

- CSV is UTF-8 with a byte-order mark, so spreadsheet programs pick the encoding.
- A cell a spreadsheet program would run as a formula (text starting with `=`, `+`, `-`, `@`) is
  written to CSV with a leading `'`, which `unquote` takes off again on import; in XLSX every cell is
  stored as text, and code columns are formatted as text so that `5.10` does not become the number 5.1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["'" + cell if cell.startswith(FORMULA_START) else cell for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, title: str, text_columns: Sequence[str]
) -> bytes:
    from openpyxl import Workbook  # only needed here; keeps the start of every other command fast
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.data_type = "s"  # text, never a formula
    for index, name in enumerate(header, start=1):
        if name in text_columns:
            for (cell,) in sheet.iter_rows(min_col=index, max_col=index):
                cell.number_format = "@"
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def unquote(cell: str) -> str:
    """A cell as written by `write_csv`, without the quote that kept it from being a formula."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_START) else cell
