"""Rendering the bulletin's blocks to Markdown, a standalone HTML page and a Word (.docx) document."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from gridgeo.bulletin.document import Block

__all__ = ["to_docx", "to_html", "to_markdown", "HEADING_FONT", "BODY_FONT"]

HEADING_FONT = "黑体"
BODY_FONT = "仿宋"
TITLE_FONT = "方正小标宋简体"


def to_markdown(blocks: list[Block], charts: dict[str, tuple[str, bytes]], chart_dir: str) -> str:
    lines: list[str] = []
    for b in blocks:
        if b.kind == "title":
            lines += [f"# {b.text}", ""]
        elif b.kind == "subtitle":
            lines += [f"**{b.text}**", ""]
        elif b.kind in ("h2", "h3", "h4"):
            lines += [f"{'#' * (int(b.kind[1]))} {b.text}", ""]
        elif b.kind == "p":
            lines += [b.text, ""]
        elif b.kind == "note":
            lines += [f"> 说明：{b.text}", ""]
        elif b.kind == "chart":
            title = charts[b.text][0]
            lines += [f"![{title}]({chart_dir}/{b.text}.png)", ""]
        elif b.kind == "table":
            cells = [[c.replace("|", "\\|") for c in row] for row in b.rows]
            lines += [f"**{b.text}**", "", "| " + " | ".join(b.header) + " |", "|" + "---|" * len(b.header)]
            lines += ["| " + " | ".join(r) + " |" for r in cells]
            lines.append("")
    return "\n".join(lines)


_CSS = """
body { font-family: "FangSong", "仿宋", "STFangsong", "Noto Serif CJK SC", serif; max-width: 52em; margin: 2em auto;
       line-height: 1.8; color: #111; padding: 0 1em; }
h1, h2, h3, h4 { font-family: "SimHei", "黑体", "Noto Sans CJK SC", sans-serif; }
h1 { text-align: center; font-size: 1.6em; margin-bottom: 0.2em; }
.subtitle { text-align: center; margin-top: 0; }
p { text-indent: 2em; margin: 0.4em 0; }
.note { color: #555; font-size: 0.92em; border-left: 3px solid #bbb; padding-left: 0.8em; text-indent: 0; }
table { border-collapse: collapse; margin: 0.6em auto 1.2em; font-size: 0.95em; }
caption { font-family: "SimHei", "黑体", sans-serif; font-weight: bold; margin-bottom: 0.3em; }
th, td { border: 1px solid #444; padding: 0.2em 0.6em; text-align: center; }
th { background: #eef2f7; }
figure { text-align: center; margin: 1em 0; }
img { max-width: 100%; }
"""


def to_html(blocks: list[Block], charts: dict[str, tuple[str, bytes]], title: str) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"]
    for b in blocks:
        if b.kind == "title":
            parts.append(f"<h1>{e(b.text)}</h1>")
        elif b.kind == "subtitle":
            parts.append(f'<p class="subtitle">{e(b.text)}</p>')
        elif b.kind in ("h2", "h3", "h4"):
            parts.append(f"<{b.kind}>{e(b.text)}</{b.kind}>")
        elif b.kind == "p":
            parts.append(f"<p>{e(b.text)}</p>")
        elif b.kind == "note":
            parts.append(f'<p class="note">说明：{e(b.text)}</p>')
        elif b.kind == "chart":
            t, png = charts[b.text]
            data = base64.b64encode(png).decode("ascii")
            parts.append(f'<figure><img alt="{e(t)}" src="data:image/png;base64,{data}"><figcaption>{e(t)}</figcaption></figure>')
        elif b.kind == "table":
            head = "".join(f"<th>{e(h)}</th>" for h in b.header)
            body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in b.rows)
            parts.append(f"<table><caption>{e(b.text)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _font(run, name: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)
    if size_pt:
        run.font.size = Pt(size_pt)
    if bold is not None:
        run.font.bold = bold


def to_docx(blocks: list[Block], charts: dict[str, tuple[str, bytes]], path: Path) -> None:
    """A4 Word document: 方正小标宋 title, 黑体 headings, 仿宋 body (三号 16 pt), real tables, charts embedded."""
    import io

    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)
    sec.left_margin, sec.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(16)
    from docx.oxml.ns import qn

    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    for b in blocks:
        if b.kind in ("title", "subtitle"):
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(p.add_run(b.text), TITLE_FONT if b.kind == "title" else BODY_FONT, 22 if b.kind == "title" else 16)
        elif b.kind in ("h2", "h3", "h4"):
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(32)
            font = HEADING_FONT if b.kind == "h2" else "楷体" if b.kind == "h3" else BODY_FONT
            _font(p.add_run(b.text), font, 16, bold=b.kind == "h4")
        elif b.kind in ("p", "note"):
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(32)
            p.paragraph_format.line_spacing = Pt(28)
            _font(p.add_run(("说明：" if b.kind == "note" else "") + b.text), BODY_FONT, 14 if b.kind == "note" else 16)
        elif b.kind == "chart":
            title, png = charts[b.text]
            doc.add_picture(io.BytesIO(png), width=Cm(15.5))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            cap = doc.add_paragraph()
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(cap.add_run(title), HEADING_FONT, 12)
        elif b.kind == "table":
            cap = doc.add_paragraph()
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(cap.add_run(b.text), HEADING_FONT, 14)
            t = doc.add_table(rows=1 + len(b.rows), cols=len(b.header))
            t.style = "Table Grid"
            t.alignment = WD_TABLE_ALIGNMENT.CENTER
            for i, row in enumerate([b.header, *b.rows]):
                for j, text in enumerate(row):
                    cell = t.cell(i, j)
                    cell.text = ""
                    par = cell.paragraphs[0]
                    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
                    _font(par.add_run(text), HEADING_FONT if i == 0 else BODY_FONT, 10.5, bold=i == 0)
    doc.core_properties.title = next((b.text for b in blocks if b.kind == "title"), "")
    doc.core_properties.language = "zh-CN"
    doc.save(str(path))
