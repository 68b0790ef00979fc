"""Render report blocks as DOCX (python-docx: editable, what offices use) or PDF (WeasyPrint, the Noto CJK
font embedded as a subset). Charts are the same PNGs in both."""

from __future__ import annotations

import base64
import html
import io

from ecohub.reports.charts import CHARTS, cjk_font_file
from ecohub.reports.document import TABLES, Block

CJK_FAMILY = "Noto Sans CJK SC"


def _chart(name: str, figures: dict, cache: dict) -> bytes | None:
    if name not in cache:
        cache[name] = CHARTS[name](figures)
    return cache[name]


def render_docx(blocks: list[Block], figures: dict) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    for sname in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3"):
        st = doc.styles[sname]
        st.font.name = CJK_FAMILY
        rpr = st.element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(rfonts)
        rfonts.set(qn("w:eastAsia"), CJK_FAMILY)
    doc.styles["Normal"].font.size = Pt(10.5)
    sec = doc.sections[0]
    sec.left_margin = sec.right_margin = Cm(2.0)
    cache: dict = {}
    first_p = True
    for b in blocks:
        if b.kind == "title":
            doc.add_heading(b.text, level=0).alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif b.kind == "h2":
            doc.add_heading(b.text, level=1)
        elif b.kind == "h3":
            doc.add_heading(b.text, level=2)
        elif b.kind == "p":
            p = doc.add_paragraph(b.text)
            if first_p:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                first_p = False
        elif b.kind == "table":
            t = TABLES[b.text](figures)
            if t is None:
                doc.add_paragraph("无数据")
                continue
            table = doc.add_table(rows=1, cols=len(t.header))
            table.style = "Table Grid"
            for i, h in enumerate(t.header):
                cell = table.rows[0].cells[i]
                cell.text = h
                for r in cell.paragraphs[0].runs:
                    r.font.bold = True
                    r.font.size = Pt(8)
            for row in t.rows:
                cells = table.add_row().cells
                for i, v in enumerate(row):
                    cells[i].text = v
                    for r in cells[i].paragraphs[0].runs:
                        r.font.size = Pt(8)
            if t.note:
                doc.add_paragraph(t.note).runs[0].font.size = Pt(8)
        elif b.kind == "chart":
            png = _chart(b.text, figures, cache)
            if png:
                doc.add_picture(io.BytesIO(png), width=Cm(16))
    doc.core_properties.title = next((b.text for b in blocks if b.kind == "title"), "ecohub report")
    doc.core_properties.author = "ecohub"
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


CSS = """
@page { size: A4; margin: 18mm 16mm; @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: "%(family)s", sans-serif; font-size: 10pt; line-height: 1.5; }
h1 { text-align: center; font-size: 18pt; margin: 0 0 4mm; }
h2 { font-size: 13pt; border-bottom: 1px solid #2F6FB0; padding-bottom: 1mm; margin-top: 6mm; }
h3 { font-size: 10.5pt; margin: 3mm 0 1mm; }
p.sub { text-align: center; color: #444; }
table { border-collapse: collapse; width: 100%%; margin: 2mm 0; font-size: 7.5pt; }
th, td { border: 0.5pt solid #888; padding: 1mm 1.2mm; text-align: center; }
th { background: #E8EEF7; }
p.note { font-size: 7.5pt; color: #555; margin-top: 0; }
img { width: 100%%; margin: 2mm 0; }
img.small { width: 60%%; }
"""


def render_html(blocks: list[Block], figures: dict) -> str:
    e = html.escape
    parts = ["<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
             f"<style>{CSS % {'family': CJK_FAMILY}}</style></head><body>"]
    cache: dict = {}
    first_p = True
    for b in blocks:
        if b.kind == "title":
            parts.append(f"<h1>{e(b.text)}</h1>")
        elif b.kind in ("h2", "h3"):
            parts.append(f"<{b.kind}>{e(b.text)}</{b.kind}>")
        elif b.kind == "p":
            parts.append(f"<p class='{'sub' if first_p else ''}'>{e(b.text)}</p>")
            first_p = False
        elif b.kind == "table":
            t = TABLES[b.text](figures)
            if t is None:
                parts.append("<p>无数据</p>")
                continue
            head = "".join(f"<th>{e(h)}</th>" for h in t.header)
            body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in t.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            if t.note:
                parts.append(f"<p class='note'>{e(t.note)}</p>")
        elif b.kind == "chart":
            png = _chart(b.text, figures, cache)
            if png:
                cls = "small" if b.text == "water_classes" else ""
                parts.append(f"<img class='{cls}' alt='{e(b.text)}' src='data:image/png;base64,"
                             f"{base64.b64encode(png).decode()}'>")
    parts.append("</body></html>")
    return "".join(parts)


def render_pdf(blocks: list[Block], figures: dict) -> bytes:
    cjk_font_file()  # a clear error when the font is missing
    from weasyprint import HTML

    return HTML(string=render_html(blocks, figures)).write_pdf()
